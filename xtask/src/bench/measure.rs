//! Timing and test data shared by the bench sections.

use std::time::{Duration, Instant};

use crate::util::Result;

/// Deterministic inputs in [-1, 1) without pulling in a RNG crate.
pub fn inputs(n: usize, seed: u64) -> Vec<f32> {
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
pub fn measure(
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

/// Largest |a - b| relative to the largest |b|: one number that reads the same for
/// outputs of any scale (kernel gradients sum over every pixel of the batch).
pub fn max_rel_diff(a: &[f32], b: &[f32]) -> Result<f64> {
    if a.len() != b.len() {
        return Err(format!("got {} GPU and {} CPU values", a.len(), b.len()));
    }
    let scale = b.iter().fold(0f64, |m, v| m.max(v.abs() as f64)).max(f64::MIN_POSITIVE);
    let diff = a.iter().zip(b).fold(0f64, |m, (x, y)| m.max((x - y).abs() as f64));
    Ok(diff / scale)
}
