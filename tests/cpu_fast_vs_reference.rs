//! The fast CPU kernels (crate::cpu: blocked GEMM, im2col, pooling, elementwise maps,
//! reductions) against the CPU reference loops, on randomized shapes: strides,
//! dilation, same/valid padding, odd sizes, batch 1, transposed operands, broadcasts. Both run on `Device::Cpu`; the reference inside
//! `with_reference_kernels`.

mod common;
use common::*;

use convbook::cpu::with_reference_kernels;
use convbook::ops::conv2d::{conv2d_grad_input, conv2d_grad_kernel, conv2d_spec, conv2d_with_spec};
use convbook::ops::conv_transpose2d::{
    conv_transpose2d_grad_input, conv_transpose2d_grad_kernel, conv_transpose2d_spec, conv_transpose2d_with_spec,
};
use convbook::ops::depthwise_conv2d::{
    depthwise_conv2d_grad_input, depthwise_conv2d_grad_kernel, depthwise_conv2d_spec, depthwise_conv2d_with_spec,
};
use convbook::ops::elementwise::{binary, unary, BinaryOp, UnaryOp};
use convbook::ops::geometry::Padding;
use convbook::ops::matmul::matmul_t;
use convbook::ops::pool2d::{pool2d, pool2d_grad_input, pool2d_spec, PoolKind};
use convbook::ops::reduce::{reduce, ReduceOp};
use convbook::{Device, Result, Tensor};
use rand::rngs::SmallRng;
use rand::Rng;

fn cpu(data: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_f32(&Device::Cpu, data.to_vec(), shape).unwrap()
}

fn values(t: &Tensor) -> Vec<f32> {
    block(t.to_f32_vec()).unwrap()
}

/// Run `op` with the fast kernels and with the reference; return (fast, reference).
fn both(op: impl Fn() -> Result<Tensor>) -> (Vec<f32>, Vec<f32>) {
    let fast = op().expect("fast CPU op failed");
    let reference = with_reference_kernels(&op).expect("reference op failed");
    assert_eq!(fast.shape(), reference.shape(), "fast and reference shapes differ");
    (values(&fast), values(&reference))
}

/// Closeness relative to the output's scale: sums of many terms reorder in the GEMM.
fn assert_near(fast: &[f32], reference: &[f32], what: &str) {
    let scale = reference.iter().fold(1f32, |m, v| m.max(v.abs()));
    assert_close(fast, reference, 1e-5, 2e-5 * scale, what);
}

fn padding(r: &mut SmallRng) -> Padding {
    if r.random_bool(0.5) {
        Padding::Same
    } else {
        Padding::Valid
    }
}

#[test]
fn the_reference_scope_really_switches_kernels() {
    // Large sums in a different order differ in the last bits: proof the two paths are
    // distinct code, so the comparisons below compare something. The depth exceeds one
    // GEMM panel, so the fast path sums it in partial sums; a shallower product may
    // run in the reference's exact order.
    let mut r = rng(1);
    let (a, b) = (random_vec(&mut r, 64 * 700, -1.0, 1.0), random_vec(&mut r, 700 * 40, -1.0, 1.0));
    let (fast, reference) = both(|| cpu(&a, &[64, 700]).matmul(&cpu(&b, &[700, 40])));
    assert_ne!(fast, reference);
    assert_near(&fast, &reference, "matmul 64x700x40");
}

#[test]
fn matmul_matches_reference() {
    let mut r = rng(2);
    for case in 0..40 {
        let (m, n, k) = (r.random_range(1..70), r.random_range(1..70), r.random_range(1..300));
        let (ta, tb) = (r.random_bool(0.5), r.random_bool(0.5));
        let batch = r.random_range(1..4);
        let a_batched = r.random_bool(0.7);
        let b_batched = !a_batched || r.random_bool(0.5);
        let shape = |batched: bool, rows: usize, cols: usize| {
            if batched {
                vec![batch, rows, cols]
            } else {
                vec![rows, cols]
            }
        };
        let sa = if ta { shape(a_batched, k, m) } else { shape(a_batched, m, k) };
        let sb = if tb { shape(b_batched, n, k) } else { shape(b_batched, k, n) };
        let ad = random_vec(&mut r, sa.iter().product(), -1.0, 1.0);
        let bd = random_vec(&mut r, sb.iter().product(), -1.0, 1.0);
        let (fast, reference) = both(|| matmul_t(&cpu(&ad, &sa), &cpu(&bd, &sb), ta, tb));
        assert_near(&fast, &reference, &format!("case {case}: matmul {sa:?}{ta} x {sb:?}{tb}"));
    }
}

