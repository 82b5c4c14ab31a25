//! Matmul section of `cargo xtask bench`: the WGSL kernel on the native GPU adapter,
//! the fast CPU kernel (blocked GEMM) and the CPU reference kernel, through the
//! library's public API. Results go to the terminal and to bench-results/matmul.json.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use convbook::cpu::with_reference_kernels;
use convbook::{Device, Tensor};
use serde_json::json;

use super::machine::Machine;
use super::measure::{inputs, measure};
use crate::util::{note, step, Result};

fn gflops(n: usize, secs: f64) -> f64 {
    2.0 * (n as f64).powi(3) / secs / 1e9
}

pub fn run(gpu: &Device, machine: &Machine, sizes: &[usize]) -> Result {
    let cpu = Device::Cpu;
    step(&format!("matmul benchmark on {}", machine.device));
    machine.print();
    note("GPU: median of several runs after warm-up (matmul + sync); ref: CPU reference kernel, fewer runs at large sizes; fast: the CPU backend's blocked GEMM, one thread");
    println!();
    println!(
        "  {:>6} {:>10} {:>12} {:>10} {:>12} {:>9} {:>11} {:>10} {:>12} {:>9} {:>11}",
        "n", "GPU ms", "GPU GFLOP/s", "ref ms", "ref GFLOP/s", "GPU/ref", "max |diff|", "fast ms", "fast GFLOP/s", "fast/ref", "fast diff"
    );
    let mut rows = Vec::new();
    for &n in sizes {
        let a_host = inputs(n * n, 1 + n as u64);
        let b_host = inputs(n * n, 2 + n as u64);
        let err = |e: convbook::Error| format!("n={n}: {e}");

        let a = Tensor::from_f32(gpu, a_host.clone(), &[n, n]).map_err(err)?;
        let b = Tensor::from_f32(gpu, b_host.clone(), &[n, n]).map_err(err)?;
        let (gpu_s, gpu_runs) = measure(2, 3, 15, Duration::from_secs(4), || {
            let c = a.matmul(&b).map_err(err)?;
            pollster::block_on(gpu.sync()).map_err(err)?;
            drop(c);
            Ok(())
        })?;
        let gpu_c = a.matmul(&b).map_err(err)?;
        let gpu_out = pollster::block_on(gpu_c.to_f32_vec()).map_err(err)?;

        let ac = Tensor::from_f32(&cpu, a_host, &[n, n]).map_err(err)?;
        let bc = Tensor::from_f32(&cpu, b_host, &[n, n]).map_err(err)?;
        let mut cpu_out = Vec::new();
        // The reference is O(n³) scalar code: warm up and repeat only while it is quick.
        let warm = usize::from(n <= 512);
        let (cpu_s, cpu_runs) = with_reference_kernels(|| {
            measure(warm, 1, 5, Duration::from_secs(3), || {
                let c = ac.matmul(&bc).map_err(err)?;
                cpu_out = pollster::block_on(c.to_f32_vec()).map_err(err)?;
                Ok(())
            })
        })?;
        let mut fast_out = Vec::new();
        let (fast_s, fast_runs) = measure(1, 3, 15, Duration::from_secs(3), || {
            let c = ac.matmul(&bc).map_err(err)?;
            fast_out = pollster::block_on(c.to_f32_vec()).map_err(err)?;
            Ok(())
        })?;

        if gpu_out.len() != n * n || cpu_out.len() != n * n {
            return Err(format!(
                "n={n}: got {} GPU and {} CPU values, expected {}",
                gpu_out.len(),
                cpu_out.len(),
                n * n
            ));
        }
        let diff = |x: &[f32]| x.iter().zip(&cpu_out).map(|(g, c)| (g - c).abs()).fold(0f32, f32::max);
        let (max_diff, fast_diff) = (diff(&gpu_out), diff(&fast_out));
        let (g, c, f) = (gflops(n, gpu_s), gflops(n, cpu_s), gflops(n, fast_s));
        println!(
            "  {:>6} {:>10.1} {:>12.2} {:>10.1} {:>12.2} {:>9} {:>11.2e} {:>10.1} {:>12.2} {:>9} {:>11.2e}",
            n,
            gpu_s * 1e3,
            g,
            cpu_s * 1e3,
            c,
            format!("{:.2}x", g / c),
            max_diff,
            fast_s * 1e3,
            f,
            format!("{:.1}x", f / c),
            fast_diff
        );
        rows.push(json!({
            "n": n,
            "gpu_ms": gpu_s * 1e3,
            "gpu_gflops": g,
            "gpu_runs": gpu_runs,
            "cpu_ms": cpu_s * 1e3,
            "cpu_gflops": c,
            "cpu_runs": cpu_runs,
            "speedup": g / c,
            "max_abs_diff": max_diff,
            "fast_cpu_ms": fast_s * 1e3,
            "fast_cpu_gflops": f,
            "fast_cpu_runs": fast_runs,
            "fast_over_reference": f / c,
            "fast_max_abs_diff": fast_diff,
        }));
    }
    println!();
    let report = json!({
        "benchmark": "matmul",
        "description": "C = A @ B, square float32 matrices; GFLOP/s = 2 n^3 / median time; cpu_*: the CPU reference kernel, fast_cpu_*: the CPU backend (blocked GEMM, one thread); diffs against the reference",
        "adapter": machine.adapter,
        "device": machine.device,
        "machine": machine.json(),
        "unix_time": SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        "results": rows,
    });
    super::write_report("matmul.json", &report)
}
