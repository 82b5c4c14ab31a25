//! `cargo xtask bench`: matmul throughput, the WGSL kernel on the native GPU adapter
//! against the CPU reference kernel, through the library's public API. Results go to
//! the terminal and to bench-results/matmul.json.

#[cfg(feature = "bench")]
pub use engine::bench;

use crate::util::Result;

pub const DEFAULT_SIZES: [usize; 4] = [256, 512, 1024, 2048];

#[cfg(feature = "bench")]
mod engine {
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use convbook::{Device, Tensor};
    use serde_json::json;

    use crate::util::{note, root, step, Result, RuntimeDir};

    /// Deterministic inputs in [-1, 1) without pulling in a RNG crate.
    fn inputs(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(|a, b| a.total_cmp(b));
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }

    /// Time `f` after `warmup` calls: at least `min_runs`, at most `max_runs`, stopping early
    /// once `budget` is spent. Returns (median seconds, runs).
    fn measure(
        warmup: usize,
        min_runs: usize,
        max_runs: usize,
        budget: Duration,
        mut f: impl FnMut() -> Result,
    ) -> Result<(f64, usize)> {
        // Warm-up stops early once a call takes over a second (slow software adapters).
        for _ in 0..warmup {
            let t = Instant::now();
            f()?;
            if t.elapsed() > Duration::from_secs(1) {
                break;
            }
        }
        let start = Instant::now();
        let mut times = Vec::new();
        while times.len() < min_runs || (times.len() < max_runs && start.elapsed() < budget) {
            let t = Instant::now();
            f()?;
            times.push(t.elapsed().as_secs_f64());
        }
        let runs = times.len();
        Ok((median(times), runs))
    }

    fn gflops(n: usize, secs: f64) -> f64 {
        2.0 * (n as f64).powi(3) / secs / 1e9
    }

    pub fn bench(sizes: &[usize]) -> Result {
        // mesa warns without a runtime dir; keep ours private and temporary.
        let _runtime = match std::env::var_os("XDG_RUNTIME_DIR") {
            Some(_) => None,
            None => {
                let dir = RuntimeDir::new()?;
                std::env::set_var("XDG_RUNTIME_DIR", &dir.0);
                Some(dir)
            }
        };
        let gpu = pollster::block_on(Device::gpu())
            .map_err(|e| format!("no GPU: {e} (install mesa-vulkan-drivers for lavapipe)"))?;
        let cpu = Device::Cpu;
        let summary = match &gpu {
            Device::Gpu(ctx) => ctx.summary().clone(),
            Device::Cpu => unreachable!("Device::gpu returned the CPU"),
        };
        step(&format!("matmul benchmark on {}", gpu.describe()));
        note("GPU: median of several runs after warm-up (matmul + sync); CPU: reference kernel, fewer runs at large sizes");
        println!();
        println!(
            "  {:>6} {:>10} {:>12} {:>10} {:>12} {:>9} {:>11}",
            "n", "GPU ms", "GPU GFLOP/s", "CPU ms", "CPU GFLOP/s", "GPU/CPU", "max |diff|"
        );
        let mut rows = Vec::new();
        for &n in sizes {
            let a_host = inputs(n * n, 1 + n as u64);
            let b_host = inputs(n * n, 2 + n as u64);
            let err = |e: convbook::Error| format!("n={n}: {e}");

            let a = Tensor::from_f32(&gpu, a_host.clone(), &[n, n]).map_err(err)?;
            let b = Tensor::from_f32(&gpu, b_host.clone(), &[n, n]).map_err(err)?;
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
            let (cpu_s, cpu_runs) = measure(warm, 1, 5, Duration::from_secs(3), || {
                let c = ac.matmul(&bc).map_err(err)?;
                cpu_out = pollster::block_on(c.to_f32_vec()).map_err(err)?;
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
            let max_diff = gpu_out.iter().zip(&cpu_out).map(|(g, c)| (g - c).abs()).fold(0f32, f32::max);
            let (g, c) = (gflops(n, gpu_s), gflops(n, cpu_s));
            println!(
                "  {:>6} {:>10.1} {:>12.2} {:>10.1} {:>12.2} {:>9} {:>11.2e}",
                n,
                gpu_s * 1e3,
                g,
                cpu_s * 1e3,
                c,
                format!("{:.2}x", g / c),
                max_diff
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
            }));
        }
        println!();
        let report = json!({
            "benchmark": "matmul",
            "description": "C = A @ B, square float32 matrices; GFLOP/s = 2 n^3 / median time",
            "adapter": summary,
            "device": gpu.describe(),
            "unix_time": SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            "results": rows,
        });
        let dir = root().join("bench-results");
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join("matmul.json");
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(&path, text + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        note(&format!(
            "adapter: {} ({}, {}, driver {})",
            summary.name, summary.backend, summary.device_type, summary.driver
        ));
        if summary.device_type == "Cpu" {
            note("this adapter is a software rasterizer on the CPU: its numbers say nothing about a real GPU");
        }
        note("wrote bench-results/matmul.json");
        Ok(())
    }
}

pub fn parse_sizes(s: &str) -> Result<Vec<usize>> {
    s.split(',')
        .map(|p| {
            p.trim()
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or(format!("bad size '{p}' in --sizes (want e.g. 256,512)"))
        })
        .collect()
}
