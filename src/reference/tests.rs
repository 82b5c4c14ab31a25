//! Tests of the CPU references of the convolution family, pooling and batch norm:
//! 1. finite-difference checks (f64, central differences) of every gradient on randomized
//!    small configurations;
//! 2. parity (f32, relative error <= 1e-4) with Keras-generated fixtures
//!    (tests/fixtures/conv_family/make_fixtures.py): forward outputs and all gradients;
//! 3. invalid configurations are errors naming the op and the shapes.

use crate::ops::batch_norm::BatchNormSpec;
use crate::ops::conv2d::Conv2dSpec;
use crate::ops::conv_transpose2d::ConvTranspose2dSpec;
use crate::ops::depthwise_conv2d::DepthwiseConv2dSpec;
use crate::ops::geometry::Padding;
use crate::ops::pool2d::{GlobalPool2dSpec, Pool2dSpec, PoolKind};
use crate::reference::batch_norm::{
    batch_norm_inference, batch_norm_inference_grad, batch_norm_train, batch_norm_train_grad,
};
use crate::reference::conv2d::{conv2d, conv2d_grad_bias, conv2d_grad_input, conv2d_grad_kernel};
use crate::reference::conv_transpose2d::{
    conv_transpose2d, conv_transpose2d_grad_bias, conv_transpose2d_grad_input, conv_transpose2d_grad_kernel,
};
use crate::reference::depthwise_conv2d::{
    depthwise_conv2d, depthwise_conv2d_grad_bias, depthwise_conv2d_grad_input, depthwise_conv2d_grad_kernel,
};
use crate::reference::pool2d::{global_average_pool2d, global_average_pool2d_grad_input, pool2d, pool2d_grad_input};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;

// The Keras-fixture readers are shared with the integration tests in tests/.
#[allow(dead_code)]
#[path = "../../tests/common/keras.rs"]
mod keras;
use keras::{cfg_opt_pair, cfg_pair, cfg_usize};

// ------------------------------------------------------------------ helpers

fn rng(seed: u64) -> SmallRng {
    SmallRng::seed_from_u64(seed)
}

