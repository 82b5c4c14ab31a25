//! One SGD step matches Keras for every layer type of the seed models
//! (tests/fixtures/train_step): predictions, loss and every weight after the step.

mod common;
use common::keras::{arr, cases, check, check_floor, load};
use common::*;

use convbook::nn::losses::Loss;
use convbook::nn::optimizers::Optimizer;
use convbook::nn::{input, KerasTensor, Layer, LayerKind, Model};
use convbook::ops::optim_update::OptimizerConfig;
use convbook::{Device, Tensor};
use serde_json::{json, Value};

fn layer(class: &str, config: &Value) -> Layer {
    Layer::new(LayerKind::from_config(class, config).unwrap(), None)
}

fn build(case: &Value) -> Model {
    let shape: Vec<usize> = case["input_shape"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    let inputs = input(&shape, None).unwrap();
    let out: KerasTensor = match case["chain"].as_array() {
        Some(chain) => chain.iter().fold(inputs.clone(), |x, l| {
            layer(l["class_name"].as_str().unwrap(), &l["config"]).call(&[x]).unwrap()
        }),
        None => {
            // residual_add_concat, as make_fixtures.py builds it.
            let a = layer("Conv2D", &json!({"filters": 3, "kernel_size": 3, "padding": "same", "activation": "relu"}))
                .call(&[inputs.clone()])
                .unwrap();
            let b = layer("Conv2D", &json!({"filters": 3, "kernel_size": 1})).call(&[inputs.clone()]).unwrap();
            let x = layer("Add", &json!({})).call(&[a, b]).unwrap();
            let c = layer("Concatenate", &json!({})).call(&[x, inputs.clone()]).unwrap();
            let f = layer("Flatten", &json!({})).call(&[c]).unwrap();
            layer("Dense", &json!({"units": 3, "activation": "softmax"})).call(&[f]).unwrap()
        }
    };
    Model::new(&[inputs], &[out], None).unwrap()
}

fn run_case(case: &Value, device: &Device) {
    let model = build(case);
    let before = case["weights_before"].as_array().unwrap();
    let weights = model.weights();
    assert_eq!(weights.len(), before.len(), "{}: weight count", case["name"]);
    for (w, v) in weights.iter().zip(before) {
        let (data, shape) = arr(&json!({"w": v}), "w");
        w.set(Tensor::from_f32(&Device::Cpu, data, &shape).unwrap()).unwrap();
    }
    let lr = case["learning_rate"].as_f64().unwrap();
    let mut config = OptimizerConfig::from_keras_name("sgd").unwrap();
    config.set_learning_rate(lr);
    model.compile(Optimizer::new(config), Loss::parse("sparse_categorical_crossentropy", false).unwrap(), &[]).unwrap();
    model.to_device(device).unwrap();
    let (xd, xs) = arr(case, "x");
    let x = Tensor::from_f32(device, xd, &xs).unwrap();
    let labels: Vec<i32> = case["y"]["data"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap() as i32).collect();
    let y = Tensor::from_i32(device, labels, &[4]).unwrap();
    let on = device.describe();

    let pred = model.call(&[x.clone()], false).unwrap().remove(0);
    check(case, &format!("prediction on {on}"), &block(pred.to_f32_vec()).unwrap(), &arr(case, "prediction").0, 1e-4);
    let loss = block(model.train_step(&[x], &[y])).unwrap()[0].1;
    let want = case["loss"].as_f64().unwrap();
    assert!((loss - want).abs() <= 1e-4 * want.abs().max(1.0), "{}: loss {loss} vs Keras {want} on {on}", case["name"]);
    for (w, v) in model.weights().iter().zip(case["weights_after"].as_array().unwrap()) {
        let got = block(w.value().to_f32_vec()).unwrap();
        // Weights are O(0.1-1); a floor keeps float noise on a zero update (a conv bias
        // feeding a training-mode BatchNormalization) from counting as relative error.
        check_floor(case, &format!("{} after one step on {on}", w.path), &got, &arr(&json!({"w": v}), "w").0, 1e-4, 1e-4);
    }
}

#[test]
fn one_sgd_step_matches_keras_on_gpu() {
    let file = load("train_step", "train_step.json");
    for case in cases(&file) {
        run_case(case, &gpu());
    }
    assert!(cases(&file).len() >= 15);
}

#[test]
fn one_sgd_step_matches_keras_on_cpu() {
    let file = load("train_step", "train_step.json");
    for case in cases(&file) {
        run_case(case, &Device::Cpu);
    }
}
