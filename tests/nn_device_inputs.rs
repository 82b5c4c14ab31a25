//! A model follows the GPU it is asked to run on, and data already there stays there:
//! a fresh model's `predict` on a GPU runs GPU kernels, and `fit` / `evaluate` /
//! `predict` on GPU-resident arrays give the host arrays' results while reading back
//! only their scalars. One test in this binary: the readback counter is process-wide.

mod common;
use common::*;

use convbook::gpu::readback_bytes;
use convbook::nn::train::{FitOptions, Silent};
use convbook::nn::{input, Layer, LayerKind, Model};
use convbook::{Device, Tensor};
use serde_json::json;

fn model() -> Model {
    let x = input(&[4, 4, 1], None).unwrap();
    let layer = |class: &str, config: serde_json::Value| Layer::new(LayerKind::from_config(class, &config).unwrap(), None);
    let h = layer("Conv2D", json!({"filters": 3, "kernel_size": 3, "activation": "relu"})).call(&[x.clone()]).unwrap();
    let f = layer("Flatten", json!({})).call(&[h]).unwrap();
    let y = layer("Dense", json!({"units": 3, "activation": "softmax"})).call(&[f]).unwrap();
    let m = Model::new(&[x], &[y], Some("small")).unwrap();
    let mut r = rng(5);
    for w in m.weights() {
        let n = w.shape().iter().product();
        w.set(Tensor::from_f32(&Device::Cpu, random_vec(&mut r, n, -0.5, 0.5), &w.shape()).unwrap()).unwrap();
    }
    m.compile_with_options(&json!({"optimizer": "rmsprop", "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]})).unwrap();
    m
}

#[test]
fn models_run_on_the_asked_gpu_and_device_data_is_not_read_back() {
    // Its own device, so the pipeline count starts at zero.
    let device = block(Device::gpu()).expect("GPU");
    let Device::Gpu(ctx) = &device else { unreachable!() };

    // A freshly built model (host weights) predicts on the GPU it is given.
    let fresh = model();
    assert!(fresh.weights().iter().all(|w| !w.value().device().is_gpu()));
    let x1 = Tensor::from_f32(&Device::Cpu, vec![0.5; 16], &[1, 4, 4, 1]).unwrap();
    let on_cpu = block(fresh.predict(&Device::Cpu, &x1, 1)).unwrap();
    assert_eq!(ctx.pipeline_count(), 0);
    let on_gpu = block(fresh.predict(&device, &x1, 1)).unwrap();
    assert!(ctx.pipeline_count() > 0, "predict on a fresh model created no GPU pipeline");
    assert!(fresh.weights().iter().all(|w| w.value().device().same(&device)), "the weights moved to the GPU");
    assert_close(&block(on_gpu.to_f32_vec()).unwrap(), &block(on_cpu.to_f32_vec()).unwrap(), 1e-5, 1e-6, "fresh model, GPU vs CPU");

    // The same data on the host and on the GPU: identical training and results.
    let n = 10;
    let mut r = rng(8);
    let xs = random_vec(&mut r, n * 16, 0.0, 255.0).into_iter().map(|v| v as u8).collect::<Vec<_>>();
    let ys: Vec<i32> = (0..n as i32).map(|i| i % 3).collect();
    let host = (Tensor::from_u8(&Device::Cpu, xs.clone(), &[n, 4, 4, 1]).unwrap(), Tensor::from_i32(&Device::Cpu, ys.clone(), &[n]).unwrap());
    let dev = (Tensor::from_u8(&device, xs, &[n, 4, 4, 1]).unwrap(), Tensor::from_i32(&device, ys, &[n]).unwrap());
    // Shuffled batches of 4 (a gather of scattered rows, and a short last batch).
    let opts = || FitOptions { epochs: 2, batch_size: 4, seed: 11, ..Default::default() };
    let (a, b) = (model(), model());
    let from_host = block(a.fit(&device, &[host.0.clone()], &[host.1.clone()], &opts(), &mut Silent)).unwrap();
    let x_bytes = (n * 16) as u64;
    let before = readback_bytes();
    let from_device = block(b.fit(&device, &[dev.0.clone()], &[dev.1.clone()], &opts(), &mut Silent)).unwrap();
    let eval = block(b.evaluate(&device, &[dev.0.clone()], &[dev.1.clone()], 4)).unwrap();
    let pred = block(b.predict_on_batch(&device, &[dev.0.clone()])).unwrap();
    let read = readback_bytes() - before;
    // Two logs of 4 bytes per batch: 3 batches x 2 epochs + 3 evaluate batches.
    assert!(read <= 9 * 2 * 4, "fit / evaluate on device data read back {read} bytes (x is {x_bytes})");
    for (k, v) in &from_host.history {
        let w = &from_device.history[k];
        assert!(v.iter().zip(w).all(|(p, q)| (p - q).abs() < 1e-5), "{k}: host data {v:?} vs device data {w:?}");
    }
    let eval_host = block(a.evaluate(&device, &[host.0.clone()], &[host.1.clone()], 4)).unwrap();
    for (k, v) in &eval_host {
        assert!((v - eval[k]).abs() < 1e-5, "evaluate {k}: host data {v} vs device data {}", eval[k]);
    }
    let pred_host = block(a.predict(&device, &host.0, 4)).unwrap();
    assert_close(&block(pred[0].to_f32_vec()).unwrap(), &block(pred_host.to_f32_vec()).unwrap(), 1e-5, 1e-6, "predict, device vs host data");
}