fn randn(r: &mut SmallRng, n: usize) -> Vec<f64> {
    (0..n).map(|_| r.random_range(-1.0..1.0)).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn numel(s: &[usize]) -> usize {
    s.iter().product()
}

/// Central-difference check of `grad` = d/d`arg` of `sum(forward(arg) * proj)`.
fn fd_check(what: &str, arg: &[f64], proj: &[f64], grad: &[f64], forward: impl Fn(&[f64]) -> Vec<f64>) {
    assert_eq!(arg.len(), grad.len(), "{what}: gradient length");
    let eps = 1e-6;
    let mut fd = Vec::with_capacity(arg.len());
    let mut p = arg.to_vec();
    for j in 0..arg.len() {
        p[j] = arg[j] + eps;
        let up = dot(&forward(&p), proj);
        p[j] = arg[j] - eps;
        let down = dot(&forward(&p), proj);
        p[j] = arg[j];
        fd.push((up - down) / (2.0 * eps));
    }
    let scale = grad.iter().chain(&fd).fold(1.0f64, |m, v| m.max(v.abs()));
    for j in 0..arg.len() {
        let err = (fd[j] - grad[j]).abs() / scale;
        assert!(
            err < 1e-6,
            "{what}: element {j}: analytic {} vs finite difference {} (rel. err {err:e})",
            grad[j],
            fd[j]
        );
    }
}

fn padding(r: &mut SmallRng) -> Padding {
    if r.random_bool(0.5) {
        Padding::Same
    } else {
        Padding::Valid
    }
}

fn pair(r: &mut SmallRng, lo: usize, hi: usize) -> [usize; 2] {
    [r.random_range(lo..=hi), r.random_range(lo..=hi)]
}

/// An input size that a "valid" window of extent `k_eff` fits in.
fn input_size(r: &mut SmallRng, k_eff: usize) -> usize {
    k_eff + r.random_range(0..=4)
}

// ------------------------------------------------------------------ finite differences

#[test]
fn conv2d_gradients_match_finite_differences() {
    let mut r = rng(11);
    for case in 0..8 {
        let kernel = pair(&mut r, 1, 3);
        let dilation = if case % 3 == 2 { pair(&mut r, 1, 3) } else { [1, 1] };
        let strides = pair(&mut r, 1, 3);
        let eff = |a: usize| (kernel[a] - 1) * dilation[a] + 1;
        let s = Conv2dSpec {
            batch: r.random_range(1..=2),
            in_h: input_size(&mut r, eff(0)),
            in_w: input_size(&mut r, eff(1)),
            in_channels: r.random_range(1..=3),
            out_channels: r.random_range(1..=3),
            kernel,
            strides,
            dilation,
            padding: padding(&mut r),
        };
        let x = randn(&mut r, numel(&s.input_shape()));
        let w = randn(&mut r, numel(&s.kernel_shape()));
        let b = randn(&mut r, s.out_channels);
        let proj = randn(&mut r, numel(&s.output_shape().unwrap()));
        let what = format!("conv2d {s:?}");
        let gx = conv2d_grad_input(&proj, &w, &s).unwrap();
        fd_check(&format!("{what} d/dx"), &x, &proj, &gx, |x| conv2d(x, &w, Some(&b), &s).unwrap());
        let gw = conv2d_grad_kernel(&x, &proj, &s).unwrap();
        fd_check(&format!("{what} d/dkernel"), &w, &proj, &gw, |w| conv2d(&x, w, Some(&b), &s).unwrap());
        let gb = conv2d_grad_bias(&proj, &s).unwrap();
        fd_check(&format!("{what} d/dbias"), &b, &proj, &gb, |b| conv2d(&x, &w, Some(b), &s).unwrap());
    }
}

#[test]
fn conv_transpose2d_gradients_match_finite_differences() {
    let mut r = rng(12);
    let mut done = 0;
    while done < 8 {
        let strides = pair(&mut r, 1, 3);
        let output_padding = if r.random_bool(0.5) {
            Some([r.random_range(0..strides[0]), r.random_range(0..strides[1])])
        } else {
            None
        };
        let s = ConvTranspose2dSpec {
            batch: r.random_range(1..=2),
            in_h: r.random_range(1..=4),
            in_w: r.random_range(1..=4),
            in_channels: r.random_range(1..=3),
            out_channels: r.random_range(1..=3),
            kernel: pair(&mut r, 1, 4),
            strides,
            padding: padding(&mut r),
            output_padding,
            dilation: [1, 1],
        };
        // Some SAME + output_padding combinations are invalid, as in TensorFlow.
        let Ok(out_shape) = s.output_shape() else { continue };
        done += 1;
        let x = randn(&mut r, numel(&s.input_shape()));
        let w = randn(&mut r, numel(&s.kernel_shape()));
        let b = randn(&mut r, s.out_channels);
        let proj = randn(&mut r, numel(&out_shape));
        let what = format!("conv_transpose2d {s:?}");
        let gx = conv_transpose2d_grad_input(&proj, &w, &s).unwrap();
        fd_check(&format!("{what} d/dx"), &x, &proj, &gx, |x| conv_transpose2d(x, &w, Some(&b), &s).unwrap());
        let gw = conv_transpose2d_grad_kernel(&x, &proj, &s).unwrap();
        fd_check(&format!("{what} d/dkernel"), &w, &proj, &gw, |w| conv_transpose2d(&x, w, Some(&b), &s).unwrap());
        let gb = conv_transpose2d_grad_bias(&proj, &s).unwrap();
        fd_check(&format!("{what} d/dbias"), &b, &proj, &gb, |b| conv_transpose2d(&x, &w, Some(b), &s).unwrap());
    }
}

#[test]
fn depthwise_conv2d_gradients_match_finite_differences() {
    let mut r = rng(13);
    for case in 0..8 {
        let kernel = pair(&mut r, 1, 3);
        let dilation = if case % 2 == 1 { pair(&mut r, 1, 3) } else { [1, 1] };
        let eff = |a: usize| (kernel[a] - 1) * dilation[a] + 1;
        let s = DepthwiseConv2dSpec {
            batch: r.random_range(1..=2),
            in_h: input_size(&mut r, eff(0)),
            in_w: input_size(&mut r, eff(1)),
            in_channels: r.random_range(1..=3),
            depth_multiplier: r.random_range(1..=3),
            kernel,
            strides: pair(&mut r, 1, 3),
            dilation,
            padding: padding(&mut r),
        };
        let x = randn(&mut r, numel(&s.input_shape()));
        let w = randn(&mut r, numel(&s.kernel_shape()));
        let b = randn(&mut r, s.out_channels());
        let proj = randn(&mut r, numel(&s.output_shape().unwrap()));
        let what = format!("depthwise_conv2d {s:?}");
        let gx = depthwise_conv2d_grad_input(&proj, &w, &s).unwrap();
        fd_check(&format!("{what} d/dx"), &x, &proj, &gx, |x| depthwise_conv2d(x, &w, Some(&b), &s).unwrap());
        let gw = depthwise_conv2d_grad_kernel(&x, &proj, &s).unwrap();
        fd_check(&format!("{what} d/dkernel"), &w, &proj, &gw, |w| depthwise_conv2d(&x, w, Some(&b), &s).unwrap());
        let gb = depthwise_conv2d_grad_bias(&proj, &s).unwrap();
        fd_check(&format!("{what} d/dbias"), &b, &proj, &gb, |b| depthwise_conv2d(&x, &w, Some(b), &s).unwrap());
    }
}

#[test]
fn pool2d_gradients_match_finite_differences() {
    let mut r = rng(14);
    for case in 0..16 {
        let pool = pair(&mut r, 1, 3);
        let s = Pool2dSpec {
            kind: if case % 2 == 0 { PoolKind::Max } else { PoolKind::Average },
            batch: r.random_range(1..=2),
            in_h: input_size(&mut r, pool[0]),
            in_w: input_size(&mut r, pool[1]),
            channels: r.random_range(1..=3),
            pool,
            strides: if r.random_bool(0.5) { Some(pair(&mut r, 1, 3)) } else { None },
            padding: padding(&mut r),
        };
        // Distinct values at least 0.09 apart, so a 1e-6 step never changes a maximum.
        let n = numel(&s.input_shape());
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut r);
        let x: Vec<f64> = order.iter().map(|&k| k as f64 * 0.1 + r.random_range(0.0..0.01)).collect();
        let proj = randn(&mut r, numel(&s.output_shape().unwrap()));
        let gx = pool2d_grad_input(&x, &proj, &s).unwrap();
        fd_check(&format!("pool2d {s:?} d/dx"), &x, &proj, &gx, |x| pool2d(x, &s).unwrap());
    }
    for _ in 0..4 {
        let s = GlobalPool2dSpec {
            batch: r.random_range(1..=2),
            in_h: r.random_range(1..=4),
            in_w: r.random_range(1..=4),
            channels: r.random_range(1..=3),
        };
        let x = randn(&mut r, numel(&s.input_shape()));
        let proj = randn(&mut r, s.batch * s.channels);
        let gx = global_average_pool2d_grad_input(&proj, &s).unwrap();
        fd_check(&format!("global_average_pool2d {s:?} d/dx"), &x, &proj, &gx, |x| {
            global_average_pool2d(x, &s).unwrap()
        });
    }
}

