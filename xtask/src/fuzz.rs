//! `cargo xtask fuzz`: the parser fuzz targets (tests/fuzz_parsers.rs) run for a time
//! instead of the short fixed number of cases `cargo xtask test` runs.

use crate::util::{self, Result};

pub const FLAGS: [&str; 2] = ["--seconds", "--seed"];

/// Runs every target `seconds` long (they run two at a time), from `seed`.
pub fn fuzz(seconds: f64, seed: Option<u64>) -> Result {
    util::step(&format!("fuzzing every parser for {seconds} s each (tests/fuzz_parsers.rs)"));
    let mut cmd = util::cargo();
    cmd.args(["test", "--package", "convbook", "--test", "fuzz_parsers", "--", "fuzz_", "--nocapture", "--test-threads", "2"])
        .env("CONVBOOK_FUZZ_SECONDS", seconds.to_string());
    if let Some(seed) = seed {
        cmd.env("CONVBOOK_FUZZ_SEED", seed.to_string());
    }
    util::run(&mut cmd).map_err(|e| format!("{e}\nfailing inputs are saved under target/fuzz-findings/"))
}
