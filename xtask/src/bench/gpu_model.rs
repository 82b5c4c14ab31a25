//! Model section of `cargo xtask bench`: one training step of the chapter 9.3
//! mini-Xception (without its random augmentation; RMSprop, binary crossentropy) on the
//! GPU, where its time goes kernel by kernel, and the same step on the CPU reference
//! kernels. `--model` picks one of the browser bench's models instead (gpu_models.rs),
//! and predict is timed and profiled too. Results go to the terminal and to
//! bench-results/gpu_model.json.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use convbook::cpu::with_reference_kernels;
use convbook::nn::losses::Loss;
use convbook::nn::optimizers::Optimizer;
use convbook::nn::{input, KerasTensor, Layer, LayerKind, Model};
use convbook::{Device, Tensor};
use serde_json::{json, Value};

use super::gpu_models::{self, Labels};
use super::machine::Machine;
use super::measure::{inputs, measure};
use crate::util::{note, step, Result};

fn err(e: convbook::Error) -> String {
    format!("model bench: {e}")
}

fn apply(class: &str, cfg: Value, x: &[KerasTensor]) -> Result<KerasTensor> {
    let layer = Layer::new(LayerKind::from_config(class, &cfg).map_err(err)?, None);
    layer.call(x).map_err(err)
}

/// Chapter 9.3's model: the mini-Xception trunk (super::gpu_models) between a Rescaling
/// and dropout before its sigmoid unit.
fn mini_xception(side: usize) -> Result<Model> {
    let inputs = input(&[side, side, 3], None).map_err(err)?;
    let x = apply("Rescaling", json!({"scale": 1.0 / 255.0}), &[inputs.clone()])?;
    let x = super::gpu_models::xception_trunk(x)?;
    let x = apply("Dropout", json!({"rate": 0.5}), &[x])?;
    let out = apply("Dense", json!({"units": 1, "activation": "sigmoid"}), &[x])?;
    compiled(inputs, out, "binary_crossentropy")
}

fn compiled(inputs: KerasTensor, out: KerasTensor, loss: &str) -> Result<Model> {
    let model = Model::new(&[inputs], &[out], None).map_err(err)?;
    let loss = Loss::parse(loss, false).map_err(err)?;
    model.compile(Optimizer::from_name("rmsprop").map_err(err)?, loss, &[]).map_err(err)?;
    Ok(model)
}

/// The model under test: the chapter's mini-Xception, or a browser bench model by name.
struct Spec<'a> {
    bench_model: Option<&'a str>,
    side: usize,
}

struct Batch {
    x: Tensor,
    y: Tensor,
}

fn build(spec: &Spec, device: &Device, n: usize) -> Result<(Model, Batch)> {
    let side = spec.side;
    let (model, channels, labels) = match spec.bench_model {
        None => (mini_xception(side)?, 3, Labels::Binary),
        Some(name) => {
            let b = gpu_models::build(name, side)?;
            let loss = match b.labels {
                Labels::Binary => "binary_crossentropy",
                Labels::Sparse { .. } => "sparse_categorical_crossentropy",
            };
            (compiled(b.inputs, b.output, loss)?, b.channels, b.labels)
        }
    };
    let pixels = inputs(n * side * side * channels, 93).into_iter().map(|v| (v + 1.0) * 127.5).collect();
    let x = Tensor::from_f32(device, pixels, &[n, side, side, channels]).map_err(err)?;
    let y = match labels {
        Labels::Binary => Tensor::from_f32(device, (0..n).map(|i| (i % 2) as f32).collect(), &[n, 1]),
        Labels::Sparse { classes, spatial: false } => {
            Tensor::from_f32(device, (0..n).map(|i| (i % classes) as f32).collect(), &[n, 1])
        }
        Labels::Sparse { classes, spatial: true } => {
            let count = n * side * side;
            Tensor::from_f32(device, (0..count).map(|i| (i * 7 % classes) as f32).collect(), &[n, side, side, 1])
        }
    }
    .map_err(err)?;
    Ok((model, Batch { x, y }))
}

fn title(spec: &Spec) -> &'static str {
    match spec.bench_model {
        None => "mini-Xception (9.3)",
        Some(name) => gpu_models::title(name),
    }
}

/// A fresh model (same seed, same weights): its first loss and the median train step.
fn time_steps(spec: &Spec, device: &Device, n: usize, budget: Duration, runs: usize) -> Result<(f64, f64, Model, Batch)> {
    convbook::nn::init::set_random_seed(93);
    let (model, b) = build(spec, device, n)?;
    model.to_device(device).map_err(err)?;
    let train = |model: &Model, b: &Batch| -> Result<f64> {
        Ok(pollster::block_on(model.train_step(&[b.x.clone()], &[b.y.clone()])).map_err(err)?[0].1)
    };
    let first_loss = train(&model, &b)?;
    let (secs, _) = measure(1, 1, runs, budget, || train(&model, &b).map(|_| ()))?;
    Ok((first_loss, secs, model, b))
}

/// Options of the model section.
pub struct ModelOptions<'a> {
    pub batch: Option<usize>,
    pub side: usize,
    /// A browser bench model (gpu_models::NAMES) instead of the chapter's mini-Xception.
    pub model: Option<&'a str>,
    pub budget_s: f64,
    pub cpu_cap_s: f64,
}

