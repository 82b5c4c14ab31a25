//! The GPU kernels against Keras: forward outputs and gradients (loss = sum(y * proj))
//! for every case in tests/fixtures/conv_family, relative error <= 1e-4.

mod common;
use common::keras::{arr, cases, cfg_opt_pair, cfg_pair, cfg_usize, check, load};
use common::*;

use convbook::ops::batch_norm::{batch_norm_inference, batch_norm_inference_grad, batch_norm_train, batch_norm_train_grad};
use convbook::ops::conv2d::{bias_grad, conv2d_grad_input, conv2d_grad_kernel, conv2d_spec, conv2d_with_spec};
use convbook::ops::conv_transpose2d::{
    conv_transpose2d_grad_input, conv_transpose2d_grad_kernel, conv_transpose2d_spec, conv_transpose2d_with_spec,
};
use convbook::ops::depthwise_conv2d::{
    depthwise_conv2d_grad_input, depthwise_conv2d_grad_kernel, depthwise_conv2d_spec, depthwise_conv2d_with_spec,
};
use convbook::ops::pool2d::{global_average_pool2d, pool2d, pool2d_grad_input, pool2d_spec};
use convbook::ops::geometry::Padding;
use convbook::ops::conv_transpose2d::ConvTranspose2dSpec;
use convbook::ops::pool2d::PoolKind;
use convbook::Tensor;
use serde_json::Value;

const TOL: f64 = 1e-4;

fn on_gpu(case: &Value, key: &str) -> Tensor {
    let (data, shape) = arr(case, key);
    Tensor::from_f32(&gpu(), data, &shape).unwrap()
}

fn maybe_on_gpu(case: &Value, key: &str) -> Option<Tensor> {
    case.get(key).filter(|v| !v.is_null()).map(|_| on_gpu(case, key))
}

/// Bias output and gradient, for the cases built with use_bias=True.
fn check_bias(case: &Value, dy: &Tensor, bias: &Option<Tensor>) {
    if bias.is_some() {
        check(case, "grad_bias", &got(&bias_grad(dy).unwrap()), &want(case, "grad_bias"), TOL);
    }
}

fn want(case: &Value, key: &str) -> Vec<f32> {
    arr(case, key).0
}

fn got(t: &Tensor) -> Vec<f32> {
    block(t.to_f32_vec()).unwrap()
}

fn padding(case: &Value) -> Padding {
    Padding::parse(case["config"]["padding"].as_str().unwrap()).unwrap()
}

#[test]
fn conv2d_matches_keras() {
    let file = load("conv_family", "conv2d.json");
    for case in cases(&file) {
        let (x, k, b, dy) = (on_gpu(case, "x"), on_gpu(case, "kernel"), maybe_on_gpu(case, "bias"), on_gpu(case, "proj"));
        let spec = conv2d_spec(&x, &k, cfg_pair(case, "strides"), padding(case), cfg_pair(case, "dilation")).unwrap();
        check(case, "y", &got(&conv2d_with_spec(&x, &k, b.as_ref(), &spec).unwrap()), &want(case, "y"), TOL);
        check(case, "grad_x", &got(&conv2d_grad_input(&dy, &k, &spec).unwrap()), &want(case, "grad_x"), TOL);
        check(case, "grad_kernel", &got(&conv2d_grad_kernel(&x, &dy, &spec).unwrap()), &want(case, "grad_kernel"), TOL);
        check_bias(case, &dy, &b);
    }
    assert!(cases(&file).len() >= 20);
}

#[test]
fn conv_transpose2d_matches_keras() {
    let file = load("conv_family", "conv_transpose2d.json");
    let mut compared = 0;
    for case in cases(&file) {
        if case["expect_error"].as_bool() == Some(true) {
            let spec = ConvTranspose2dSpec {
                batch: cfg_usize(case, "batch"),
                in_h: cfg_usize(case, "in_h"),
                in_w: cfg_usize(case, "in_w"),
                in_channels: cfg_usize(case, "in_channels"),
                out_channels: cfg_usize(case, "out_channels"),
                kernel: cfg_pair(case, "kernel"),
                strides: cfg_pair(case, "strides"),
                padding: padding(case),
                output_padding: cfg_opt_pair(case, "output_padding"),
                dilation: [1, 1],
            };
            assert!(spec.window().is_err(), "{}: Keras/TensorFlow reject this configuration", case["name"]);
            continue;
        }
        let (x, k) = (on_gpu(case, "x"), on_gpu(case, "kernel"));
        let spec =
            conv_transpose2d_spec(&x, &k, cfg_pair(case, "strides"), padding(case), cfg_opt_pair(case, "output_padding"))
                .unwrap();
        let (b, dy) = (maybe_on_gpu(case, "bias"), on_gpu(case, "proj"));
        check(case, "y", &got(&conv_transpose2d_with_spec(&x, &k, b.as_ref(), &spec).unwrap()), &want(case, "y"), TOL);
        check(case, "grad_x", &got(&conv_transpose2d_grad_input(&dy, &k, &spec).unwrap()), &want(case, "grad_x"), TOL);
        let gk = conv_transpose2d_grad_kernel(&x, &dy, &spec).unwrap();
        check(case, "grad_kernel", &got(&gk), &want(case, "grad_kernel"), TOL);
        check_bias(case, &dy, &b);
        compared += 1;
    }
    assert!(compared >= 20, "only {compared} cases compared");
}