#[test]
fn conv2d_matches_reference() {
    let mut r = rng(3);
    let mut checked = 0;
    while checked < 40 {
        let (n, h, w) = (r.random_range(1..4), r.random_range(1..17), r.random_range(1..17));
        let (ci, co) = (r.random_range(1..20), r.random_range(1..40));
        let k = [r.random_range(1..6), r.random_range(1..6)];
        let strides = [r.random_range(1..4), r.random_range(1..4)];
        let dilation = if r.random_bool(0.3) { [r.random_range(1..4), r.random_range(1..4)] } else { [1, 1] };
        let xd = random_vec(&mut r, n * h * w * ci, -1.0, 1.0);
        let kd = random_vec(&mut r, k[0] * k[1] * ci * co, -1.0, 1.0);
        let bd = random_vec(&mut r, co, -1.0, 1.0);
        let (x, kernel, bias) = (cpu(&xd, &[n, h, w, ci]), cpu(&kd, &[k[0], k[1], ci, co]), cpu(&bd, &[co]));
        let Ok(spec) = conv2d_spec(&x, &kernel, strides, padding(&mut r), dilation) else {
            continue; // a VALID window larger than the input
        };
        let what = format!("{spec:?}");
        let with_bias = r.random_bool(0.5);
        let (fast, reference) = both(|| conv2d_with_spec(&x, &kernel, with_bias.then_some(&bias), &spec));
        assert_near(&fast, &reference, &format!("forward {what}"));
        let dyd = random_vec(&mut r, fast.len(), -1.0, 1.0);
        let dy = cpu(&dyd, &spec.output_shape().unwrap());
        let (fast, reference) = both(|| conv2d_grad_input(&dy, &kernel, &spec));
        assert_near(&fast, &reference, &format!("input gradient {what}"));
        let (fast, reference) = both(|| conv2d_grad_kernel(&x, &dy, &spec));
        assert_near(&fast, &reference, &format!("kernel gradient {what}"));
        checked += 1;
    }
}

#[test]
fn convolutions_after_larger_ones_ignore_the_reused_im2col_block() {
    // The fast convolutions keep their im2col block between calls; what a larger, earlier
    // call left in it (other values, another row length) must never leak into a result.
    let mut r = rng(11);
    let shapes = [([2, 15, 13, 7], [3, 3, 7, 9], Padding::Same), ([1, 6, 5, 3], [2, 3, 3, 4], Padding::Valid), ([3, 9, 9, 2], [5, 5, 2, 3], Padding::Same)];
    for _round in 0..2 {
        for (xs, ks, pad) in shapes {
            let xd = random_vec(&mut r, xs.iter().product(), -1.0, 1.0);
            let kd = random_vec(&mut r, ks.iter().product(), -1.0, 1.0);
            let (x, kernel) = (cpu(&xd, &xs), cpu(&kd, &ks));
            let spec = conv2d_spec(&x, &kernel, [1, 1], pad, [1, 1]).unwrap();
            let (fast, reference) = both(|| conv2d_with_spec(&x, &kernel, None, &spec));
            assert_near(&fast, &reference, &format!("forward {xs:?} * {ks:?}"));
            let dy = cpu(&random_vec(&mut r, fast.len(), -1.0, 1.0), &spec.output_shape().unwrap());
            let (fast, reference) = both(|| conv2d_grad_input(&dy, &kernel, &spec));
            assert_near(&fast, &reference, &format!("input gradient {xs:?} * {ks:?}"));
            let (fast, reference) = both(|| conv2d_grad_kernel(&x, &dy, &spec));
            assert_near(&fast, &reference, &format!("kernel gradient {xs:?} * {ks:?}"));
        }
    }
}