#[test]
fn batch_norm_gradients_match_finite_differences() {
    let mut r = rng(15);
    for case in 0..8 {
        let s = BatchNormSpec {
            rows: r.random_range(2..=12),
            channels: r.random_range(1..=3),
            epsilon: [1e-3, 1e-5, 0.1][case % 3],
            momentum: 0.99,
        };
        let (center, scale) = (case % 4 != 1, case % 4 != 2);
        let x: Vec<f64> = randn(&mut r, s.rows * s.channels).iter().map(|v| 2.0 * v + 0.5).collect();
        let gamma: Vec<f64> = randn(&mut r, s.channels).iter().map(|v| 1.0 + 0.5 * v).collect();
        let beta = randn(&mut r, s.channels);
        let mm = randn(&mut r, s.channels);
        let mv: Vec<f64> = randn(&mut r, s.channels).iter().map(|v| 1.0 + 0.5 * v).collect();
        let proj = randn(&mut r, s.rows * s.channels);
        // Absent gamma/beta act as gamma = 1, beta = 0; their gradients are still returned,
        // as the gradients at those values, so the finite differences perturb them there.
        let gamma = if scale { gamma } else { vec![1.0; s.channels] };
        let beta = if center { beta } else { vec![0.0; s.channels] };
        let (g_opt, b_opt) = (scale.then_some(&gamma[..]), center.then_some(&beta[..]));
        let what = format!("batch_norm {s:?} center {center} scale {scale}");

        let train =
            |x: &[f64], g: Option<&[f64]>, b: Option<&[f64]>| batch_norm_train(x, g, b, &mm, &mv, &s).unwrap().y;
        let grads = batch_norm_train_grad(&x, g_opt, &proj, &s).unwrap();
        fd_check(&format!("{what} train d/dx"), &x, &proj, &grads.input, |x| train(x, g_opt, b_opt));
        fd_check(&format!("{what} train d/dgamma"), &gamma, &proj, &grads.gamma, |g| train(&x, Some(g), b_opt));
        fd_check(&format!("{what} train d/dbeta"), &beta, &proj, &grads.beta, |b| train(&x, g_opt, Some(b)));

        let infer =
            |x: &[f64], g: Option<&[f64]>, b: Option<&[f64]>| batch_norm_inference(x, g, b, &mm, &mv, &s).unwrap();
        let grads = batch_norm_inference_grad(&x, g_opt, &mm, &mv, &proj, &s).unwrap();
        fd_check(&format!("{what} inference d/dx"), &x, &proj, &grads.input, |x| infer(x, g_opt, b_opt));
        fd_check(&format!("{what} inference d/dgamma"), &gamma, &proj, &grads.gamma, |g| infer(&x, Some(g), b_opt));
        fd_check(&format!("{what} inference d/dbeta"), &beta, &proj, &grads.beta, |b| infer(&x, g_opt, Some(b)));
    }
}

