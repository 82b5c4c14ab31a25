//! `cargo xtask bench --browser [--quick]`: convbook against TF.js 4.22 in headless
//! chromium on SwiftShader WebGPU. Builds the browser engine and the bench page
//! (www/dist/bench/), then hands over to browser.mjs beside this file, which drives the
//! page with playwright, writes bench-results/browser.json (browser-quick.json for
//! --quick) and prints the table. Needs no native GPU and no optimized native build.

use std::process::Command;

use crate::util::{self, root, Result};
use crate::{frontend, setup, wasm};

pub fn run(quick: bool) -> Result {
    // Chromium, playwright and TF.js are what the browser tests install too.
    setup::system_packages()?;
    wasm::build()?;
    frontend::build()?;
    util::step(&format!("running the bench page in headless chromium ({} sizes)", if quick { "quick" } else { "full" }));
    let mut cmd = Command::new("node");
    cmd.arg("xtask/src/bench/browser.mjs").current_dir(root());
    if quick {
        cmd.arg("--quick");
    }
    util::run(&mut cmd)
}