#[test]
fn pointwise_and_large_convolutions_match_reference() {
    // 1x1 stride 1 skips im2col; the 3x3 case spans several im2col blocks and GEMM panels.
    let mut r = rng(4);
    for (n, h, w, ci, co, k, pad) in [(2, 9, 7, 33, 17, 1, Padding::Same), (1, 5, 5, 3, 9, 1, Padding::Valid), (3, 40, 40, 130, 20, 3, Padding::Same)]
    {
        let xd = random_vec(&mut r, n * h * w * ci, -1.0, 1.0);
        let kd = random_vec(&mut r, k * k * ci * co, -1.0, 1.0);
        let (x, kernel) = (cpu(&xd, &[n, h, w, ci]), cpu(&kd, &[k, k, ci, co]));
        let spec = conv2d_spec(&x, &kernel, [1, 1], pad, [1, 1]).unwrap();
        let what = format!("{spec:?}");
        let (fast, reference) = both(|| conv2d_with_spec(&x, &kernel, None, &spec));
        assert_near(&fast, &reference, &format!("forward {what}"));
        let dy = cpu(&random_vec(&mut r, fast.len(), -1.0, 1.0), &spec.output_shape().unwrap());
        let (fast, reference) = both(|| conv2d_grad_input(&dy, &kernel, &spec));
        assert_near(&fast, &reference, &format!("input gradient {what}"));
        let (fast, reference) = both(|| conv2d_grad_kernel(&x, &dy, &spec));
        assert_near(&fast, &reference, &format!("kernel gradient {what}"));
    }
}

#[test]
fn conv_transpose2d_matches_reference() {
    let mut r = rng(5);
    let mut checked = 0;
    while checked < 30 {
        let (n, h, w) = (r.random_range(1..4), r.random_range(1..10), r.random_range(1..10));
        let (ci, co) = (r.random_range(1..20), r.random_range(1..40));
        let k = [r.random_range(1..5), r.random_range(1..5)];
        let strides = [r.random_range(1..4), r.random_range(1..4)];
        let output_padding =
            r.random_bool(0.4).then(|| [r.random_range(0..strides[0]), r.random_range(0..strides[1])]);
        let xd = random_vec(&mut r, n * h * w * ci, -1.0, 1.0);
        let kd = random_vec(&mut r, k[0] * k[1] * co * ci, -1.0, 1.0);
        let bd = random_vec(&mut r, co, -1.0, 1.0);
        let (x, kernel, bias) = (cpu(&xd, &[n, h, w, ci]), cpu(&kd, &[k[0], k[1], co, ci]), cpu(&bd, &[co]));
        let Ok(spec) = conv_transpose2d_spec(&x, &kernel, strides, padding(&mut r), output_padding) else {
            continue; // an output_padding TensorFlow rejects too
        };
        let what = format!("{spec:?}");
        let with_bias = r.random_bool(0.5);
        let (fast, reference) = both(|| conv_transpose2d_with_spec(&x, &kernel, with_bias.then_some(&bias), &spec));
        assert_near(&fast, &reference, &format!("forward {what}"));
        let dy = cpu(&random_vec(&mut r, fast.len(), -1.0, 1.0), &spec.output_shape().unwrap());
        let (fast, reference) = both(|| conv_transpose2d_grad_input(&dy, &kernel, &spec));
        assert_near(&fast, &reference, &format!("input gradient {what}"));
        let (fast, reference) = both(|| conv_transpose2d_grad_kernel(&x, &dy, &spec));
        assert_near(&fast, &reference, &format!("kernel gradient {what}"));
        checked += 1;
    }
}

