//! CPU-backend section of `cargo xtask bench`: the chapter 8.1 MNIST convnet on
//! `Device::Cpu`, predict and one RMSprop training step (sparse categorical
//! crossentropy), with the fast CPU kernels and with the reference kernels. Needs no
//! GPU. Results go to the terminal and to bench-results/cpu_model.json.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use convbook::cpu::with_reference_kernels;
use convbook::nn::losses::Loss;
use convbook::nn::optimizers::Optimizer;
use convbook::nn::{input, Layer, LayerKind, Model};
use convbook::{Device, Tensor};
use serde_json::{json, Value};

use super::measure::{inputs, measure};
use crate::util::{note, step, Result};

fn err(e: convbook::Error) -> String {
    format!("8.1 convnet: {e}")
}

/// The chapter's model: Rescaling, three 3x3 Conv2D (32, 64, 128; relu) with 2x2 max
/// pooling after the first two, Flatten, Dense(10, softmax).
fn convnet() -> Result<Model> {
    let l = |class: &str, cfg: Value| -> Result<Layer> {
        Ok(Layer::new(LayerKind::from_config(class, &cfg).map_err(err)?, None))
    };
    let inputs = input(&[28, 28, 1], None).map_err(err)?;
    let mut x = l("Rescaling", json!({"scale": 1.0 / 255.0}))?.call(&[inputs.clone()]).map_err(err)?;
    for (i, filters) in [32, 64, 128].into_iter().enumerate() {
        let conv = json!({"filters": filters, "kernel_size": 3, "activation": "relu"});
        x = l("Conv2D", conv)?.call(&[x]).map_err(err)?;
        if i < 2 {
            x = l("MaxPooling2D", json!({"pool_size": 2}))?.call(&[x]).map_err(err)?;
        }
    }
    x = l("Flatten", json!({}))?.call(&[x]).map_err(err)?;
    let out = l("Dense", json!({"units": 10, "activation": "softmax"}))?.call(&[x]).map_err(err)?;
    let model = Model::new(&[inputs], &[out], None).map_err(err)?;
    let loss = Loss::parse("sparse_categorical_crossentropy", false).map_err(err)?;
    model.compile(Optimizer::from_name("rmsprop").map_err(err)?, loss, &[]).map_err(err)?;
    Ok(model)
}

struct Timing {
    predict_s: f64,
    train_s: f64,
    first_loss: f64,
}

/// A fresh model (same seed, so the same weights) timed with whatever kernels are in force.
fn time_model(batch: usize, budget: Duration) -> Result<Timing> {
    convbook::nn::init::set_random_seed(81);
    let model = convnet()?;
    let cpu = Device::Cpu;
    let pixels = inputs(batch * 28 * 28, 8).into_iter().map(|v| (v + 1.0) * 127.5).collect();
    let x = Tensor::from_f32(&cpu, pixels, &[batch, 28, 28, 1]).map_err(err)?;
    let labels = (0..batch).map(|i| (i * 7 % 10) as i32).collect();
    let y = Tensor::from_i32(&cpu, labels, &[batch]).map_err(err)?;
    let first_loss = pollster::block_on(model.train_step(&[x.clone()], &[y.clone()])).map_err(err)?[0].1;
    let (predict_s, _) = measure(1, 3, 20, budget, || {
        let out = model.call(&[x.clone()], false).map_err(err)?;
        pollster::block_on(out[0].to_f32_vec()).map_err(err)?;
        Ok(())
    })?;
    let (train_s, _) = measure(1, 3, 20, budget, || {
        pollster::block_on(model.train_step(&[x.clone()], &[y.clone()])).map_err(err)?;
        Ok(())
    })?;
    Ok(Timing { predict_s, train_s, first_loss })
}

pub fn run(batch: usize, budget_s: f64) -> Result {
    step("CPU backend: the 8.1 MNIST convnet on Device::Cpu");
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    note(&format!(
        "batch {batch}; one thread of {threads}; medians after a warm-up; train step = forward, backward, RMSprop update, loss read"
    ));
    let budget = Duration::from_secs_f64(budget_s.max(0.5));
    let reference = with_reference_kernels(|| time_model(batch, budget))?;
    let fast = time_model(batch, budget)?;
    let loss_diff = (fast.first_loss - reference.first_loss).abs();
    if loss_diff > 1e-4 * reference.first_loss.abs().max(1.0) {
        return Err(format!(
            "8.1 convnet: the fast kernels' first loss {} differs from the reference's {}",
            fast.first_loss, reference.first_loss
        ));
    }
    println!();
    println!("  {:<12} {:>12} {:>12} {:>9}", "", "reference ms", "fast ms", "fast/ref");
    for (what, r, f) in [("predict", reference.predict_s, fast.predict_s), ("train step", reference.train_s, fast.train_s)] {
        println!("  {:<12} {:>12.1} {:>12.1} {:>9}", what, r * 1e3, f * 1e3, format!("{:.1}x", r / f));
    }
    println!("  first-step loss: reference {:.6}, fast {:.6}", reference.first_loss, fast.first_loss);
    println!();
    let report = json!({
        "benchmark": "cpu_model",
        "description": "chapter 8.1 MNIST convnet on Device::Cpu: predict (model call + read) and one training step \
            (RMSprop, sparse categorical crossentropy), medians in ms; reference = the CPU reference kernels, \
            fast = the CPU backend (im2col + blocked GEMM), single-threaded",
        "cpu_threads": threads,
        "batch": batch,
        "unix_time": SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        "reference": {"predict_ms": reference.predict_s * 1e3, "train_step_ms": reference.train_s * 1e3, "first_loss": reference.first_loss},
        "fast": {"predict_ms": fast.predict_s * 1e3, "train_step_ms": fast.train_s * 1e3, "first_loss": fast.first_loss},
        "speedup": {"predict": reference.predict_s / fast.predict_s, "train_step": reference.train_s / fast.train_s},
    });
    super::write_report("cpu_model.json", &report)
}
