//! Elementwise maps on f32: the reference's scalar rules, with the op chosen once per
//! tensor instead of once per element (so each arm compiles to its own loop, which LLVM
//! vectorizes), and broadcasting walked a contiguous run at a time instead of an index
//! division per element per axis.

use crate::ops::elementwise::spec::{BinaryOp, UnaryOp};
use crate::reference::elementwise::{binary_scalar, unary_scalar};

/// `op` on every element of `x`.
pub fn unary(x: &[f32], op: UnaryOp) -> Vec<f32> {
    let map = |f: &dyn Fn(f32) -> f32| x.iter().map(|&v| f(v)).collect::<Vec<f32>>();
    match op {
        // The two the convnets lean on get branch-free loops; `max` would be a libm call
        // in wasm (its NaN rule differs from the f32.max instruction's).
        UnaryOp::Relu => x.iter().map(|&v| if v > 0.0 { v } else { 0.0 }).collect(),
        UnaryOp::Step => x.iter().map(|&v| if v > 0.0 { 1.0 } else { 0.0 }).collect(),
        UnaryOp::Neg => x.iter().map(|&v| -v).collect(),
        UnaryOp::Square => x.iter().map(|&v| v * v).collect(),
        UnaryOp::Sqrt => x.iter().map(|&v| v.sqrt()).collect(),
        UnaryOp::Abs => x.iter().map(|&v| v.abs()).collect(),
        UnaryOp::Reciprocal => x.iter().map(|&v| 1.0 / v).collect(),
        UnaryOp::Affine(scale, shift) => {
            let (s, t) = (scale as f32, shift as f32);
            x.iter().map(|&v| v * s + t).collect()
        }
        other => map(&|v| unary_scalar(other, v)),
    }
}

/// One operand's strides (in elements) over the output shape; 0 on broadcast axes.
struct Walk<'a> {
    data: &'a [f32],
    strides: &'a [usize],
}

/// `op(a, b)` broadcast over `out_shape`; strides as `crate::shape::broadcast_strides`.
pub fn binary(a: &[f32], a_strides: &[usize], b: &[f32], b_strides: &[usize], out_shape: &[usize], op: BinaryOp) -> Vec<f32> {
    let n: usize = out_shape.iter().product();
    let mut out = vec![0.0f32; n];
    if n == 0 {
        return out;
    }
    let (a, b) = (Walk { data: a, strides: a_strides }, Walk { data: b, strides: b_strides });
    match op {
        BinaryOp::Add => runs(&mut out, &a, &b, out_shape, |x, y| x + y),
        BinaryOp::Sub => runs(&mut out, &a, &b, out_shape, |x, y| x - y),
        BinaryOp::Mul => runs(&mut out, &a, &b, out_shape, |x, y| x * y),
        BinaryOp::Div => runs(&mut out, &a, &b, out_shape, |x, y| x / y),
        other => runs(&mut out, &a, &b, out_shape, |x, y| binary_scalar(other, x, y)),
    }
    out
}

/// Fill `out` run by run along the last axis: each run is a contiguous, repeated or
/// scalar stretch of each operand, so the inner loop has no index arithmetic.
#[inline(always)]
fn runs(out: &mut [f32], a: &Walk, b: &Walk, shape: &[usize], f: impl Fn(f32, f32) -> f32 + Copy) {
    let rank = shape.len();
    if rank == 0 {
        out[0] = f(a.data[0], b.data[0]);
        return;
    }
    let len = shape[rank - 1];
    let (sa, sb) = (a.strides[rank - 1], b.strides[rank - 1]);
    let mut coord = vec![0usize; rank - 1];
    let (mut ia, mut ib) = (0usize, 0usize);
    for run in out.chunks_exact_mut(len.max(1)) {
        match (sa, sb) {
            (1, 1) => run.iter_mut().zip(&a.data[ia..ia + len]).zip(&b.data[ib..ib + len]).for_each(|((o, &x), &y)| *o = f(x, y)),
            (1, 0) => {
                let y = b.data[ib];
                run.iter_mut().zip(&a.data[ia..ia + len]).for_each(|(o, &x)| *o = f(x, y));
            }
            (0, 1) => {
                let x = a.data[ia];
                run.iter_mut().zip(&b.data[ib..ib + len]).for_each(|(o, &y)| *o = f(x, y));
            }
            _ => run.iter_mut().enumerate().for_each(|(j, o)| *o = f(a.data[ia + j * sa], b.data[ib + j * sb])),
        }
        // Next run: advance the outer coordinates like an odometer.
        for d in (0..rank - 1).rev() {
            coord[d] += 1;
            ia += a.strides[d];
            ib += b.strides[d];
            if coord[d] < shape[d] {
                break;
            }
            ia -= a.strides[d] * shape[d];
            ib -= b.strides[d] * shape[d];
            coord[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::{broadcast_shapes, broadcast_strides};

    #[test]
    fn binary_matches_the_reference_on_broadcasts() {
        let cases: [(&[usize], &[usize]); 6] =
            [(&[2, 3, 4], &[4]), (&[2, 1, 4], &[3, 1]), (&[5], &[]), (&[], &[3, 2]), (&[2, 3], &[2, 3]), (&[3, 1, 2], &[1, 4, 1])];
        for (sa, sb) in cases {
            let out = broadcast_shapes(sa, sb).unwrap();
            let a: Vec<f32> = (0..sa.iter().product::<usize>()).map(|i| i as f32 * 0.5 - 1.0).collect();
            let b: Vec<f32> = (0..sb.iter().product::<usize>()).map(|i| 2.0 - i as f32 * 0.25).collect();
            let (ast, bst) = (broadcast_strides(sa, &out), broadcast_strides(sb, &out));
            for op in [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div, BinaryOp::Maximum, BinaryOp::Greater] {
                let want = crate::reference::elementwise::binary(&a, &ast, &b, &bst, &out, op);
                assert_eq!(binary(&a, &ast, &b, &bst, &out, op), want, "{sa:?} {op:?} {sb:?}");
            }
        }
    }
}
