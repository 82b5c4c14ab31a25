//! `cargo xtask test`: native tests on the Vulkan software driver (lavapipe), the wasm
//! build, then the browser tests in headless chromium on SwiftShader WebGPU. Every stage
//! runs when it can; a summary names each outcome and the exit status is non-zero when
//! any failed.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::setup;
use crate::util::{self, elapsed, root, show, step, Result, RuntimeDir};

#[derive(Clone, Copy, PartialEq)]
pub enum Which {
    All,
    Native,
    Browser,
}

struct Outcome {
    stage: &'static str,
    result: std::result::Result<String, String>,
    time: String,
}

/// Run `cmd`, echoing its stdout and stderr line by line and handing each line to `seen`.
fn run_tee(cmd: &mut Command, seen: impl FnMut(&str) + Send) -> Result {
    eprintln!("    $ {}", show(cmd));
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start `{}`: {e}", show(cmd)))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let seen = std::sync::Mutex::new(seen);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
                eprintln!("{line}");
                (seen.lock().unwrap_or_else(|p| p.into_inner()))(&line);
            }
        });
        let mut out = std::io::stdout().lock();
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            let _ = writeln!(out, "{line}");
            (seen.lock().unwrap_or_else(|p| p.into_inner()))(&line);
        }
    });
    let status = child.wait().map_err(|e| format!("waiting for `{}`: {e}", show(cmd)))?;
    util::check(cmd, status)
}

#[derive(Default)]
struct Counts {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl Counts {
    fn summary(&self) -> String {
        let mut s = format!("{} passed, {} failed", self.passed, self.failed);
        if self.ignored > 0 {
            s.push_str(&format!(", {} ignored", self.ignored));
        }
        s
    }
}

/// "test result: ok. 12 passed; 0 failed; 1 ignored; ..." → counts.
fn parse_libtest(line: &str, counts: &mut Counts) {
    let Some(rest) = line.strip_prefix("test result: ") else { return };
    for part in rest.split(['.', ';']) {
        let mut words = part.split_whitespace();
        if let (Some(n), Some(what)) = (words.next(), words.next()) {
            if let Ok(n) = n.parse::<u64>() {
                match what {
                    "passed" => counts.passed += n,
                    "failed" => counts.failed += n,
                    "ignored" => counts.ignored += n,
                    _ => {}
                }
            }
        }
    }
}

/// node's spec reporter ends with "ℹ pass 12" / "ℹ fail 0" / "ℹ skipped 0".
fn parse_node(line: &str, counts: &mut Counts) {
    let line = line.trim_start_matches(['ℹ', ' ', '#']);
    let mut words = line.split_whitespace();
    if let (Some(what), Some(n), None) = (words.next(), words.next(), words.next()) {
        if let Ok(n) = n.parse::<u64>() {
            match what {
                "pass" => counts.passed = n,
                "fail" => counts.failed = n,
                "skipped" | "todo" => counts.ignored += n,
                _ => {}
            }
        }
    }
}

fn native_tests(runtime: &Path) -> std::result::Result<String, String> {
    step("native tests: cargo test --workspace (GPU: Vulkan; lavapipe without a GPU)");
    let mut counts = Counts::default();
    let mut broken = Vec::new();
    let mut cmd = util::cargo();
    // --no-fail-fast: one failing test binary must not hide the results of the others.
    cmd.args(["test", "--workspace", "--no-fail-fast"]).env("XDG_RUNTIME_DIR", runtime);
    let result = run_tee(&mut cmd, |line| {
        parse_libtest(line, &mut counts);
        // "error: test failed, to rerun pass `-p convbook --test nn_mnist`"
        if let Some(target) = line.strip_prefix("error: test failed, to rerun pass `") {
            broken.push(target.trim_end_matches('`').to_string());
        }
    });
    match result {
        Ok(()) => Ok(counts.summary()),
        Err(_) if counts.failed > 0 || !broken.is_empty() => {
            Err(format!("{}; failing: {}", counts.summary(), broken.join(", ")))
        }
        Err(e) => Err(e),
    }
}

/// The browser test files, sorted (passed explicitly: node's directory handling for
/// `--test` differs between versions).
fn browser_test_files() -> Result<Vec<String>> {
    let dir = root().join("tests/browser");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".test.mjs"))
        .map(|name| format!("tests/browser/{name}"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no *.test.mjs files in {}", dir.display()));
    }
    Ok(files)
}

fn node_version() -> Option<(u32, u32)> {
    let v = util::output("node", &["--version"])?;
    let mut parts = v.trim_start_matches('v').split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??))
}

fn browser_tests(runtime: &Path) -> std::result::Result<String, String> {
    step("browser tests: node --test tests/browser/ (headless chromium, SwiftShader WebGPU)");
    let files = browser_test_files()?;
    let version = node_version().ok_or("cannot run `node --version`")?;
    if version < (20, 19) {
        return Err(format!("node {}.{} is too old for the test runner; need 20.19 or newer (Vite 8 and the test runner)", version.0, version.1));
    }
    let mut cmd = Command::new("node");
    cmd.current_dir(root()).arg("--test").arg("--test-reporter=spec");
    // One chromium at a time: SwiftShader is CPU-bound, parallel browsers only thrash.
    if version >= (20, 10) {
        cmd.arg("--test-concurrency=1");
    }
    cmd.args(&files)
        .env("XDG_RUNTIME_DIR", runtime)
        .env("FORCE_COLOR", "0")
        .env("CONVBOOK_TEST_PKG", crate::wasm::test_pkg_dir());
    let mut counts = Counts::default();
    let result = run_tee(&mut cmd, |line| parse_node(line, &mut counts));
    match result {
        Ok(()) if counts.passed > 0 => Ok(counts.summary()),
        Ok(()) => Err("no test passed; did the runner find the tests?".into()),
        Err(_) if counts.failed > 0 => Err(counts.summary()),
        Err(e) => Err(e),
    }
}

