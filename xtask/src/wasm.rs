//! The browser build: `convbook` for wasm32 in release, then wasm-bindgen's ES-module
//! glue into www/pkg (gitignored).

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use crate::setup::{self, WASM_TARGET};
use crate::util::{self, elapsed, note, root, run, step, Result};

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// Install what the build needs, build, and generate www/pkg: what readers get.
pub fn build() -> Result {
    build_with(&[])
}

/// The same with the `test-hooks` feature: the browser tests' entry points (a deliberate
/// panic, destroying the GPU device), never in the build `build` and `serve` make.
pub fn build_for_tests() -> Result {
    build_with(&["test-hooks"])
}

fn build_with(features: &[&str]) -> Result {
    setup::wasm_target()?;
    let bindgen = setup::wasm_bindgen()?;
    let start = Instant::now();
    step(&format!(
        "building convbook for the browser (wasm32, release{})",
        features.iter().map(|f| format!(", feature {f}")).collect::<String>()
    ));
    let mut cmd = util::cargo();
    cmd.args(["build", "--release", "--target", WASM_TARGET, "-p", "convbook", "--lib"]);
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    run(&mut cmd)?;
    let wasm = target_dir().join(WASM_TARGET).join("release/convbook.wasm");
    if !wasm.is_file() {
        return Err(format!("the build finished but {} is missing", wasm.display()));
    }
    let out_dir = root().join("www/pkg");
    run(Command::new(&bindgen).args(["--target", "web", "--out-dir"]).arg(&out_dir).arg(&wasm).current_dir(root()))?;
    let size = std::fs::metadata(out_dir.join("convbook_bg.wasm")).map(|m| m.len()).unwrap_or(0);
    note(&format!("www/pkg ready: convbook_bg.wasm {:.1} MiB ({})", size as f64 / (1 << 20) as f64, elapsed(start)));
    Ok(())
}
