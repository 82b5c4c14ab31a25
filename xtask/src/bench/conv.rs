//! Conv section of `cargo xtask bench`: forward, input gradient and kernel gradient of
//! every convolution shape of the seed models, on the GPU, the CPU reference and the
//! fast CPU backend, as a table on stdout and bench-results/conv.json.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use convbook::cpu::with_reference_kernels;
use convbook::{Device, Tensor};
use serde_json::{json, Value};

use super::conv_ops::{proxy, Operands, Pass, Spec, PASSES};
use super::machine::Machine;
use super::measure::{max_rel_diff, measure};
use super::seed_layers::{self, Case, Model};
use super::Options;
use crate::util::{elapsed, note, step, Result};

enum Cpu {
    Measured { secs: f64, runs: usize },
    Skipped { estimate: f64 },
}

struct Row {
    pass: Pass,
    gflop: f64,
    gpu_secs: f64,
    gpu_runs: usize,
    cpu: Cpu,
    rel_diff: Option<f64>,
    /// The fast CPU backend; its difference is to the reference.
    fast: Cpu,
    fast_diff: Option<f64>,
}

/// One model's training step, summed over its conv layers.
struct Total {
    model: &'static str,
    batch: usize,
    gflop: f64,
    gpu_secs: f64,
    cpu_secs: f64,
    cpu_skipped: usize,
    fast_secs: f64,
    fast_skipped: usize,
}

struct Limits {
    budget: Duration,
    cpu_cap: f64,
}

