//! A small mutation fuzzer on stable Rust: valid seed files are mutated (bit flips,
//! truncation, splices, header fields set to huge values, digits in text replaced by huge
//! numbers) and each parser must return — Ok or Err — without panicking, without
//! allocating past a cap, and within a time bound.
//!
//! Runs are seeded and deterministic for a fixed number of cases; `CONVBOOK_FUZZ_SECONDS`
//! turns a run into a time-bounded one (what `cargo xtask fuzz` does), and
//! `CONVBOOK_FUZZ_SEED` changes the seed. A failing input is written under
//! `target/fuzz-findings/` so it can become a regression test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// The byte budget the parsers get in this binary (see `convbook::limits`): small, so a
/// header that slips past the checks shows up as an allocation past [`PEAK_CAP`].
pub const BUDGET: usize = 16 << 20;
/// Most bytes one case may hold live at once: the budget plus room for a decoded copy
/// or two and the seeds.
pub const PEAK_CAP: usize = 8 * BUDGET;
/// One allocation this large means a size came straight from a header: refuse it, which
/// aborts the process loudly instead of swapping the machine.
const HARD_CAP: usize = 1 << 30;
/// Longest one case may take.
pub const CASE_TIME: Duration = Duration::from_secs(3);

/// Counts live bytes per thread (each fuzz target runs on its own test thread).
pub struct CountingAlloc;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    // try_with: the thread-local may already be gone while a thread exits.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > HARD_CAP {
            return std::ptr::null_mut();
        }
        track(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > HARD_CAP {
            return std::ptr::null_mut();
        }
        track(layout.size() as isize);
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > HARD_CAP {
            return std::ptr::null_mut();
        }
        track(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Bytes allocated on this thread past what was live when the case started.
fn reset_peak() -> isize {
    let live = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(live));
    live
}

fn peak_since(base: isize) -> usize {
    (PEAK.with(Cell::get) - base).max(0) as usize
}

/// Huge values a header field might be set to.
const HUGE: [u64; 8] = [
    u32::MAX as u64,
    i32::MAX as u64,
    0x8000_0000,
    0x0100_0000,
    u64::MAX,
    i64::MAX as u64,
    1 << 40,
    65535,
];

/// One to four stacked mutations of `input`; `others` supplies splice material.
pub fn mutate(rng: &mut SmallRng, input: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let len = out.len();
        match rng.random_range(0..9) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                out[i] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                out[i] = rng.random();
            }
            2 => out.truncate(rng.random_range(0..=len)),
            3 if len > 0 => {
                let (a, b) = ordered(rng, len);
                out.drain(a..b);
            }
            4 => {
                let at = rng.random_range(0..=len);
                let n = rng.random_range(1..=16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                out.splice(at..at, bytes);
            }
            5 if !others.is_empty() => {
                let other = &others[rng.random_range(0..others.len())];
                if !other.is_empty() {
                    let (a, b) = ordered(rng, other.len());
                    let at = rng.random_range(0..=len);
                    let cut = rng.random_range(at..=len);
                    out.splice(at..cut, other[a..b].iter().copied());
                }
            }
            6 if len >= 8 => {
                // A binary header field: 2, 4 or 8 bytes, either byte order.
                let width = [2usize, 4, 8][rng.random_range(0..3)];
                let at = rng.random_range(0..=len - width.min(len));
                let value = HUGE[rng.random_range(0..HUGE.len())];
                let bytes = if rng.random() { value.to_le_bytes() } else { value.to_be_bytes() };
                let bytes = if rng.random() { &bytes[..width] } else { &bytes[8 - width..] };
                out[at..at + width].copy_from_slice(bytes);
            }
            7 => replace_number(rng, &mut out),
            8 if len > 0 => {
                // Repeat a chunk: runs, nested lists, long shapes.
                let (a, b) = ordered(rng, len);
                let chunk = out[a..b].to_vec();
                for _ in 0..rng.random_range(1..=8) {
                    out.splice(b..b, chunk.iter().copied());
                }
            }
            _ => {}
        }
    }
    out
}