#[test]
fn depthwise_conv2d_matches_reference() {
    let mut r = rng(6);
    let mut checked = 0;
    while checked < 30 {
        let (n, h, w) = (r.random_range(1..4), r.random_range(1..14), r.random_range(1..14));
        let (c, mult) = (r.random_range(1..20), if r.random_bool(0.5) { 1 } else { r.random_range(1..4) });
        let k = [r.random_range(1..5), r.random_range(1..5)];
        let strides = [r.random_range(1..3), r.random_range(1..3)];
        let dilation = if r.random_bool(0.3) { [r.random_range(1..3), r.random_range(1..3)] } else { [1, 1] };
        let xd = random_vec(&mut r, n * h * w * c, -1.0, 1.0);
        let kd = random_vec(&mut r, k[0] * k[1] * c * mult, -1.0, 1.0);
        let bd = random_vec(&mut r, c * mult, -1.0, 1.0);
        let (x, kernel, bias) = (cpu(&xd, &[n, h, w, c]), cpu(&kd, &[k[0], k[1], c, mult]), cpu(&bd, &[c * mult]));
        let Ok(spec) = depthwise_conv2d_spec(&x, &kernel, strides, padding(&mut r), dilation) else {
            continue; // a VALID window larger than the input
        };
        let what = format!("{spec:?}");
        let with_bias = r.random_bool(0.5);
        let (fast, reference) = both(|| depthwise_conv2d_with_spec(&x, &kernel, with_bias.then_some(&bias), &spec));
        assert_near(&fast, &reference, &format!("forward {what}"));
        let dy = cpu(&random_vec(&mut r, fast.len(), -1.0, 1.0), &spec.output_shape().unwrap());
        let (fast, reference) = both(|| depthwise_conv2d_grad_input(&dy, &kernel, &spec));
        assert_near(&fast, &reference, &format!("input gradient {what}"));
        let (fast, reference) = both(|| depthwise_conv2d_grad_kernel(&x, &dy, &spec));
        assert_near(&fast, &reference, &format!("kernel gradient {what}"));
        checked += 1;
    }
}

#[test]
fn pool2d_matches_reference_bit_for_bit() {
    // Same window order and tie rule as the reference, so equal to the bit; inputs on a
    // coarse grid make ties common, which the max gradient must route alike.
    let mut r = rng(7);
    let mut checked = 0;
    while checked < 40 {
        let (n, h, w, c) = (r.random_range(1..4), r.random_range(1..15), r.random_range(1..15), r.random_range(1..20));
        let pool = [r.random_range(1..4), r.random_range(1..4)];
        let strides = r.random_bool(0.5).then(|| [r.random_range(1..4), r.random_range(1..4)]);
        let kind = if r.random_bool(0.6) { PoolKind::Max } else { PoolKind::Average };
        let xd: Vec<f32> = random_vec(&mut r, n * h * w * c, -4.0, 4.0).iter().map(|v| v.round()).collect();
        let x = cpu(&xd, &[n, h, w, c]);
        let Ok(spec) = pool2d_spec(&x, kind, pool, strides, padding(&mut r)) else {
            continue; // a VALID window larger than the input
        };
        let (fast, reference) = both(|| pool2d(&x, &spec));
        assert_eq!(fast, reference, "forward {spec:?}");
        let dy = cpu(&random_vec(&mut r, fast.len(), -1.0, 1.0), &spec.output_shape().unwrap());
        let (fast, reference) = both(|| pool2d_grad_input(&x, &dy, &spec));
        assert_eq!(fast, reference, "input gradient {spec:?}");
        checked += 1;
    }
}