pub fn run(gpu: &Device, machine: &Machine, opts: &Options) -> Result {
    let started = Instant::now();
    let models = opts
        .models
        .iter()
        .map(|m| seed_layers::model(m).ok_or(format!("unknown model '{m}'")))
        .collect::<Result<Vec<Model>>>()?;
    for m in &models {
        if let Some((layer, ours, keras)) = m.param_mismatches().first() {
            return Err(format!("{} {layer}: {ours} parameters here, {keras} in the Keras summary", m.name));
        }
    }
    let batch_of = |m: &Model| opts.batch.unwrap_or(m.bench_batch);
    let cases = seed_layers::cases(&models, opts.batch);
    let limits = Limits { budget: Duration::from_secs_f64(opts.budget_s), cpu_cap: opts.cpu_cap_s };

    step(&format!("conv benchmark on {}", machine.device));
    machine.print();
    for m in &models {
        println!("  {}: batch {} (the chapter trains with {})", m.title, batch_of(m), m.chapter_batch);
    }
    let uses: usize = cases.iter().map(|c| c.uses.len()).sum();
    println!(
        "  {uses} conv ops (a SeparableConv2D is a depthwise and a pointwise op), {} distinct shapes",
        cases.len()
    );
    println!("  GPU: warm-up, then the median of up to 10 runs or {}s, each op + device sync", opts.budget_s);
    println!(
        "  CPU: reference kernel, the median of up to 5 runs or {}s; skipped where a timed slice of the op \
         predicts over {}s",
        opts.budget_s, opts.cpu_cap_s
    );
    println!("  fast: the CPU backend (im2col + blocked GEMM, one thread), timed like the reference; its rel diff is to the reference");
    println!("  GFLOP = 2 x multiply-adds of the pass, padding taps included; dX input gradient, dW kernel gradient");
    println!();
    println!(
        "  {:<4} {:>8} {:>9} {:>11} {:>9} {:>11} {:>8} {:>9} {:>9} {:>11} {:>8} {:>9}",
        "pass", "GFLOP", "GPU ms", "GPU GFLOP/s", "ref ms", "ref GFLOP/s", "GPU/ref", "rel diff", "fast ms", "fast GFLOP/s", "fast/ref", "rel diff"
    );

    let mut totals: Vec<Total> = models
        .iter()
        .map(|m| Total {
            model: m.name,
            batch: batch_of(m),
            gflop: 0.0,
            gpu_secs: 0.0,
            cpu_secs: 0.0,
            cpu_skipped: 0,
            fast_secs: 0.0,
            fast_skipped: 0,
        })
        .collect();
    let mut report = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let spec = Spec::of(&case.shape);
        check_keras(case, &spec)?;
        println!("  {}", title(case, &spec)?);
        let rows = time_case(gpu, case, &spec, 1000 + 10 * i as u64, &limits)
            .map_err(|e| format!("{}: {e}", title(case, &spec).unwrap_or_default()))?;
        for row in &rows {
            for u in &case.uses {
                if row.pass == Pass::GradInput && u.data_input {
                    continue;
                }
                let t = totals.iter_mut().find(|t| t.model == u.model).expect("a total per model");
                t.gflop += row.gflop;
                t.gpu_secs += row.gpu_secs;
                match row.cpu {
                    Cpu::Measured { secs, .. } => t.cpu_secs += secs,
                    Cpu::Skipped { .. } => t.cpu_skipped += 1,
                }
                match row.fast {
                    Cpu::Measured { secs, .. } => t.fast_secs += secs,
                    Cpu::Skipped { .. } => t.fast_skipped += 1,
                }
            }
        }
        report.push(case_json(case, &spec, &rows)?);
    }

    println!();
    println!("  one training step's convolutions (fwd + dX + dW of every layer, no dX where the input is data):");
    for t in &totals {
        let cpu = if t.cpu_skipped > 0 {
            format!("ref: {} passes skipped", t.cpu_skipped)
        } else {
            format!(
                "ref {:.1} ms = {:.2} GFLOP/s; GPU/ref {:.2}x",
                t.cpu_secs * 1e3,
                t.gflop / t.cpu_secs,
                t.cpu_secs / t.gpu_secs
            )
        };
        let fast = if t.fast_skipped > 0 {
            format!("fast: {} passes skipped", t.fast_skipped)
        } else if t.cpu_skipped > 0 {
            format!("fast {:.1} ms = {:.2} GFLOP/s", t.fast_secs * 1e3, t.gflop / t.fast_secs)
        } else {
            format!(
                "fast {:.1} ms = {:.2} GFLOP/s; fast/ref {:.1}x",
                t.fast_secs * 1e3,
                t.gflop / t.fast_secs,
                t.cpu_secs / t.fast_secs
            )
        };
        println!(
            "    {} (batch {}): {:.2} GFLOP; GPU {:.1} ms = {:.2} GFLOP/s; {cpu}; {fast}",
            t.model,
            t.batch,
            t.gflop,
            t.gpu_secs * 1e3,
            t.gflop / t.gpu_secs
        );
    }
    println!();

    let report = json!({
        "benchmark": "conv",
        "description": "forward, input gradient (grad_input) and kernel gradient (grad_kernel) of the seed models' \
            convolutions, float32 NHWC; GFLOP = 2 x multiply-adds with every kernel tap of every window \
            (macs; macs_inside_input leaves out the taps in the padding); times are medians, GPU ones include a \
            device sync; cpu_* is the single-threaded reference, fast_cpu_* the CPU backend (im2col + blocked GEMM, \
            one thread; its max_rel_diff is to the reference), each skipped where its estimate exceeds cpu_cap_s",
        "adapter": machine.adapter,
        "machine": machine.json(),
        "settings": {
            "budget_s": opts.budget_s,
            "cpu_cap_s": opts.cpu_cap_s,
            "models": models.iter().map(|m| json!({
                "name": m.name,
                "title": m.title,
                "batch": batch_of(m),
                "chapter_batch": m.chapter_batch,
            })).collect::<Vec<_>>(),
        },
        "unix_time": SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        "cases": report,
        "training_step_totals": totals.iter().map(|t| json!({
            "model": t.model,
            "batch": t.batch,
            "gflop": t.gflop,
            "gpu_ms": t.gpu_secs * 1e3,
            "cpu_ms": (t.cpu_skipped == 0).then_some(t.cpu_secs * 1e3),
            "cpu_passes_skipped": t.cpu_skipped,
            "fast_cpu_ms": (t.fast_skipped == 0).then_some(t.fast_secs * 1e3),
            "fast_cpu_passes_skipped": t.fast_skipped,
        })).collect::<Vec<_>>(),
    });
    super::write_report("conv.json", &report)?;
    note(&format!("conv benchmark took {}", elapsed(started)));
    Ok(())
}

/// The library must derive the output shapes Keras printed for these layers.
fn check_keras(case: &Case, spec: &Spec) -> Result {
    let out = spec.output_shape()?;
    for u in &case.uses {
        if let Some(k) = u.keras_output {
            if out[1..] != k[..] {
                return Err(format!(
                    "{} {}: the library gives output {} but the Keras summary has {k:?}",
                    u.model,
                    u.layer,
                    dims(&out)
                ));
            }
        }
    }
    Ok(())
}

