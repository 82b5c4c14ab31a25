//! Long runs stay flat: training a small convnet for 2,000 steps and 1,000 predict calls
//! with varying batch sizes must not grow the live GPU buffers, the pool's bytes or the
//! pipeline cache once warmed up. `CONVBOOK_SOAK_FULL=1` (what a `--full` soak sets) runs
//! ten times longer.

mod common;
use common::*;

use convbook::gpu::GpuContext;
use convbook::nn::losses::Loss;
use convbook::nn::optimizers::Optimizer;
use convbook::nn::{input, Layer, LayerKind, Model};
use convbook::{Device, Tensor};
use serde_json::{json, Value};

fn scale() -> usize {
    if std::env::var_os("CONVBOOK_SOAK_FULL").is_some() {
        10
    } else {
        1
    }
}

fn layer(class: &str, config: Value) -> Layer {
    Layer::new(LayerKind::from_config(class, &config).unwrap(), None)
}

/// Conv → pool → dense on 8x8 images: every kind of kernel a convnet step runs, tiny.
fn small_convnet() -> Model {
    let inputs = input(&[8, 8, 1], None).unwrap();
    let x = layer("Conv2D", json!({"filters": 4, "kernel_size": 3, "activation": "relu"})).call(&[inputs.clone()]).unwrap();
    let x = layer("MaxPooling2D", json!({"pool_size": 2})).call(&[x]).unwrap();
    let x = layer("Flatten", json!({})).call(&[x]).unwrap();
    let out = layer("Dense", json!({"units": 3, "activation": "softmax"})).call(&[x]).unwrap();
    Model::new(&[inputs], &[out], None).unwrap()
}

fn context(device: &Device) -> GpuContext {
    match device {
        Device::Gpu(ctx) => ctx.clone(),
        Device::Cpu => unreachable!("the soak runs on the GPU"),
    }
}

/// (live buffers, pool bytes, pipelines), after the queue drained.
fn footprint(device: &Device) -> (usize, u64, usize) {
    block(device.sync()).unwrap();
    let ctx = context(device);
    let pool = ctx.pool_stats();
    (pool.live, pool.bytes, ctx.pipeline_count())
}

#[test]
fn two_thousand_training_steps_stay_flat() {
    // Own device, so other tests' buffers do not move the counts.
    let device = block(Device::gpu()).expect("GPU");
    let model = small_convnet();
    model
        .compile(Optimizer::from_name("adam").unwrap(), Loss::parse("sparse_categorical_crossentropy", false).unwrap(), &[])
        .unwrap();
    model.to_device(&device).unwrap();
    let mut r = rng(3);
    let x = Tensor::from_f32(&device, random_vec(&mut r, 4 * 8 * 8, 0.0, 1.0), &[4, 8, 8, 1]).unwrap();
    let y = Tensor::from_i32(&device, vec![0, 1, 2, 1], &[4]).unwrap();
    let step = || block(model.train_step(&[x.clone()], &[y.clone()])).unwrap()[0].1;
    let first = step();
    for _ in 0..50 {
        step();
    }
    let warm = footprint(&device);
    let steps = 2000 * scale();
    let mut last = first;
    for i in 0..steps {
        last = step();
        if i % 500 == 499 {
            assert_eq!(footprint(&device), warm, "after {} steps: (live buffers, pool bytes, pipelines) moved from {warm:?}", i + 1);
        }
    }
    assert_eq!(footprint(&device), warm, "after {steps} steps");
    assert!(last.is_finite() && last < first, "training went nowhere: loss {first} -> {last}");
}

#[test]
fn a_thousand_predicts_with_varying_batches_stay_flat() {
    let device = block(Device::gpu()).expect("GPU");
    let model = small_convnet();
    model.to_device(&device).unwrap();
    let mut r = rng(5);
    // Host inputs of 1 to 16 rows, as a reader's cells pass them.
    let inputs: Vec<Tensor> = (1..=16)
        .map(|n| Tensor::from_f32(&Device::Cpu, random_vec(&mut r, n * 8 * 8, 0.0, 1.0), &[n, 8, 8, 1]).unwrap())
        .collect();
    let predict = |n: usize, batch: usize| {
        let y = block(model.predict(&device, &inputs[n - 1], batch)).unwrap();
        assert_eq!(y.shape(), &[n, 3]);
    };
    // Warm-up: every input size with every batch size the soak uses.
    for n in 1..=16 {
        for batch in [4, 16] {
            predict(n, batch);
        }
    }
    let warm = footprint(&device);
    let calls = 1000 * scale();
    for i in 0..calls {
        // A fixed scramble of sizes, so the order of shapes varies too.
        predict(1 + (i * 7 + i / 16) % 16, if i % 3 == 0 { 4 } else { 16 });
        if i % 250 == 249 {
            assert_eq!(footprint(&device), warm, "after {} predict calls: (live buffers, pool bytes, pipelines) moved from {warm:?}", i + 1);
        }
    }
    assert_eq!(footprint(&device), warm, "after {calls} predict calls");
}