#[test]
fn elementwise_matches_reference() {
    let mut r = rng(8);
    let xd = random_vec(&mut r, 1000, -3.0, 3.0);
    let x = cpu(&xd, &[10, 100]);
    let positive = cpu(&xd.iter().map(|v| v.abs() + 0.1).collect::<Vec<_>>(), &[10, 100]);
    let ops = [
        UnaryOp::Neg, UnaryOp::Abs, UnaryOp::Relu, UnaryOp::Sigmoid, UnaryOp::Tanh, UnaryOp::Exp, UnaryOp::Square,
        UnaryOp::Step, UnaryOp::Sign, UnaryOp::Softplus, UnaryOp::Clamp(-0.5, 1.5), UnaryOp::Affine(0.25, -2.0),
    ];
    for op in ops {
        let (fast, reference) = both(|| unary(&x, op));
        assert_close(&fast, &reference, 1e-6, 1e-6, &format!("{op:?}"));
    }
    for op in [UnaryOp::Log, UnaryOp::Sqrt, UnaryOp::Reciprocal, UnaryOp::Pow(1.5)] {
        let (fast, reference) = both(|| unary(&positive, op));
        assert_close(&fast, &reference, 1e-6, 1e-6, &format!("{op:?}"));
    }
    // Random broadcasts: each axis of each operand is the output's size or 1 (or absent).
    for case in 0..40 {
        let rank = r.random_range(0..5);
        let out: Vec<usize> = (0..rank).map(|_| r.random_range(1..6)).collect();
        let operand = |r: &mut SmallRng| -> Vec<usize> {
            let keep = r.random_range(0..=rank);
            out[rank - keep..].iter().map(|&d| if r.random_bool(0.3) { 1 } else { d }).collect()
        };
        let (sa, sb) = (operand(&mut r), operand(&mut r));
        let ad = random_vec(&mut r, sa.iter().product(), -2.0, 2.0);
        let bd: Vec<f32> = random_vec(&mut r, sb.iter().product(), 0.5, 2.0);
        for op in [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div, BinaryOp::Maximum, BinaryOp::Greater] {
            let (fast, reference) = both(|| binary(&cpu(&ad, &sa), &cpu(&bd, &sb), op));
            assert_eq!(fast, reference, "case {case}: {sa:?} {op:?} {sb:?}");
        }
    }
}

#[test]
fn reduce_matches_reference_bit_for_bit() {
    // Same summation order per output as the reference: equal to the bit.
    let mut r = rng(9);
    for case in 0..40 {
        let rank = r.random_range(1..5);
        let shape: Vec<usize> = (0..rank).map(|_| r.random_range(1..9)).collect();
        let axes: Vec<isize> = (0..rank as isize).filter(|_| r.random_bool(0.5)).collect();
        let xd = random_vec(&mut r, shape.iter().product(), -1.0, 1.0);
        let x = cpu(&xd, &shape);
        for op in [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min] {
            let (fast, reference) = both(|| reduce(&x, &axes, false, op));
            assert_eq!(fast, reference, "case {case}: {op:?} of {shape:?} over {axes:?}");
        }
    }
}

#[test]
fn single_channel_convolutions_match_reference() {
    // One input channel (a grayscale first layer): im2col rows of single floats, a
    // GEMM a few taps deep; output channel counts on and off the micro-tile's width.
    let mut r = rng(10);
    let mut checked = 0;
    while checked < 20 {
        let (n, h, w, co) = (r.random_range(1..4), r.random_range(1..20), r.random_range(1..20), r.random_range(1..40));
        let k = [r.random_range(1..6), r.random_range(1..6)];
        let strides = [r.random_range(1..3), r.random_range(1..3)];
        let dilation = if r.random_bool(0.3) { [r.random_range(1..3), r.random_range(1..3)] } else { [1, 1] };
        let x = cpu(&random_vec(&mut r, n * h * w, 0.0, 1.0), &[n, h, w, 1]);
        let kernel = cpu(&random_vec(&mut r, k[0] * k[1] * co, -1.0, 1.0), &[k[0], k[1], 1, co]);
        let bias = cpu(&random_vec(&mut r, co, -1.0, 1.0), &[co]);
        let Ok(spec) = conv2d_spec(&x, &kernel, strides, padding(&mut r), dilation) else {
            continue; // a VALID window larger than the input
        };
        let with_bias = r.random_bool(0.5);
        let (fast, reference) = both(|| conv2d_with_spec(&x, &kernel, with_bias.then_some(&bias), &spec));
        assert_near(&fast, &reference, &format!("forward {spec:?}"));
        checked += 1;
    }
}