// ------------------------------------------------------------------ identities and details

/// conv2d's input gradient is the transposed convolution of dy with the same kernel
/// (HWIO (kh, kw, in, out) read as Conv2DTranspose's (kh, kw, out, in)).
#[test]
fn conv2d_input_gradient_is_conv_transpose2d() {
    let mut r = rng(16);
    for (k, st, pad, in_hw) in
        [(3, 2, Padding::Valid, 9), (3, 2, Padding::Same, 8), (4, 3, Padding::Same, 7), (2, 1, Padding::Valid, 5)]
    {
        let s = Conv2dSpec {
            batch: 2,
            in_h: in_hw,
            in_w: in_hw,
            in_channels: 3,
            out_channels: 2,
            kernel: [k, k],
            strides: [st, st],
            dilation: [1, 1],
            padding: pad,
        };
        let out = s.output_shape().unwrap();
        // The output_padding that makes the transposed output as large as the conv input.
        let base = conv_transpose2d_len(out[1], k, st, pad);
        let op = in_hw - base;
        let t = ConvTranspose2dSpec {
            batch: 2,
            in_h: out[1],
            in_w: out[2],
            in_channels: 2,
            out_channels: 3,
            kernel: [k, k],
            strides: [st, st],
            padding: pad,
            output_padding: Some([op, op]),
            dilation: [1, 1],
        };
        assert_eq!(t.output_shape().unwrap(), s.input_shape());
        let w = randn(&mut r, numel(&s.kernel_shape()));
        let dy = randn(&mut r, numel(&out));
        let a = conv2d_grad_input(&dy, &w, &s).unwrap();
        let b = conv_transpose2d(&dy, &w, None, &t).unwrap();
        for (u, v) in a.iter().zip(&b) {
            assert!((u - v).abs() < 1e-12, "{s:?}: {u} vs {v}");
        }
    }
}

fn conv_transpose2d_len(input: usize, k: usize, st: usize, pad: Padding) -> usize {
    match pad {
        Padding::Valid => (input - 1) * st + k,
        Padding::Same => (input - 1) * st + k % 2,
    }
}

#[test]
fn max_pool_gradient_goes_to_first_maximum_in_row_major_order() {
    // Same input as make_fixtures.py's check_max_pool_ties (TensorFlow's result).
    let x: Vec<f32> = vec![1., 3., 3., 0., 3., 1., 0., 3., 2., 2., 5., 5., 2., 2., 5., 5.];
    let s = Pool2dSpec {
        kind: PoolKind::Max,
        batch: 1,
        in_h: 4,
        in_w: 4,
        channels: 1,
        pool: [2, 2],
        strides: None,
        padding: Padding::Valid,
    };
    assert_eq!(pool2d(&x, &s).unwrap(), vec![3., 3., 2., 5.]);
    let g = pool2d_grad_input(&x, &[1.0; 4], &s).unwrap();
    assert_eq!(g, vec![0., 1., 1., 0., 0., 0., 0., 0., 1., 0., 1., 0., 0., 0., 0., 0.]);
}

#[test]
fn same_average_pool_divides_by_in_bounds_count() {
    // 3x3 input of ones plus one 5: pool 2, stride 2, SAME -> out 2x2, pad after only.
    let x: Vec<f64> = vec![1., 1., 1., 1., 1., 1., 1., 1., 5.];
    let s = Pool2dSpec {
        kind: PoolKind::Average,
        batch: 1,
        in_h: 3,
        in_w: 3,
        channels: 1,
        pool: [2, 2],
        strides: None,
        padding: Padding::Same,
    };
    assert_eq!(pool2d(&x, &s).unwrap(), vec![1., 1., 1., 5.]);
}