/// The chapter test file, which `--full` runs at the chapters' own parameters.
const CHAPTERS_TEST: &str = "tests/browser/notebook-chapters.test.mjs";
/// Where `--full` records what the chapters measured (cited by the chapter text).
const RESULTS: &str = "www/chapters/results.json";

/// `cargo xtask test --full`: the web build, then every chapter top to bottom at the
/// settings in its parameters cell, on the notebook's default backend (WebGPU where
/// the browser has it), the figures each one printed written to RESULTS.
pub fn full_chapters() -> Result {
    let started = Instant::now();
    step("checking prerequisites");
    setup::system_packages()?;
    setup::npm_deps()?;
    let runtime = RuntimeDir::new()?;
    step("web build");
    crate::wasm::build()?;
    crate::frontend::build()?;
    step(&format!("chapters at their own settings: node --test {CHAPTERS_TEST} (CONVBOOK_FULL=1; hours on a CPU-only machine)"));
    let mut cmd = Command::new("node");
    cmd.current_dir(root())
        .args(["--test", "--test-reporter=spec", CHAPTERS_TEST])
        .env("CONVBOOK_FULL", "1")
        .env("CONVBOOK_RESULTS", root().join(RESULTS))
        .env("XDG_RUNTIME_DIR", &runtime.0)
        .env("FORCE_COLOR", "0");
    let mut counts = Counts::default();
    let result = run_tee(&mut cmd, |line| parse_node(line, &mut counts));
    eprintln!();
    step(&format!("summary ({}): {}; figures in {RESULTS}", elapsed(started), counts.summary()));
    result
}

pub fn test(which: Which) -> Result {
    let started = Instant::now();
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut timed = |stage: &'static str, f: &mut dyn FnMut() -> std::result::Result<String, String>| {
        let t = Instant::now();
        let result = f();
        let ok = result.is_ok();
        outcomes.push(Outcome { stage, result, time: elapsed(t) });
        ok
    };

    // Setup failures that leave nothing runnable stop here with the reason.
    step("checking prerequisites");
    setup::system_packages()?;
    let browser = which != Which::Native;
    // The native tests need node_modules too: nsfwjs's InceptionV3 is read from there
    // (tests/nn_from_tfjs_inception_v3.rs), and says to run npm ci if it is missing.
    let npm_ready = setup::npm_deps().map(|()| String::from("ready"));

    let runtime = RuntimeDir::new()?;
    if which != Which::Browser {
        timed("native tests", &mut || native_tests(&runtime.0));
    }
    if browser {
        let built = timed("web build", &mut || {
            // Two packages: the tests' one with the hooks, apart (target/test-pkg), and the
            // one readers get (www/pkg, which www/dist copies), so a test run never leaves
            // hooks where `serve` or a deployment would pick them up.
            crate::wasm::build_for_tests()?;
            crate::wasm::build()?;
            if crate::frontend::present() {
                crate::frontend::build()?;
                Ok("target/test-pkg, www/pkg, www/dist".to_string())
            } else {
                Ok("target/test-pkg, www/pkg".to_string())
            }
        });
        let mut npm = Some(npm_ready);
        timed("browser tests", &mut || match npm.take().unwrap_or(Ok(String::new())) {
            Err(e) => Err(format!("npm dependencies missing: {e}")),
            Ok(_) if !built => Err("skipped: the web build failed".into()),
            Ok(_) => browser_tests(&runtime.0),
        });
    }

    eprintln!();
    step(&format!("summary ({})", elapsed(started)));
    let mut failed = 0;
    for o in &outcomes {
        let (mark, detail) = match &o.result {
            Ok(d) => ("\x1b[32mok\x1b[0m    ", d.as_str()),
            Err(d) => {
                failed += 1;
                ("\x1b[31mFAILED\x1b[0m", d.as_str())
            }
        };
        let first = detail.lines().next().unwrap_or("");
        eprintln!("    {mark}  {:<14} {:>8}  {first}", o.stage, o.time);
    }
    if failed > 0 {
        Err(format!("{failed} of {} stages failed", outcomes.len()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_libtest_summaries() {
        let mut c = Counts::default();
        parse_libtest(
            "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.5s",
            &mut c,
        );
        parse_libtest("test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out", &mut c);
        parse_libtest("test foo ... ok", &mut c);
        assert_eq!((c.passed, c.failed, c.ignored), (15, 2, 1));
    }

    #[test]
    fn parses_node_summaries() {
        let mut c = Counts::default();
        for line in ["ℹ tests 7", "ℹ pass 6", "ℹ fail 1", "ℹ skipped 0", "✔ adds (3ms)"] {
            parse_node(line, &mut c);
        }
        assert_eq!((c.passed, c.failed), (6, 1));
    }
}