fn time_case(gpu: &Device, case: &Case, spec: &Spec, seed: u64, limits: &Limits) -> Result<Vec<Row>> {
    let bias = case.shape.bias;
    let full = [Operands::new(gpu, spec, bias, seed)?, Operands::new(&Device::Cpu, spec, bias, seed)?];
    let slice = Spec::of(&proxy(&case.shape));
    let sliced = [Operands::new(gpu, &slice, bias, seed)?, Operands::new(&Device::Cpu, &slice, bias, seed)?];
    let (macs, slice_macs) = (spec.macs()?, slice.macs()?);
    let input_is_data = case.uses.iter().all(|u| u.data_input);
    let mut rows = Vec::new();
    for pass in PASSES {
        let gpu_run = |spec: &Spec, operands: &Operands| -> Result<Tensor> {
            let y = spec.run(pass, operands)?;
            pollster::block_on(gpu.sync()).map_err(|e| e.to_string())?;
            Ok(y)
        };
        // The slice compiles the pipelines at little cost; the full op warms up as well
        // unless the slice predicts it slow (a software adapter takes seconds).
        let t = Instant::now();
        gpu_run(&slice, &sliced[0])?;
        if t.elapsed().as_secs_f64() * scale(macs.0, slice_macs.0) < limits.budget.as_secs_f64() / 4.0 {
            gpu_run(spec, &full[0])?;
        }
        let mut out = None;
        let (gpu_secs, gpu_runs) = measure(0, 1, 10, limits.budget, || {
            out = Some(gpu_run(spec, &full[0])?);
            Ok(())
        })?;
        let gpu_out = read(out)?;

        // The reference's time grows with the multiply-adds it does: the in-bounds ones.
        let (cpu, ref_out) = with_reference_kernels(|| time_cpu(pass, spec, &slice, &full[1], &sliced[1], limits))?;
        let rel_diff = ref_out.as_ref().map(|r| max_rel_diff(&gpu_out, r)).transpose()?;
        let (fast, fast_out) = time_cpu(pass, spec, &slice, &full[1], &sliced[1], limits)?;
        let fast_diff = match (&fast_out, &ref_out) {
            (Some(f), Some(r)) => Some(max_rel_diff(f, r)?),
            _ => None,
        };
        let row = Row { pass, gflop: 2.0 * macs.0 as f64 / 1e9, gpu_secs, gpu_runs, cpu, rel_diff, fast, fast_diff };
        print_row(&row, pass == Pass::GradInput && input_is_data);
        rows.push(row);
    }
    Ok(rows)
}

/// One pass on the CPU with the kernels in force: skipped where the slice's time scaled
/// to the full op's in-bounds multiply-adds exceeds the cap; else its time and output.
fn time_cpu(
    pass: Pass,
    spec: &Spec,
    slice: &Spec,
    full: &Operands,
    sliced: &Operands,
    limits: &Limits,
) -> Result<(Cpu, Option<Vec<f32>>)> {
    let t = Instant::now();
    slice.run(pass, sliced)?;
    let estimate = t.elapsed().as_secs_f64() * scale(spec.macs()?.1, slice.macs()?.1);
    if estimate > limits.cpu_cap {
        return Ok((Cpu::Skipped { estimate }, None));
    }
    let mut out = None;
    let (secs, runs) = measure(0, 1, 5, limits.budget, || {
        out = Some(spec.run(pass, full)?);
        Ok(())
    })?;
    Ok((Cpu::Measured { secs, runs }, Some(read(out)?)))
}

fn scale(full: u64, slice: u64) -> f64 {
    full as f64 / slice.max(1) as f64
}

fn read(t: Option<Tensor>) -> Result<Vec<f32>> {
    let t = t.ok_or("no run was timed")?;
    pollster::block_on(t.to_f32_vec()).map_err(|e| e.to_string())
}

