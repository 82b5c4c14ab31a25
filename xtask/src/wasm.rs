//! The browser build: `convbook` for wasm32 in release, then wasm-bindgen's ES-module
//! glue into www/pkg (gitignored), or, with the browser tests' hooks, into target/test-pkg.

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

fn build_with(features: &[&str], out_dir: &Path) -> Result {
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
    run(Command::new(&bindgen).args(["--target", "web", "--out-dir"]).arg(out_dir).arg(&wasm).current_dir(root()))?;
    let size = std::fs::metadata(out_dir.join("convbook_bg.wasm")).map(|m| m.len()).unwrap_or(0);
    let shown = out_dir.strip_prefix(root()).unwrap_or(out_dir).display();
    note(&format!("{shown} ready: convbook_bg.wasm {:.1} MiB ({})", size as f64 / (1 << 20) as f64, elapsed(start)));
    Ok(())
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