#[test]
fn depthwise_conv2d_matches_keras() {
    let file = load("conv_family", "depthwise_conv2d.json");
    for case in cases(&file) {
        let (x, k, b, dy) = (on_gpu(case, "x"), on_gpu(case, "kernel"), maybe_on_gpu(case, "bias"), on_gpu(case, "proj"));
        let spec =
            depthwise_conv2d_spec(&x, &k, cfg_pair(case, "strides"), padding(case), cfg_pair(case, "dilation")).unwrap();
        check(case, "y", &got(&depthwise_conv2d_with_spec(&x, &k, b.as_ref(), &spec).unwrap()), &want(case, "y"), TOL);
        check(case, "grad_x", &got(&depthwise_conv2d_grad_input(&dy, &k, &spec).unwrap()), &want(case, "grad_x"), TOL);
        let gk = depthwise_conv2d_grad_kernel(&x, &dy, &spec).unwrap();
        check(case, "grad_kernel", &got(&gk), &want(case, "grad_kernel"), TOL);
        check_bias(case, &dy, &b);
    }
    assert!(cases(&file).len() >= 20);
}

#[test]
fn pooling_matches_keras() {
    let file = load("conv_family", "pool2d.json");
    for case in cases(&file) {
        let (x, dy) = (on_gpu(case, "x"), on_gpu(case, "proj"));
        let kind = case["config"]["kind"].as_str().unwrap();
        if kind == "global_average" {
            let y = global_average_pool2d(&x).unwrap();
            check(case, "y", &got(&y), &want(case, "y"), TOL);
            // d mean / dx spreads dy evenly over height and width.
            let s = x.shape();
            let g = dy.reshape(&[s[0] as isize, 1, 1, s[3] as isize]).unwrap().broadcast_to(s).unwrap();
            let g = g.affine(1.0 / (s[1] * s[2]) as f64, 0.0).unwrap();
            check(case, "grad_x", &got(&g), &want(case, "grad_x"), TOL);
            continue;
        }
        let kind = if kind == "max" { PoolKind::Max } else { PoolKind::Average };
        let strides = cfg_opt_pair(case, "strides");
        let spec = pool2d_spec(&x, kind, cfg_pair(case, "pool"), strides, padding(case)).unwrap();
        check(case, "y", &got(&pool2d(&x, &spec).unwrap()), &want(case, "y"), TOL);
        check(case, "grad_x", &got(&pool2d_grad_input(&x, &dy, &spec).unwrap()), &want(case, "grad_x"), TOL);
    }
    assert!(cases(&file).len() >= 40);
}

#[test]
fn batch_norm_matches_keras() {
    let file = load("conv_family", "batch_norm.json");
    for case in cases(&file) {
        let cfg = &case["config"];
        let (x, dy) = (on_gpu(case, "x"), on_gpu(case, "proj"));
        let gamma = (cfg["scale"].as_bool() == Some(true)).then(|| on_gpu(case, "gamma"));
        let beta = (cfg["center"].as_bool() == Some(true)).then(|| on_gpu(case, "beta"));
        let (mm, mv) = (on_gpu(case, "moving_mean"), on_gpu(case, "moving_variance"));
        let eps = cfg["epsilon"].as_f64().unwrap();
        let momentum = cfg["momentum"].as_f64().unwrap();
        let grads = if cfg["training"].as_bool() == Some(true) {
            let o = batch_norm_train(&x, gamma.as_ref(), beta.as_ref(), &mm, &mv, eps, momentum).unwrap();
            check(case, "y", &got(&o.y), &want(case, "y"), TOL);
            check(case, "moving_mean_after", &got(&o.moving_mean), &want(case, "moving_mean_after"), TOL);
            check(case, "moving_variance_after", &got(&o.moving_variance), &want(case, "moving_variance_after"), TOL);
            batch_norm_train_grad(&x, gamma.as_ref(), &dy, eps).unwrap()
        } else {
            let y = batch_norm_inference(&x, gamma.as_ref(), beta.as_ref(), &mm, &mv, eps).unwrap();
            check(case, "y", &got(&y), &want(case, "y"), TOL);
            batch_norm_inference_grad(&x, gamma.as_ref(), &mm, &mv, &dy, eps).unwrap()
        };
        check(case, "grad_x", &got(&grads.input), &want(case, "grad_x"), TOL);
        if case.get("grad_gamma").is_some_and(|v| !v.is_null()) {
            check(case, "grad_gamma", &got(&grads.gamma), &want(case, "grad_gamma"), TOL);
        }
        if case.get("grad_beta").is_some_and(|v| !v.is_null()) {
            check(case, "grad_beta", &got(&grads.beta), &want(case, "grad_beta"), TOL);
        }
    }
    assert!(cases(&file).len() >= 20);
}
