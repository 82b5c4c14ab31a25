//! Elementwise maps and broadcasting binary ops.

use super::{c, Real};
use crate::ops::elementwise::spec::{BinaryOp, UnaryOp};

pub fn unary_scalar<F: Real>(op: UnaryOp, v: F) -> F {
    let zero = F::zero();
    let one = F::one();
    match op {
        UnaryOp::Neg => -v,
        UnaryOp::Abs => v.abs(),
        UnaryOp::Relu => v.max(zero),
        UnaryOp::Sigmoid => {
            if v >= zero {
                one / (one + (-v).exp())
            } else {
                let e = v.exp();
                e / (one + e)
            }
        }
        UnaryOp::Tanh => v.tanh(),
        UnaryOp::Exp => v.exp(),
        UnaryOp::Log => v.ln(),
        UnaryOp::Sqrt => v.sqrt(),
        UnaryOp::Square => v * v,
        UnaryOp::Reciprocal => one / v,
        UnaryOp::Step => {
            if v > zero {
                one
            } else {
                zero
            }
        }
        UnaryOp::Sign => {
            if v > zero {
                one
            } else if v < zero {
                -one
            } else {
                zero
            }
        }
        UnaryOp::Softplus => v.max(zero) + (one + (-v.abs()).exp()).ln(),
        UnaryOp::Pow(p) => v.powf(c(p)),
        UnaryOp::Clamp(lo, hi) => v.max(c(lo)).min(c(hi)),
        UnaryOp::Affine(scale, shift) => v * c(scale) + c(shift),
    }
}

pub fn binary_scalar<F: Real>(op: BinaryOp, a: F, b: F) -> F {
    let bool_to = |t: bool| if t { F::one() } else { F::zero() };
    match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div => a / b,
        BinaryOp::Pow => a.powf(b),
        BinaryOp::Maximum => a.max(b),
        BinaryOp::Minimum => a.min(b),
        BinaryOp::Greater => bool_to(a > b),
        BinaryOp::Equal => bool_to(a == b),
    }
}

pub fn unary<F: Real>(x: &[F], op: UnaryOp) -> Vec<F> {
    x.iter().map(|&v| unary_scalar(op, v)).collect()
}

/// `out[idx] = a[idx · a_strides] op b[idx · b_strides]` over `out_shape`.
pub fn binary<F: Real>(
    a: &[F],
    a_strides: &[usize],
    b: &[F],
    b_strides: &[usize],
    out_shape: &[usize],
    op: BinaryOp,
) -> Vec<F> {
    let n: usize = out_shape.iter().product();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (mut rest, mut ia, mut ib) = (i, 0, 0);
        for d in (0..out_shape.len()).rev() {
            let coord = rest % out_shape[d];
            rest /= out_shape[d];
            ia += coord * a_strides[d];
            ib += coord * b_strides[d];
        }
        out.push(binary_scalar(op, a[ia], b[ib]));
    }
    out
}
