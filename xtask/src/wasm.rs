//! The browser build: `convbook` for wasm32 in release, then wasm-bindgen's ES-module
//! glue into www/pkg (gitignored), or, with the browser tests' hooks, into target/test-pkg.
//!
//! Two builds of the same crate go into each package: `convbook_bg.wasm` (SIMD128, which
//! every browser with WebAssembly SIMD runs) and [`RELAXED_WASM`], compiled with relaxed
//! SIMD as well, whose fused multiply-add speeds up the CPU backend's GEMM. A module using
//! relaxed SIMD fails to validate where the browser lacks it, so the page picks one by a
//! feature check (www/kernel/wasm-build.js). Both have the same exports, so one glue loads
//! either; the glue names the second file in an export the loader reads.

use std::path::{Path, PathBuf};
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
    build_with(&[], &root().join("www/pkg"))
}

/// Where `build_for_tests` puts its package: outside www/, so neither `serve` (which
/// serves www/) nor the deployable www/dist (a copy of www/pkg) can ever ship the hooks.
/// The browser tests find it through the `CONVBOOK_TEST_PKG` environment variable.
pub fn test_pkg_dir() -> PathBuf {
    target_dir().join("test-pkg")
}

/// The same with the `test-hooks` feature: the browser tests' entry points (a deliberate
/// panic, destroying the GPU device), into [`test_pkg_dir`].
pub fn build_for_tests() -> Result {
    build_with(&["test-hooks"], &test_pkg_dir())
}

/// The relaxed-SIMD build's file name, beside `convbook_bg.wasm`.
pub const RELAXED_WASM: &str = "convbook_relaxed_bg.wasm";

/// The export appended to the glue that names [`RELAXED_WASM`] (the loader resolves it
/// against the glue's URL; the deployable build renames the file and this string with it).
const RELAXED_EXPORT: &str = "RELAXED_SIMD_WASM";

fn build_with(features: &[&str], out_dir: &Path) -> Result {
    setup::wasm_target()?;
    let bindgen = setup::wasm_bindgen()?;
    let start = Instant::now();
    step(&format!(
        "building convbook for the browser (wasm32, release{})",
        features.iter().map(|f| format!(", feature {f}")).collect::<String>()
    ));
    let wasm = compile(features, None)?;
    run(Command::new(&bindgen).args(["--target", "web", "--out-dir"]).arg(out_dir).arg(&wasm).current_dir(root()))?;
    let size = std::fs::metadata(out_dir.join("convbook_bg.wasm")).map(|m| m.len()).unwrap_or(0);

    step("building it again with relaxed SIMD (fused multiply-add in the CPU GEMM)");
    // The flag goes to our crate only (`cargo rustc`), so no dependency is rebuilt; the
    // next plain build recompiles the crate, which both builds pay anyway after an edit.
    let relaxed = compile(features, Some("target-feature=+relaxed-simd"))?;
    let staging = target_dir().join("relaxed-bindgen");
    run(Command::new(&bindgen).args(["--target", "web", "--out-dir"]).arg(&staging).arg(&relaxed).current_dir(root()))?;
    let glue_path = out_dir.join("convbook.js");
    let glue = std::fs::read_to_string(&glue_path).map_err(|e| format!("{}: {e}", glue_path.display()))?;
    let relaxed_glue = std::fs::read_to_string(staging.join("convbook.js")).map_err(|e| format!("relaxed glue: {e}"))?;
    if glue != relaxed_glue {
        return Err("the relaxed-SIMD build's wasm-bindgen glue differs from the plain build's: the two .wasm files no longer share one glue".into());
    }
    std::fs::copy(staging.join("convbook_bg.wasm"), out_dir.join(RELAXED_WASM)).map_err(|e| format!("{RELAXED_WASM}: {e}"))?;
    let export = format!("\n// Added by `cargo xtask build`: the relaxed-SIMD build of the same module.\nexport const {RELAXED_EXPORT} = '{RELAXED_WASM}';\n");
    std::fs::write(&glue_path, glue + &export).map_err(|e| format!("{}: {e}", glue_path.display()))?;

    let relaxed_size = std::fs::metadata(out_dir.join(RELAXED_WASM)).map(|m| m.len()).unwrap_or(0);
    let shown = out_dir.strip_prefix(root()).unwrap_or(out_dir).display();
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    note(&format!("{shown} ready: convbook_bg.wasm {:.1} MiB, {RELAXED_WASM} {:.1} MiB ({})", mib(size), mib(relaxed_size), elapsed(start)));
    Ok(())
}

/// Compiles the crate for wasm32 in release, with `codegen` as an extra `-C` flag for
/// the crate alone; returns the .wasm's path.
fn compile(features: &[&str], codegen: Option<&str>) -> Result<PathBuf> {
    let mut cmd = util::cargo();
    cmd.args([if codegen.is_some() { "rustc" } else { "build" }, "--release", "--target", WASM_TARGET, "-p", "convbook", "--lib"]);
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    if let Some(flag) = codegen {
        cmd.args(["--", "-C", flag]);
    }
    run(&mut cmd)?;
    let wasm = target_dir().join(WASM_TARGET).join("release/convbook.wasm");
    if !wasm.is_file() {
        return Err(format!("the build finished but {} is missing", wasm.display()));
    }
    Ok(wasm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hooks_package_is_never_under_the_served_folder() {
        let www = root().join("www");
        assert!(!test_pkg_dir().starts_with(&www), "{}", test_pkg_dir().display());
    }
}