fn print_row(row: &Row, unused_in_training: bool) {
    let gpu_rate = row.gflop / row.gpu_secs;
    let cpu = match row.cpu {
        Cpu::Measured { secs, .. } => format!(
            "{:>9.2} {:>11.2} {:>8} {:>9.1e}",
            secs * 1e3,
            row.gflop / secs,
            format!("{:.2}x", gpu_rate / (row.gflop / secs)),
            row.rel_diff.unwrap_or(f64::NAN)
        ),
        Cpu::Skipped { estimate } => {
            let est = if estimate < 10.0 { format!("{estimate:.1}s") } else { format!("{estimate:.0}s") };
            format!("{:>21} {:>8} {:>9}", format!("skipped (est. {est})"), "-", "-")
        }
    };
    let fast = match (&row.fast, &row.cpu) {
        (Cpu::Measured { secs, .. }, reference) => format!(
            "{:>9.2} {:>11.2} {:>8} {:>9.1e}",
            secs * 1e3,
            row.gflop / secs,
            match reference {
                Cpu::Measured { secs: r, .. } => format!("{:.1}x", r / secs),
                Cpu::Skipped { .. } => "-".to_string(),
            },
            row.fast_diff.unwrap_or(f64::NAN)
        ),
        (Cpu::Skipped { estimate }, _) => format!("{:>21} {:>8} {:>9}", format!("skipped (est. {estimate:.0}s)"), "-", "-"),
    };
    let note = if unused_in_training { "  (unused in training: the input is data)" } else { "" };
    println!(
        "  {:<4} {:>8.3} {:>9.2} {:>11.2} {cpu} {fast}{note}",
        row.pass.label(),
        row.gflop,
        row.gpu_secs * 1e3,
        gpu_rate
    );
}

/// "mnist conv2d: Conv2D 3x3/1 valid +bias, 64x28x28x1 -> 64x26x26x32"; layers of
/// the same shape are listed together.
fn title(case: &Case, spec: &Spec) -> Result<String> {
    let mut names: Vec<(&str, Vec<&str>)> = Vec::new();
    for u in &case.uses {
        match names.iter_mut().find(|(m, _)| *m == u.model) {
            Some((_, layers)) => layers.push(&u.layer),
            None => names.push((u.model, vec![&u.layer])),
        }
    }
    let names = names.iter().map(|(m, l)| format!("{m} {}", l.join(", "))).collect::<Vec<_>>().join("; ");
    let s = &case.shape;
    Ok(format!(
        "{names}: {} {k}x{k}/{} {}{}, {} -> {}",
        s.kind.keras(),
        s.stride,
        if s.same { "same" } else { "valid" },
        if s.bias { " +bias" } else { "" },
        dims(&spec.input_shape()),
        dims(&spec.output_shape()?),
        k = s.kernel,
    ))
}

fn dims(shape: &[usize]) -> String {
    shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("x")
}

fn case_json(case: &Case, spec: &Spec, rows: &[Row]) -> Result<Value> {
    let s = &case.shape;
    let (macs, inside) = spec.macs()?;
    let mut passes = serde_json::Map::new();
    for r in rows {
        let (cpu_secs, cpu_runs, estimate) = match r.cpu {
            Cpu::Measured { secs, runs } => (Some(secs), runs, None),
            Cpu::Skipped { estimate } => (None, 0, Some(estimate)),
        };
        let (fast_secs, fast_runs, fast_estimate) = match r.fast {
            Cpu::Measured { secs, runs } => (Some(secs), runs, None),
            Cpu::Skipped { estimate } => (None, 0, Some(estimate)),
        };
        passes.insert(
            r.pass.key().to_string(),
            json!({
                "gflop": r.gflop,
                "gpu_ms": r.gpu_secs * 1e3,
                "gpu_gflops": r.gflop / r.gpu_secs,
                "gpu_runs": r.gpu_runs,
                "cpu_ms": cpu_secs.map(|s| s * 1e3),
                "cpu_gflops": cpu_secs.map(|s| r.gflop / s),
                "cpu_runs": cpu_runs,
                "cpu_skipped_estimate_s": estimate,
                "gpu_over_cpu": cpu_secs.map(|s| s / r.gpu_secs),
                "max_rel_diff": r.rel_diff,
                "fast_cpu_ms": fast_secs.map(|s| s * 1e3),
                "fast_cpu_gflops": fast_secs.map(|s| r.gflop / s),
                "fast_cpu_runs": fast_runs,
                "fast_cpu_skipped_estimate_s": fast_estimate,
                "fast_over_reference": fast_secs.zip(cpu_secs).map(|(f, c)| c / f),
                "fast_max_rel_diff_to_reference": r.fast_diff,
            }),
        );
    }
    Ok(json!({
        "op": s.kind.keras(),
        "layers": case.uses.iter().map(|u| json!({
            "model": u.model,
            "layer": u.layer,
            "input_is_data": u.data_input,
        })).collect::<Vec<_>>(),
        "input_shape": spec.input_shape(),
        "kernel_shape": spec.kernel_shape(),
        "output_shape": spec.output_shape()?,
        "strides": [s.stride, s.stride],
        "padding": if s.same { "same" } else { "valid" },
        "bias": s.bias,
        "macs": macs,
        "macs_inside_input": inside,
        "passes": passes,
    }))
}
