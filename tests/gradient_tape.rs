//! Gradients through a model with respect to its input and a layer's output (the engine
//! side of `GradientTape` over a model call) and Grad-CAM: against central finite
//! differences in f64 on the CPU, and against Keras/JAX (tests/fixtures/gradient_tape)
//! on the CPU and on the GPU.

mod common;
use common::keras::{arr, cases, check, load};
use common::*;

use convbook::nn::gradients::{grad_cam, input_gradient, layer_output};
use convbook::nn::{input, Layer, LayerKind, Model};
use convbook::{Device, Tensor};
use serde_json::{json, Value};

fn layer(class: &str, config: Value, name: &str) -> Layer {
    Layer::new(LayerKind::from_config(class, &config).unwrap(), Some(name))
}

/// The fixture's convnet, built as make_fixture.py builds it.
fn convnet() -> Model {
    let x = input(&[8, 8, 2], None).unwrap();
    let a = layer("Conv2D", json!({"filters": 4, "kernel_size": 3, "activation": "relu"}), "conv_a").call(&[x.clone()]).unwrap();
    let b = layer("Conv2D", json!({"filters": 3, "kernel_size": 3, "activation": "relu"}), "conv_b").call(&[a]).unwrap();
    let f = layer("Flatten", json!({}), "flatten").call(&[b]).unwrap();
    let y = layer("Dense", json!({"units": 5, "activation": "softmax"}), "dense").call(&[f]).unwrap();
    Model::new(&[x], &[y], None).unwrap()
}

/// Weights and image on `device`; `f64` builds them in double precision (CPU only) for
/// finite differences.
fn loaded(case: &Value, device: &Device, f64: bool) -> (Model, Tensor) {
    let model = convnet();
    let ws = case["weights"].as_array().unwrap();
    let tensor = |data: Vec<f32>, shape: &[usize]| {
        if f64 {
            Tensor::from_f64(device, data.iter().map(|&v| v as f64).collect(), shape).unwrap()
        } else {
            Tensor::from_f32(device, data, shape).unwrap()
        }
    };
    for (w, fixture) in model.weights().iter().zip(ws) {
        let data = fixture["data"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        let shape: Vec<usize> = fixture["shape"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        w.set(tensor(data, &shape)).unwrap();
    }
    let (x, shape) = arr(case, "x");
    (model, tensor(x, &shape))
}

fn f32s(t: &Tensor) -> Vec<f32> {
    block(t.to_f32_vec()).unwrap()
}

fn f64s(t: &Tensor) -> Vec<f64> {
    block(t.to_data()).unwrap().to_f64()
}

fn fixture() -> Value {
    cases(&load("gradient_tape", "gradient_tape.json"))[0].clone()
}

fn against_keras(device: &Device) {
    let case = fixture();
    let top = case["top"].as_u64().unwrap() as usize;
    let (model, x) = loaded(&case, device, false);
    let (class, g) = block(input_gradient(&model, &x, None)).unwrap();
    assert_eq!(class, top, "top class");
    check(&case, "grad_input", &f32s(&g), &arr(&case, "grad_input").0, 1e-4);
    let cam = block(grad_cam(&model, "conv_b", &x, None)).unwrap();
    assert_eq!(cam.class_index, top, "Grad-CAM class");
    check(&case, "conv_out", &f32s(&cam.activations), &arr(&case, "conv_out").0, 1e-4);
    check(&case, "grad_conv", &f32s(&cam.gradients), &arr(&case, "grad_conv").0, 1e-4);
    assert_eq!(cam.heatmap.shape(), &[4, 4]);
    check(&case, "heatmap", &f32s(&cam.heatmap), &arr(&case, "heatmap").0, 1e-4);
}

#[test]
fn gradients_match_keras_on_cpu() {
    against_keras(&Device::Cpu);
}

#[test]
fn gradients_match_keras_on_gpu() {
    against_keras(&gpu());
}

/// Score of class `class` for the image `x`, in f64.
fn score(model: &Model, x: &Tensor, class: usize) -> f64 {
    f64s(&model.call(std::slice::from_ref(x), false).unwrap()[0])[class]
}

#[test]
fn input_gradient_matches_finite_differences() {
    let case = fixture();
    let (model, x) = loaded(&case, &Device::Cpu, true);
    let class = 3;
    let (_, g) = block(input_gradient(&model, &x, Some(class))).unwrap();
    let analytic = f64s(&g);
    let base = f64s(&x);
    let eps = 1e-6;
    let mut nonzero = 0;
    for j in 0..base.len() {
        let at = |d: f64| {
            let mut v = base.clone();
            v[j] += d;
            score(&model, &Tensor::from_f64(&Device::Cpu, v, x.shape()).unwrap(), class)
        };
        let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
        let err = (numeric - analytic[j]).abs() / (1.0 + numeric.abs().max(analytic[j].abs()));
        assert!(err < 1e-6, "input element {j}: analytic {} vs numeric {numeric}", analytic[j]);
        nonzero += (analytic[j] != 0.0) as usize;
    }
    assert!(nonzero > base.len() / 2, "only {nonzero} of {} input gradients are nonzero", base.len());
}

#[test]
fn intermediate_gradient_matches_finite_differences() {
    let case = fixture();
    let (model, x) = loaded(&case, &Device::Cpu, true);
    let class = 2;
    let cam = block(grad_cam(&model, "conv_b", &x, Some(class))).unwrap();
    // The head after conv_b as its own model shares the layers (and weights), so
    // perturbing its input perturbs conv_b's output.
    let feature = layer_output(&model, "conv_b").unwrap();
    let head_in = input(&feature.shape().iter().skip(1).map(|d| d.unwrap()).collect::<Vec<_>>(), None).unwrap();
    let flat = model.get_layer("flatten").unwrap().call(&[head_in.clone()]).unwrap();
    let y = model.get_layer("dense").unwrap().call(&[flat]).unwrap();
    let head = Model::new(&[head_in], &[y], None).unwrap();
    let base = f64s(&cam.activations);
    let analytic = f64s(&cam.gradients);
    let eps = 1e-6;
    for j in 0..base.len() {
        let at = |d: f64| {
            let mut v = base.clone();
            v[j] += d;
            score(&head, &Tensor::from_f64(&Device::Cpu, v, cam.activations.shape()).unwrap(), class)
        };
        let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
        let err = (numeric - analytic[j]).abs() / (1.0 + numeric.abs().max(analytic[j].abs()));
        assert!(err < 1e-6, "conv_b output element {j}: analytic {} vs numeric {numeric}", analytic[j]);
    }
    assert!(analytic.iter().any(|&v| v != 0.0), "all Grad-CAM gradients are zero");
}

#[test]
fn grad_cam_names_a_missing_layer() {
    let case = fixture();
    let (model, x) = loaded(&case, &Device::Cpu, false);
    let err = block(grad_cam(&model, "no_such_layer", &x, None)).err().expect("a missing layer must fail");
    assert!(err.to_string().contains("no_such_layer"), "{err}");
}