fn ordered(rng: &mut SmallRng, len: usize) -> (usize, usize) {
    let a = rng.random_range(0..len);
    let b = rng.random_range(a..=len.min(a + 64));
    (a, b)
}

/// Replaces one run of ASCII digits (a shape, a size, a unit count in text) with a
/// huge, negative or fractional number.
fn replace_number(rng: &mut SmallRng, out: &mut Vec<u8>) {
    let starts: Vec<usize> = (0..out.len())
        .filter(|&i| out[i].is_ascii_digit() && (i == 0 || !out[i - 1].is_ascii_digit()))
        .collect();
    if starts.is_empty() {
        return;
    }
    let a = starts[rng.random_range(0..starts.len())];
    let b = (a..out.len()).find(|&i| !out[i].is_ascii_digit()).unwrap_or(out.len());
    const NUMBERS: [&str; 9] = [
        "4294967296",
        "1000000000",
        "99999999999999999999",
        "18446744073709551615",
        "-1",
        "0",
        "1e9",
        "2.5",
        "65536",
    ];
    let n = NUMBERS[rng.random_range(0..NUMBERS.len())];
    out.splice(a..b, n.bytes());
}

/// How long or how many cases a target runs, from the environment.
pub struct Plan {
    pub seed: u64,
    pub cases: usize,
    pub seconds: Option<f64>,
}

impl Plan {
    /// `cases` is the deterministic default; `CONVBOOK_FUZZ_SECONDS` replaces it by a
    /// time bound per target.
    pub fn from_env(cases: usize) -> Plan {
        let seconds = std::env::var("CONVBOOK_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok());
        let seed = std::env::var("CONVBOOK_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
        Plan { seed, cases, seconds }
    }
}

/// What one target's run found.
pub struct Report {
    pub target: &'static str,
    pub tried: usize,
    pub ok: usize,
    pub findings: Vec<String>,
}

/// Runs `parse` on every seed, then on mutations of them, under the guards. Returns the
/// report; the caller asserts that nothing was found.
pub fn fuzz<T>(
    target: &'static str,
    seeds: &[Vec<u8>],
    plan: &Plan,
    mut parse: impl FnMut(&[u8]) -> convbook::Result<T>,
) -> Report {
    convbook::limits::set_byte_budget(BUDGET);
    let mut rng = SmallRng::seed_from_u64(plan.seed ^ fnv(target));
    let started = Instant::now();
    let mut report = Report { target, tried: 0, ok: 0, findings: vec![] };
    loop {
        let done = match plan.seconds {
            Some(s) => started.elapsed().as_secs_f64() >= s,
            None => report.tried >= plan.cases + seeds.len(),
        };
        if done {
            break;
        }
        let input = if report.tried < seeds.len() {
            seeds[report.tried].clone()
        } else {
            let seed = &seeds[rng.random_range(0..seeds.len())];
            mutate(&mut rng, seed, seeds)
        };
        report.tried += 1;
        let base = reset_peak();
        let t = Instant::now();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(&input).is_ok()));
        let (elapsed, peak) = (t.elapsed(), peak_since(base));
        let problem = match outcome {
            Err(panic) => Some(format!("panicked: {}", panic_message(&panic))),
            Ok(_) if peak > PEAK_CAP => Some(format!("allocated {peak} bytes at once (cap {PEAK_CAP})")),
            Ok(_) if elapsed > CASE_TIME => Some(format!("took {elapsed:?} (bound {CASE_TIME:?})")),
            Ok(ok) => {
                report.ok += ok as usize;
                None
            }
        };
        if let Some(problem) = problem {
            let file = save_finding(target, report.findings.len(), &input);
            report.findings.push(format!("case {}: {problem} (input saved as {file})", report.tried));
        }
    }
    eprintln!(
        "fuzz {target}: {} inputs tried ({} parsed, {} refused), {} findings in {:.1?}",
        report.tried,
        report.ok,
        report.tried - report.ok - report.findings.len(),
        report.findings.len(),
        started.elapsed()
    );
    report
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

fn save_finding(target: &str, n: usize, input: &[u8]) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-findings");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{target}-{n}.bin"));
    let _ = std::fs::write(&path, input);
    format!("target/fuzz-findings/{target}-{n}.bin")
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}
