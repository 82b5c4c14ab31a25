//! BatchNormalization followed by a ReLU runs fused (nn::relu_fusion); a model must not
//! be able to tell. The same model with ReLU(max_value=1e9), which the pass leaves alone
//! and which computes the same function, is the unfused twin: a training step of each,
//! on the GPU and on the CPU, gives the same losses, weights and moving statistics.

mod common;
use common::*;

use convbook::nn::losses::Loss;
use convbook::nn::optimizers::Optimizer;
use convbook::nn::{input, KerasTensor, Layer, LayerKind, Model};
use convbook::{Device, Tensor};
use serde_json::{json, Value};

fn apply(class: &str, cfg: Value, x: &[KerasTensor]) -> KerasTensor {
    Layer::new(LayerKind::from_config(class, &cfg).unwrap(), None).call(x).unwrap()
}

/// Conv, then BN + ReLU twice (the second ReLU a layer of its own kind), pooling and a
/// sigmoid unit; `relu` is the config of both ReLUs.
fn model(relu: &(&str, Value), device: &Device) -> Model {
    convbook::nn::init::set_random_seed(7);
    let x = input(&[6, 6, 3], None).unwrap();
    let mut h = apply("Conv2D", json!({"filters": 4, "kernel_size": 3, "padding": "same"}), &[x.clone()]);
    for _ in 0..2 {
        h = apply("BatchNormalization", json!({}), &[h]);
        h = apply(relu.0, relu.1.clone(), &[h]);
    }
    h = apply("GlobalAveragePooling2D", json!({}), &[h]);
    let out = apply("Dense", json!({"units": 1, "activation": "sigmoid"}), &[h]);
    let m = Model::new(&[x], &[out], None).unwrap();
    m.compile(Optimizer::from_name("rmsprop").unwrap(), Loss::parse("binary_crossentropy", false).unwrap(), &[]).unwrap();
    m.to_device(device).unwrap();
    m
}

fn weights(m: &Model) -> Vec<Vec<f32>> {
    m.weights().iter().map(|w| block(w.value().to_f32_vec()).unwrap()).collect()
}

#[test]
fn fused_batch_norm_relu_trains_as_the_unfused_pair() {
    let mut r = rng(61);
    let xd = random_vec(&mut r, 2 * 6 * 6 * 3, -1.0, 1.0);
    for device in [gpu(), Device::Cpu] {
        let x = Tensor::from_f32(&device, xd.clone(), &[2, 6, 6, 3]).unwrap();
        let y = Tensor::from_f32(&device, vec![0.0, 1.0], &[2, 1]).unwrap();
        let fused = model(&("Activation", json!({"activation": "relu"})), &device);
        let plain = model(&("ReLU", json!({"max_value": 1e9})), &device);
        for step in 0..3 {
            let a = block(fused.train_step(&[x.clone()], &[y.clone()])).unwrap();
            let b = block(plain.train_step(&[x.clone()], &[y.clone()])).unwrap();
            assert!((a[0].1 - b[0].1).abs() <= 1e-5 * b[0].1.abs().max(1.0), "{device:?} step {step}: loss {a:?} vs {b:?}");
        }
        let what = format!("{device:?}");
        for (k, (a, b)) in weights(&fused).iter().zip(weights(&plain)).enumerate() {
            assert_close(a, &b, 1e-4, 1e-5, &format!("{what}: weight {k} after three steps"));
        }
        // Inference (moving statistics) through the fused pair too.
        let pa = block(fused.call(&[x.clone()], false).unwrap()[0].to_f32_vec()).unwrap();
        let pb = block(plain.call(&[x.clone()], false).unwrap()[0].to_f32_vec()).unwrap();
        assert_close(&pa, &pb, 1e-5, 1e-6, &format!("{what}: inference output"));
    }
}