#[test]
fn batch_norm_moving_statistics_use_biased_variance() {
    let x: Vec<f64> = vec![1., 10., 2., 20., 3., 30., 6., 40.];
    let s = BatchNormSpec { rows: 4, channels: 2, epsilon: 1e-3, momentum: 0.9 };
    let out = batch_norm_train(&x, None, None, &[0.0, 1.0], &[1.0, 2.0], &s).unwrap();
    assert_eq!(out.batch_mean, vec![3.0, 25.0]);
    assert_eq!(out.batch_variance, vec![3.5, 125.0]);
    let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(u, v)| (u - v).abs() < 1e-12);
    assert!(close(&out.moving_mean, &[0.3, 3.4]), "{:?}", out.moving_mean);
    assert!(close(&out.moving_variance, &[1.25, 14.3]), "{:?}", out.moving_variance);
}

// ------------------------------------------------------------------ errors

fn err_text<T: std::fmt::Debug>(r: crate::Result<T>) -> String {
    r.expect_err("expected an error").to_string()
}

#[test]
fn invalid_configurations_are_errors_naming_op_and_shapes() {
    let conv = Conv2dSpec {
        batch: 1,
        in_h: 2,
        in_w: 5,
        in_channels: 3,
        out_channels: 4,
        kernel: [3, 3],
        strides: [1, 1],
        dilation: [1, 1],
        padding: Padding::Valid,
    };
    let e = err_text(conv2d(&[0.0f32; 30], &[0.0; 108], None, &conv));
    assert!(e.contains("conv2d") && e.contains("(1, 2, 5, 3)") && e.contains("(3, 3, 3, 4)"), "{e}");
    let ok = Conv2dSpec { in_h: 5, ..conv };
    let e = err_text(conv2d(&[0.0f32; 10], &[0.0; 108], None, &ok));
    assert!(e.contains("conv2d") && e.contains("input") && e.contains("(1, 5, 5, 3)"), "{e}");
    let e = err_text(conv2d(&[0.0f32; 75], &[0.0; 108], Some(&[0.0; 3]), &ok));
    assert!(e.contains("bias"), "{e}");
    let e = err_text(conv2d(&[0.0f32; 75], &[0.0; 108], None, &Conv2dSpec { strides: [0, 1], ..ok }));
    assert!(e.contains("stride"), "{e}");

    let t = ConvTranspose2dSpec {
        batch: 1,
        in_h: 3,
        in_w: 3,
        in_channels: 2,
        out_channels: 1,
        kernel: [3, 3],
        strides: [2, 2],
        padding: Padding::Same,
        output_padding: Some([2, 0]),
        dilation: [1, 1],
    };
    let e = err_text(t.output_shape());
    assert!(e.contains("conv_transpose2d") && e.contains("output_padding") && e.contains("(1, 3, 3, 2)"), "{e}");
    let e = err_text(ConvTranspose2dSpec { output_padding: None, dilation: [2, 2], ..t }.output_shape());
    assert!(e.contains("dilation"), "{e}");
    // TensorFlow rejects this one too (see conv_transpose2d.json's expect_error cases).
    let e = err_text(
        ConvTranspose2dSpec { kernel: [2, 2], strides: [1, 1], output_padding: Some([0, 0]), ..t }.output_shape(),
    );
    assert!(e.contains("does not map back"), "{e}");

    let d = DepthwiseConv2dSpec {
        batch: 1,
        in_h: 4,
        in_w: 4,
        in_channels: 2,
        depth_multiplier: 0,
        kernel: [3, 3],
        strides: [1, 1],
        dilation: [1, 1],
        padding: Padding::Same,
    };
    let e = err_text(depthwise_conv2d(&[0.0f32; 32], &[], None, &d));
    assert!(e.contains("depthwise_conv2d") && e.contains("depth_multiplier"), "{e}");

    let p = Pool2dSpec {
        kind: PoolKind::Max,
        batch: 1,
        in_h: 2,
        in_w: 2,
        channels: 1,
        pool: [3, 3],
        strides: None,
        padding: Padding::Valid,
    };
    let e = err_text(pool2d(&[0.0f32; 4], &p));
    assert!(e.contains("max_pool2d") && e.contains("(1, 2, 2, 1)"), "{e}");
    let e = err_text(pool2d_grad_input(&[0.0f32; 4], &[0.0; 2], &Pool2dSpec { pool: [2, 2], ..p }));
    assert!(e.contains("pool2d_grad_input") && e.contains("output gradient"), "{e}");

    let bn = BatchNormSpec::keras(0, 3);
    let e = err_text(batch_norm_train(&[0.0f32; 0], None, None, &[0.0; 3], &[1.0; 3], &bn));
    assert!(e.contains("batch_norm_train") && e.contains("rows 0"), "{e}");
    let e = err_text(batch_norm_inference(
        &[0.0f32; 6],
        Some(&[1.0; 2]),
        None,
        &[0.0; 3],
        &[1.0; 3],
        &BatchNormSpec::keras(2, 3),
    ));
    assert!(e.contains("batch_norm_inference") && e.contains("gamma"), "{e}");
}