pub fn run(gpu: &Device, machine: &Machine, opts: &ModelOptions) -> Result {
    let (side, budget_s, cpu_cap_s) = (opts.side, opts.budget_s, opts.cpu_cap_s);
    let spec = Spec { bench_model: opts.model, side };
    let n = opts.batch.unwrap_or(4);
    let name = title(&spec);
    step(&format!("{name} training step and predict on {}", machine.device));
    note(&format!(
        "input {side}x{side}, batch {n}; RMSprop; the median of up to 10 steps or {budget_s}s after a warm-up, \
         each ending on the loss read (predict: on the output read)"
    ));
    let budget = Duration::from_secs_f64(budget_s.max(0.5));
    let (gpu_loss, gpu_secs, model, b) = time_steps(&spec, gpu, n, budget, 10)?;
    let predict = |model: &Model, b: &Batch| -> Result<()> {
        let out = pollster::block_on(model.predict_on_batch(gpu, &[b.x.clone()])).map_err(err)?;
        pollster::block_on(out[0].to_f32_vec()).map_err(err)?;
        Ok(())
    };
    let (predict_secs, _) = measure(1, 1, 10, budget, || predict(&model, &b))?;

    // One more step (and predict) with every launch synced on its own: where the time goes.
    let Device::Gpu(ctx) = gpu else { return Err("the model section needs the GPU".into()) };
    ctx.start_kernel_profile().map_err(err)?;
    pollster::block_on(model.train_step(&[b.x.clone()], &[b.y.clone()])).map_err(err)?;
    let kernels = ctx.take_kernel_profile();
    let profiled: f64 = kernels.iter().map(|k| k.secs).sum();
    let launches: usize = kernels.iter().map(|k| k.launches).sum();
    ctx.start_kernel_profile().map_err(err)?;
    predict(&model, &b)?;
    let predict_kernels = ctx.take_kernel_profile();

    // The CPU reference, unless one step is predicted past the cap (scaled from batch 1).
    let (_, one_secs, _, _) = with_reference_kernels(|| time_steps(&spec, &Device::Cpu, 1, budget, 1))?;
    let cpu = if one_secs * n as f64 > cpu_cap_s {
        None
    } else {
        let (loss, secs, _, _) = with_reference_kernels(|| time_steps(&spec, &Device::Cpu, n, budget, 3))?;
        let diff = (loss - gpu_loss).abs();
        if diff > 1e-3 * loss.abs().max(1.0) {
            return Err(format!("{name}: first loss {gpu_loss} on the GPU, {loss} on the CPU reference"));
        }
        Some(secs)
    };

    println!();
    println!("  train step: GPU {:.1} ms; predict: GPU {:.1} ms", gpu_secs * 1e3, predict_secs * 1e3);
    match cpu {
        Some(c) => println!("  CPU reference {:.1} ms; GPU/ref {:.2}x", c * 1e3, c / gpu_secs),
        None => println!("  CPU reference: skipped (batch 1 took {:.1}s; x{n} exceeds --cpu-cap {cpu_cap_s}s)", one_secs),
    }
    println!(
        "  per kernel, one step with each of its {launches} launches synced alone ({:.1} ms in all):",
        profiled * 1e3
    );
    println!("  {:<40} {:>8} {:>10} {:>7}", "kernel", "launches", "ms", "share");
    for k in &kernels {
        println!("  {:<40} {:>8} {:>10.2} {:>6.1}%", k.kernel, k.launches, k.secs * 1e3, 100.0 * k.secs / profiled);
    }
    let predict_profiled: f64 = predict_kernels.iter().map(|k| k.secs).sum();
    println!("  predict, per kernel ({:.1} ms in all):", predict_profiled * 1e3);
    for k in &predict_kernels {
        println!("  {:<40} {:>8} {:>10.2} {:>6.1}%", k.kernel, k.launches, k.secs * 1e3, 100.0 * k.secs / predict_profiled);
    }
    println!();
    let report = json!({
        "benchmark": "gpu_model",
        "description": "one training step of a model (the chapter 9.3 mini-Xception without augmentation, or a \
            browser bench model): median ms on the GPU and on the CPU reference kernels (Device::Cpu), median GPU \
            predict, and one profiled GPU step and predict with each launch synced alone (kernel time plus one submit each)",
        "model": name,
        "adapter": machine.adapter,
        "machine": machine.json(),
        "batch": n,
        "input_side": side,
        "unix_time": SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        "first_loss": gpu_loss,
        "gpu_train_step_ms": gpu_secs * 1e3,
        "gpu_predict_ms": predict_secs * 1e3,
        "cpu_reference_train_step_ms": cpu.map(|c| c * 1e3),
        "gpu_over_cpu_reference": cpu.map(|c| c / gpu_secs),
        "profiled_step_ms": profiled * 1e3,
        "kernels": kernels.iter().map(|k| json!({"kernel": k.kernel, "launches": k.launches, "ms": k.secs * 1e3})).collect::<Vec<_>>(),
        "predict_kernels": predict_kernels.iter().map(|k| json!({"kernel": k.kernel, "launches": k.launches, "ms": k.secs * 1e3})).collect::<Vec<_>>(),
    });
    super::write_report("gpu_model.json", &report)
}
