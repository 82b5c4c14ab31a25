//! The CPU backend's memory is measurable and a CPU training loop does not leak it: the
//! host storages alive and their bytes stay flat step after step. One test in this
//! binary: the counters are process-wide.

mod common;
use common::*;

use convbook::host_memory::host_memory_stats;
use convbook::nn::train::{FitOptions, Silent};
use convbook::nn::{input, Layer, LayerKind, Model};
use convbook::{Device, Tensor};
use serde_json::json;

#[test]
fn cpu_training_keeps_host_memory_flat() {
    let x = input(&[6, 6, 1], None).unwrap();
    let layer = |class: &str, config: serde_json::Value| Layer::new(LayerKind::from_config(class, &config).unwrap(), None);
    let h = layer("Conv2D", json!({"filters": 4, "kernel_size": 3, "activation": "relu"})).call(&[x.clone()]).unwrap();
    let h = layer("BatchNormalization", json!({})).call(&[h]).unwrap();
    let f = layer("Flatten", json!({})).call(&[h]).unwrap();
    let y = layer("Dense", json!({"units": 3, "activation": "softmax"})).call(&[f]).unwrap();
    let model = Model::new(&[x], &[y], None).unwrap();
    model.compile_with_options(&json!({"optimizer": "adam", "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]})).unwrap();
    let mut r = rng(2);
    let xs = Tensor::from_f32(&Device::Cpu, random_vec(&mut r, 16 * 36, 0.0, 1.0), &[16, 6, 6, 1]).unwrap();
    let ys = Tensor::from_i32(&Device::Cpu, (0..16).map(|i| i % 3).collect(), &[16]).unwrap();
    let data_bytes = (16 * 36 * 4 + 16 * 4) as u64;
    let opts = FitOptions { epochs: 2, batch_size: 4, ..Default::default() };
    let train = || block(model.fit(&Device::Cpu, &[xs.clone()], &[ys.clone()], &opts, &mut Silent)).unwrap();

    // The first fit makes the optimizer's slots; from then on nothing may accumulate.
    train();
    let warm = host_memory_stats();
    assert!(warm.live >= 2 && warm.bytes >= data_bytes, "the data and the weights are counted: {warm:?}");
    for _ in 0..5 {
        train();
    }
    let after = host_memory_stats();
    assert_eq!((after.live, after.bytes), (warm.live, warm.bytes), "host memory grew over 40 CPU steps: {warm:?} -> {after:?}");
    assert!(after.created > warm.created + 40, "each step makes (and frees) host tensors: {warm:?} -> {after:?}");
    drop(model);
    let freed = host_memory_stats();
    assert!(freed.live < after.live && freed.bytes < after.bytes, "dropping the model frees its weights: {after:?} -> {freed:?}");
}