// ------------------------------------------------------------------ Keras fixtures

fn load(name: &str) -> Value {
    keras::load("conv_family", name)
}

/// Flat f32 data of an array field, checking its shape.
fn arr(case: &Value, key: &str, shape: &[usize]) -> Vec<f32> {
    let (data, got) = keras::arr(case, key);
    assert_eq!(got, shape, "{}: shape of {key}", case["name"]);
    data
}

fn opt_arr(case: &Value, key: &str, shape: &[usize]) -> Option<Vec<f32>> {
    case.get(key).map(|_| arr(case, key, shape))
}

fn cfg_padding(case: &Value) -> Padding {
    Padding::parse(case["config"]["padding"].as_str().unwrap()).unwrap()
}

/// Tracks the worst relative error per op.
struct Parity {
    op: &'static str,
    worst: f64,
    cases: usize,
}

impl Parity {
    fn new(op: &'static str) -> Self {
        Parity { op, worst: 0.0, cases: 0 }
    }

    /// max|got - want| / max|want| <= 1e-4 (relative to the array's scale).
    fn check(&mut self, case: &Value, what: &str, got: &[f32], want: &[f32]) {
        let worst = keras::check(case, what, got, want, 1e-4);
        self.worst = self.worst.max(worst);
    }

    fn done(&mut self) {
        self.cases += 1;
    }

    fn report(&self, min_cases: usize) {
        println!("{}: {} Keras cases, worst relative error {:e}", self.op, self.cases, self.worst);
        assert!(self.cases >= min_cases, "{}: only {} fixture cases", self.op, self.cases);
    }
}

#[test]
fn conv2d_matches_keras() {
    let doc = load("conv2d.json");
    let mut parity = Parity::new("conv2d");
    for case in doc["cases"].as_array().unwrap() {
        let s = Conv2dSpec {
            batch: cfg_usize(case, "batch"),
            in_h: cfg_usize(case, "in_h"),
            in_w: cfg_usize(case, "in_w"),
            in_channels: cfg_usize(case, "in_channels"),
            out_channels: cfg_usize(case, "out_channels"),
            kernel: cfg_pair(case, "kernel"),
            strides: cfg_pair(case, "strides"),
            dilation: cfg_pair(case, "dilation"),
            padding: cfg_padding(case),
        };
        let out = s.output_shape().unwrap();
        let x = arr(case, "x", &s.input_shape());
        let w = arr(case, "kernel", &s.kernel_shape());
        let b = opt_arr(case, "bias", &[s.out_channels]);
        let proj = arr(case, "proj", &out);
        parity.check(case, "y", &conv2d(&x, &w, b.as_deref(), &s).unwrap(), &arr(case, "y", &out));
        parity.check(
            case,
            "grad_x",
            &conv2d_grad_input(&proj, &w, &s).unwrap(),
            &arr(case, "grad_x", &s.input_shape()),
        );
        parity.check(
            case,
            "grad_kernel",
            &conv2d_grad_kernel(&x, &proj, &s).unwrap(),
            &arr(case, "grad_kernel", &s.kernel_shape()),
        );
        if let Some(gb) = opt_arr(case, "grad_bias", &[s.out_channels]) {
            parity.check(case, "grad_bias", &conv2d_grad_bias(&proj, &s).unwrap(), &gb);
        }
        parity.done();
    }
    parity.report(20);
}

