//! The notebook's JavaScript build: Vite bundles www/ (notebook, embed script) into
//! www/dist, copying www/pkg along, when the repository has a vite.config.mjs. www/dist
//! is the deployable static folder: hashed asset and wasm names, gzip and brotli copies
//! beside the text and wasm files (see vite.config.mjs and the README's hosting notes).

use std::process::Command;
use std::time::Instant;

use crate::setup;
use crate::util::{elapsed, note, root, run_captured, step, Result};

pub const VITE_CONFIG: &str = "vite.config.mjs";

/// Whether there is a bundle to build at all.
pub fn present() -> bool {
    root().join(VITE_CONFIG).is_file()
}

/// npm dependencies, then `vite build` (after the wasm build: it copies www/pkg).
pub fn build() -> Result {
    if !present() {
        return Ok(());
    }
    if crate::util::which("npm").is_none() || crate::util::which("node").is_none() {
        return Err("Node.js and npm are needed to build the notebook (www/dist); install them (Debian: apt-get install nodejs npm)".into());
    }
    setup::npm_deps()?;
    let start = Instant::now();
    step("bundling the notebook into www/dist (vite build)");
    let mut cmd = Command::new("npx");
    cmd.args(["--no-install", "vite", "build", "--config", VITE_CONFIG]).current_dir(root()).env("NO_COLOR", "1");
    let out = run_captured(&mut cmd)?;
    for line in out.lines().filter(|l| l.contains("warning") || l.contains('✓') || l.contains("(!)")) {
        note(line.trim());
    }
    note(&format!("www/dist ready: the deployable folder, precompressed ({})", elapsed(start)));
    Ok(())
}
