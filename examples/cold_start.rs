//! Cold start of the 8.1 convnet on the native GPU adapter (lavapipe on CI machines):
//! the first predict batch and the first training step, each on a fresh device, without
//! and with the compile-ahead pass (`Model::warm_up`), and the compile time of every
//! pipeline. Run with the driver's disk cache off, or the second device reuses the
//! first one's binaries:
//!
//!   MESA_SHADER_CACHE_DISABLE=true cargo run --example cold_start

use std::time::Instant;

use convbook::nn::losses::Loss;
use convbook::nn::optimizers::Optimizer;
use convbook::nn::{input, Layer, LayerKind, Model};
use convbook::ops::optim_update::OptimizerConfig;
use convbook::{Device, Result, Tensor};
use serde_json::{json, Value};

fn layer(class: &str, config: Value) -> Result<Layer> {
    Ok(Layer::new(LayerKind::from_config(class, &config)?, None))
}

/// The chapter 8.1 convnet, compiled with RMSprop as the chapter does.
fn convnet() -> Result<Model> {
    let x = input(&[28, 28, 1], None)?;
    let chain = [
        layer("Rescaling", json!({"scale": 1.0 / 255.0}))?,
        layer("Conv2D", json!({"filters": 32, "kernel_size": 3, "activation": "relu"}))?,
        layer("MaxPooling2D", json!({"pool_size": 2}))?,
        layer("Conv2D", json!({"filters": 64, "kernel_size": 3, "activation": "relu"}))?,
        layer("MaxPooling2D", json!({"pool_size": 2}))?,
        layer("Conv2D", json!({"filters": 128, "kernel_size": 3, "activation": "relu"}))?,
        layer("Flatten", json!({}))?,
        layer("Dense", json!({"units": 10, "activation": "softmax"}))?,
    ];
    let mut y = x.clone();
    for l in &chain {
        y = l.call(&[y])?;
    }
    let model = Model::new(&[x], &[y], None)?;
    let rmsprop = OptimizerConfig::from_keras_name("rmsprop")?;
    model.compile(Optimizer::new(rmsprop), Loss::parse("sparse_categorical_crossentropy", false)?, &[])?;
    Ok(model)
}

fn batch() -> (Vec<f32>, Vec<i32>) {
    ((0..64 * 784).map(|i| (i % 255) as f32).collect(), (0..64).map(|i| i % 10).collect())
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

/// Seconds to the first predict output and to the end of the first training step, on a
/// fresh device, after `warm_up` if asked (its own seconds first).
fn cold(warm: bool) -> Result<(f64, f64, f64, Device)> {
    let device = pollster::block_on(Device::gpu())?;
    let model = convnet()?;
    let t = Instant::now();
    if warm {
        model.warm_up(&device, true)?;
        pollster::block_on(device.sync())?;
    }
    let warm_s = secs(t);
    let (xs, ys) = batch();
    let x = Tensor::from_f32(&Device::Cpu, xs, &[64, 28, 28, 1])?;
    let t = Instant::now();
    pollster::block_on(model.predict(&device, &x, 64))?;
    let predict_s = secs(t);
    model.to_device(&device)?;
    let (x, y) = (Tensor::from_f32(&device, batch().0, &[64, 28, 28, 1])?, Tensor::from_i32(&device, ys, &[64])?);
    let t = Instant::now();
    pollster::block_on(model.train_step(&[x], &[y]))?;
    Ok((warm_s, predict_s, secs(t), device))
}

fn main() -> Result<()> {
    let (_, predict_s, step_s, device) = cold(false)?;
    println!("adapter: {}", device.describe());
    println!("without warm-up: first predict {predict_s:.3} s, first train step {step_s:.3} s");
    let (warm_s, predict_s, step_s, device) = cold(true)?;
    println!("with warm-up ({warm_s:.3} s, while a reader would read): first predict {predict_s:.3} s, first train step {step_s:.3} s");
    if let Device::Gpu(ctx) = &device {
        let mut times: Vec<(String, f64)> = ctx.pipeline_compile_ms().into_iter().collect();
        times.sort_by(|a, b| b.1.total_cmp(&a.1));
        println!("\n| pipeline | compile ms |\n|---|---:|");
        for (label, ms) in times {
            println!("| {label} | {ms:.1} |");
        }
    }
    Ok(())
}