#[test]
fn conv_transpose2d_matches_keras() {
    let doc = load("conv_transpose2d.json");
    let mut parity = Parity::new("conv_transpose2d");
    let mut rejected = 0;
    for case in doc["cases"].as_array().unwrap() {
        let s = ConvTranspose2dSpec {
            batch: cfg_usize(case, "batch"),
            in_h: cfg_usize(case, "in_h"),
            in_w: cfg_usize(case, "in_w"),
            in_channels: cfg_usize(case, "in_channels"),
            out_channels: cfg_usize(case, "out_channels"),
            kernel: cfg_pair(case, "kernel"),
            strides: cfg_pair(case, "strides"),
            padding: cfg_padding(case),
            output_padding: cfg_opt_pair(case, "output_padding"),
            dilation: [1, 1],
        };
        if case["expect_error"].as_bool() == Some(true) {
            assert!(s.output_shape().is_err(), "{}: Keras rejects {s:?}, the reference accepts it", case["name"]);
            rejected += 1;
            continue;
        }
        let out = s.output_shape().unwrap();
        let x = arr(case, "x", &s.input_shape());
        let w = arr(case, "kernel", &s.kernel_shape());
        let b = opt_arr(case, "bias", &[s.out_channels]);
        let proj = arr(case, "proj", &out);
        parity.check(case, "y", &conv_transpose2d(&x, &w, b.as_deref(), &s).unwrap(), &arr(case, "y", &out));
        parity.check(
            case,
            "grad_x",
            &conv_transpose2d_grad_input(&proj, &w, &s).unwrap(),
            &arr(case, "grad_x", &s.input_shape()),
        );
        parity.check(
            case,
            "grad_kernel",
            &conv_transpose2d_grad_kernel(&x, &proj, &s).unwrap(),
            &arr(case, "grad_kernel", &s.kernel_shape()),
        );
        if let Some(gb) = opt_arr(case, "grad_bias", &[s.out_channels]) {
            parity.check(case, "grad_bias", &conv_transpose2d_grad_bias(&proj, &s).unwrap(), &gb);
        }
        parity.done();
    }
    println!("conv_transpose2d: {rejected} configurations rejected by both Keras and the reference");
    assert!(rejected >= 2);
    parity.report(20);
}

#[test]
fn depthwise_conv2d_matches_keras() {
    let doc = load("depthwise_conv2d.json");
    let mut parity = Parity::new("depthwise_conv2d");
    for case in doc["cases"].as_array().unwrap() {
        let s = DepthwiseConv2dSpec {
            batch: cfg_usize(case, "batch"),
            in_h: cfg_usize(case, "in_h"),
            in_w: cfg_usize(case, "in_w"),
            in_channels: cfg_usize(case, "in_channels"),
            depth_multiplier: cfg_usize(case, "depth_multiplier"),
            kernel: cfg_pair(case, "kernel"),
            strides: cfg_pair(case, "strides"),
            dilation: cfg_pair(case, "dilation"),
            padding: cfg_padding(case),
        };
        let out = s.output_shape().unwrap();
        let x = arr(case, "x", &s.input_shape());
        let w = arr(case, "kernel", &s.kernel_shape());
        let b = opt_arr(case, "bias", &[s.out_channels()]);
        let proj = arr(case, "proj", &out);
        parity.check(case, "y", &depthwise_conv2d(&x, &w, b.as_deref(), &s).unwrap(), &arr(case, "y", &out));
        parity.check(
            case,
            "grad_x",
            &depthwise_conv2d_grad_input(&proj, &w, &s).unwrap(),
            &arr(case, "grad_x", &s.input_shape()),
        );
        parity.check(
            case,
            "grad_kernel",
            &depthwise_conv2d_grad_kernel(&x, &proj, &s).unwrap(),
            &arr(case, "grad_kernel", &s.kernel_shape()),
        );
        if let Some(gb) = opt_arr(case, "grad_bias", &[s.out_channels()]) {
            parity.check(case, "grad_bias", &depthwise_conv2d_grad_bias(&proj, &s).unwrap(), &gb);
        }
        parity.done();
    }
    parity.report(20);
}

