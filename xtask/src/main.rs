//! Developer commands for convbook, run as `cargo xtask <command>` (an alias in
//! .cargo/config.toml). Each command installs what it needs first.

mod bench;
mod frontend;
mod fuzz;
mod serve;
mod setup;
mod test;
mod util;
mod wasm;

use std::process::ExitCode;

const HELP: &str = "\
cargo xtask <command>

commands:
  serve [--port N] [--no-build]
        install what is missing (the wasm32 target, wasm-bindgen-cli at the version in
        Cargo.lock, npm dependencies), build the engine for the browser into www/pkg and
        the notebook into www/dist, and serve www/ on http://127.0.0.1:8080 (or --port N)
  test [native|browser] [--full]
        install what is missing (Debian: chromium, mesa-vulkan-drivers, libvulkan1;
        npm test dependencies), run the native tests on lavapipe, build the wasm (www/pkg,
        and apart in target/test-pkg with the test-only `test-hooks` feature: a deliberate
        panic, destroying the GPU device), and run the browser tests in headless chromium with SwiftShader WebGPU; `native` or
        `browser` runs only that part; `--full` runs the long versions: the soak tests ten
        times longer, then the chapter notebooks at their own parameters (not the quick
        ones), writing what they measured to www/chapters/results.json
  bench [--only matmul|conv|cpu-model|gpu-model] [--sizes 256,512,1024,2048]
        [--models mnist,segmentation,xception] [--batch N] [--budget S] [--cpu-cap S] [--side N]
        [--model xception|segmentation|convnet|mnist]
        GFLOP/s on the native GPU adapter vs the CPU reference kernels and the fast CPU
        backend (optimized build): matmul at --sizes, and forward, input gradient and
        kernel gradient of every convolution shape in the seed models (default batches
        64, 2 and 8, or --batch N for all); each pass runs up to --budget seconds (2) per
        device, and the CPU skips passes it estimates over --cpu-cap seconds (10); then
        the 8.1 convnet's predict and train step on the CPU backend, fast vs reference
        kernels (batch 64 or --batch N; needs no GPU); then a 9.3 mini-Xception training
        step on the GPU (batch 4 or --batch N, input --side N, 180) kernel by kernel and
        on the CPU reference (--model: one of the browser bench's models instead, predict
        profiled too); writes bench-results/matmul.json, conv.json,
        cpu_model.json and gpu_model.json
  bench --browser [--quick]
        convbook vs TF.js 4.22 in headless chromium (SwiftShader WebGPU): the bench page
        (www/bench/, built into www/dist/bench/) times predict and train step of the four
        seed models on convbook webgpu/cpu and TF.js webgpu/wasm/cpu with the same weights
        and batches, cold start, bytes and memory, checks the first-step losses agree, and
        writes bench-results/browser.json (--quick: tiny sizes, browser-quick.json)
  build
        only the browser build (www/pkg, then www/dist)
  fuzz [--seconds N] [--seed S]
        mutate valid seed files and feed them to every parser of outside data (TF.js
        model.json + shards, .npy/.npz, IDX, CSV digits, zip/tar/tar.gz, JPEG/PNG) for N
        seconds per target (60); a panic, an allocation past the cap or a slow case
        fails and saves the input under target/fuzz-findings/
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\x1b[31merror:\x1b[0m {e}");
            ExitCode::FAILURE
        }
    }
}

/// Value of `--flag V` or `--flag=V`.
fn flag_value(args: &[String], flag: &str) -> util::Result<Option<String>> {
    for (i, a) in args.iter().enumerate() {
        if a == flag {
            return args.get(i + 1).cloned().map(Some).ok_or(format!("{flag} needs a value"));
        }
        if let Some(v) = a.strip_prefix(&format!("{flag}=")) {
            return Ok(Some(v.to_string()));
        }
    }
    Ok(None)
}

/// Refuse arguments a command does not know, instead of silently ignoring a typo.
fn only_known(args: &[String], known_flags: &[&str], known_words: &[&str]) -> util::Result {
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let name = a.split('=').next().unwrap_or(a);
        if known_flags.contains(&name) {
            i += if a.contains('=') || name == "--no-build" || name == "--full" { 1 } else { 2 };
            continue;
        }
        if !known_words.contains(&a.as_str()) {
            return Err(format!("unexpected argument '{a}'\n\n{HELP}"));
        }
        i += 1;
    }
    Ok(())
}

fn run(args: &[String]) -> util::Result {
    let (command, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest),
        None => {
            print!("{HELP}");
            return Ok(());
        }
    };
    match command {
        "serve" => {
            only_known(rest, &["--port", "--no-build"], &[])?;
            let port = match flag_value(rest, "--port")? {
                Some(p) => p.parse::<u16>().map_err(|_| format!("--port: '{p}' is not a port number"))?,
                None => 8080,
            };
            if !rest.iter().any(|a| a == "--no-build") {
                wasm::build()?;
                // The start page works without the bundle; say why the notebook is missing.
                if let Err(e) = frontend::build() {
                    util::warn(&format!("the notebook was not built, so only the start page works: {e}"));
                }
            }
            serve::serve(&util::root().join("www"), port, frontend::present())
        }
        "test" => {
            only_known(rest, &["--full"], &["native", "browser"])?;
            let full = rest.iter().any(|a| a == "--full");
            if full {
                // Read by tests/soak.rs and tests/browser/reliability.test.mjs.
                std::env::set_var("CONVBOOK_SOAK_FULL", "1");
            }
            let which = match rest.iter().map(String::as_str).find(|a| !a.starts_with("--")) {
                Some("native") => test::Which::Native,
                Some("browser") => test::Which::Browser,
                _ => test::Which::All,
            };
            let tested = test::test(which);
            if full {
                test::full_chapters()?;
            }
            tested
        }
        "bench" => {
            if rest.iter().any(|a| a == "--browser") {
                only_known(rest, &[], &["--browser", "--quick"])?;
                return bench::browser::run(rest.iter().any(|a| a == "--quick"));
            }
            only_known(rest, &bench::FLAGS, &[])?;
            let opts = bench::Options::parse(rest)?;
            #[cfg(feature = "bench")]
            if !cfg!(debug_assertions) {
                return bench::run(&opts);
            }
            // Timings of a debug build would mislead: rerun optimized with the engine
            // linked in (the first time compiles the native engine in release, minutes).
            let _ = opts;
            util::step("building the optimized benchmark (cargo run --release --features bench)");
            let mut cmd = util::cargo();
            cmd.args(["run", "--release", "--quiet", "--package", "xtask", "--features", "bench", "--", "bench"]);
            util::run(cmd.args(rest))
        }
        "fuzz" => {
            only_known(rest, &fuzz::FLAGS, &[])?;
            let seconds = match flag_value(rest, "--seconds")? {
                Some(s) => s.parse::<f64>().ok().filter(|s| *s > 0.0).ok_or(format!("--seconds: '{s}' is not a positive number"))?,
                None => 60.0,
            };
            let seed = match flag_value(rest, "--seed")? {
                Some(s) => Some(s.parse::<u64>().map_err(|_| format!("--seed: '{s}' is not a whole number"))?),
                None => None,
            };
            fuzz::fuzz(seconds, seed)
        }
        "build" => {
            only_known(rest, &[], &[])?;
            wasm::build()?;
            frontend::build()
        }
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(())
        }
        other => Err(format!("unknown command '{other}'\n\n{HELP}")),
    }
}