#[test]
fn pool2d_matches_keras() {
    let doc = load("pool2d.json");
    let mut max = Parity::new("max_pool2d");
    let mut avg = Parity::new("average_pool2d");
    let mut global = Parity::new("global_average_pool2d");
    let mut ties = 0;
    for case in doc["cases"].as_array().unwrap() {
        let kind = case["config"]["kind"].as_str().unwrap();
        if kind == "global_average" {
            let s = GlobalPool2dSpec {
                batch: cfg_usize(case, "batch"),
                in_h: cfg_usize(case, "in_h"),
                in_w: cfg_usize(case, "in_w"),
                channels: cfg_usize(case, "channels"),
            };
            let x = arr(case, "x", &s.input_shape());
            let proj = arr(case, "proj", &[s.batch, s.channels]);
            global.check(case, "y", &global_average_pool2d(&x, &s).unwrap(), &arr(case, "y", &[s.batch, s.channels]));
            global.check(
                case,
                "grad_x",
                &global_average_pool2d_grad_input(&proj, &s).unwrap(),
                &arr(case, "grad_x", &s.input_shape()),
            );
            global.done();
            continue;
        }
        let s = Pool2dSpec {
            kind: if kind == "max" { PoolKind::Max } else { PoolKind::Average },
            batch: cfg_usize(case, "batch"),
            in_h: cfg_usize(case, "in_h"),
            in_w: cfg_usize(case, "in_w"),
            channels: cfg_usize(case, "channels"),
            pool: cfg_pair(case, "pool"),
            strides: cfg_opt_pair(case, "strides"),
            padding: cfg_padding(case),
        };
        let out = s.output_shape().unwrap();
        let x = arr(case, "x", &s.input_shape());
        let proj = arr(case, "proj", &out);
        let parity = if s.kind == PoolKind::Max { &mut max } else { &mut avg };
        parity.check(case, "y", &pool2d(&x, &s).unwrap(), &arr(case, "y", &out));
        parity.check(
            case,
            "grad_x",
            &pool2d_grad_input(&x, &proj, &s).unwrap(),
            &arr(case, "grad_x", &s.input_shape()),
        );
        parity.done();
        if s.kind == PoolKind::Max && case["config"]["ties"].as_bool() == Some(true) {
            ties += 1;
        }
    }
    println!("max_pool2d: {ties} cases with tied maxima");
    assert!(ties >= 5);
    max.report(20);
    avg.report(20);
    global.report(5);
}

#[test]
fn batch_norm_matches_keras() {
    let doc = load("batch_norm.json");
    let mut parity = Parity::new("batch_norm");
    let (mut train, mut infer) = (0, 0);
    for case in doc["cases"].as_array().unwrap() {
        let cfg = &case["config"];
        let shape: Vec<usize> = cfg["shape"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        let channels = *shape.last().unwrap();
        let s = BatchNormSpec {
            rows: numel(&shape) / channels,
            channels,
            epsilon: cfg["epsilon"].as_f64().unwrap(),
            momentum: cfg["momentum"].as_f64().unwrap(),
        };
        let c = [channels];
        let x = arr(case, "x", &shape);
        let gamma = opt_arr(case, "gamma", &c);
        let beta = opt_arr(case, "beta", &c);
        assert_eq!(gamma.is_some(), cfg["scale"].as_bool().unwrap());
        assert_eq!(beta.is_some(), cfg["center"].as_bool().unwrap());
        let mm = arr(case, "moving_mean", &c);
        let mv = arr(case, "moving_variance", &c);
        let proj = arr(case, "proj", &shape);
        let (y, grads) = if cfg["training"].as_bool().unwrap() {
            train += 1;
            let out = batch_norm_train(&x, gamma.as_deref(), beta.as_deref(), &mm, &mv, &s).unwrap();
            parity.check(case, "moving_mean", &out.moving_mean, &arr(case, "moving_mean_after", &c));
            parity.check(case, "moving_variance", &out.moving_variance, &arr(case, "moving_variance_after", &c));
            (out.y, batch_norm_train_grad(&x, gamma.as_deref(), &proj, &s).unwrap())
        } else {
            infer += 1;
            assert_eq!(arr(case, "moving_mean_after", &c), mm);
            assert_eq!(arr(case, "moving_variance_after", &c), mv);
            let y = batch_norm_inference(&x, gamma.as_deref(), beta.as_deref(), &mm, &mv, &s).unwrap();
            (y, batch_norm_inference_grad(&x, gamma.as_deref(), &mm, &mv, &proj, &s).unwrap())
        };
        parity.check(case, "y", &y, &arr(case, "y", &shape));
        parity.check(case, "grad_x", &grads.input, &arr(case, "grad_x", &shape));
        if let Some(gg) = opt_arr(case, "grad_gamma", &c) {
            parity.check(case, "grad_gamma", &grads.gamma, &gg);
        }
        if let Some(gb) = opt_arr(case, "grad_beta", &c) {
            parity.check(case, "grad_beta", &grads.beta, &gb);
        }
        parity.done();
    }
    println!("batch_norm: {train} training, {infer} inference cases");
    assert!(train >= 10 && infer >= 10);
    parity.report(20);
}
