//! `cargo xtask bench`: the WGSL kernels on the native GPU adapter against the CPU
//! reference kernels and the fast CPU backend, through the library's public API:
//! matmul, the convolutions of the seed models, then the 8.1 convnet on the CPU backend
//! (that section needs no GPU), then a training step of the mini-Xception on the GPU,
//! kernel by kernel. Tables go to the terminal, JSON to bench-results/.
//! `--browser` is another bench altogether: convbook against TF.js in headless chromium
//! (browser.rs), on the wasm build, so it needs neither the bench feature nor a GPU.

pub mod browser;
#[cfg(feature = "bench")]
mod conv;
#[cfg(feature = "bench")]
mod conv_ops;
#[cfg(feature = "bench")]
mod cpu_model;
#[cfg(feature = "bench")]
mod gpu_model;
#[cfg(feature = "bench")]
mod gpu_models;
#[cfg(feature = "bench")]
mod machine;
#[cfg(feature = "bench")]
mod matmul;
#[cfg(feature = "bench")]
mod measure;
#[cfg(any(feature = "bench", test))]
mod seed_layers;

use crate::util::Result;

pub const DEFAULT_SIZES: [usize; 4] = [256, 512, 1024, 2048];
pub const MODELS: [&str; 3] = ["mnist", "segmentation", "xception"];
pub const FLAGS: [&str; 8] = ["--only", "--sizes", "--models", "--batch", "--budget", "--cpu-cap", "--side", "--model"];
/// What `--model` accepts (the browser bench's models; gpu_models.rs builds them).
pub const GPU_MODELS: [&str; 4] = ["xception", "segmentation", "convnet", "mnist"];

// Only a build with the bench feature reads these.
#[cfg_attr(not(feature = "bench"), allow(dead_code))]
pub struct Options {
    pub matmul: bool,
    pub conv: bool,
    /// The 8.1 convnet on the CPU backend, fast vs reference kernels.
    pub cpu_model: bool,
    /// The mini-Xception training step on the GPU, kernel by kernel.
    pub gpu_model: bool,
    /// Its input side (180 in the chapter).
    pub side: usize,
    /// One of the browser bench's models in its place (GPU_MODELS).
    pub model: Option<String>,
    pub sizes: Vec<usize>,
    pub models: Vec<String>,
    /// Replaces every model's default batch.
    pub batch: Option<usize>,
    /// Seconds of timed runs per pass and device, after the first call.
    pub budget_s: f64,
    /// A CPU pass whose estimated time exceeds this many seconds is skipped.
    pub cpu_cap_s: f64,
}

impl Options {
    /// Parsed before the optimized rebuild, so a typo fails at once.
    pub fn parse(args: &[String]) -> Result<Options> {
        let value = |flag| crate::flag_value(args, flag);
        let (matmul, conv, cpu_model, gpu_model) = match value("--only")?.as_deref() {
            None => (true, true, true, true),
            Some("matmul") => (true, false, false, false),
            Some("conv") => (false, true, false, false),
            Some("cpu-model") => (false, false, true, false),
            Some("gpu-model") => (false, false, false, true),
            Some(other) => return Err(format!("--only: '{other}' is not 'matmul', 'conv', 'cpu-model' or 'gpu-model'")),
        };
        let side = match value("--side")? {
            None => 180,
            Some(s) => s.parse::<usize>().ok().filter(|&s| s >= 8).ok_or(format!("--side: bad input side '{s}' (at least 8)"))?,
        };
        let model = match value("--model")? {
            None => None,
            Some(m) if GPU_MODELS.contains(&m.as_str()) => Some(m),
            Some(m) => return Err(format!("--model: unknown model '{m}' (known: {})", GPU_MODELS.join(", "))),
        };
        let models = match value("--models")? {
            None => MODELS.iter().map(|m| m.to_string()).collect(),
            Some(list) => list
                .split(',')
                .map(|m| {
                    let m = m.trim();
                    MODELS
                        .contains(&m)
                        .then(|| m.to_string())
                        .ok_or(format!("--models: unknown model '{m}' (known: {})", MODELS.join(", ")))
                })
                .collect::<Result<Vec<_>>>()?,
        };
        let batch = match value("--batch")? {
            None => None,
            Some(b) => Some(b.parse::<usize>().ok().filter(|&b| b > 0).ok_or(format!("--batch: bad batch '{b}'"))?),
        };
        let seconds = |flag, default| -> Result<f64> {
            match value(flag)? {
                None => Ok(default),
                Some(s) => s
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .ok_or(format!("{flag}: '{s}' is not a number of seconds")),
            }
        };
        Ok(Options {
            matmul,
            conv,
            cpu_model,
            gpu_model,
            side,
            model,
            sizes: match value("--sizes")? {
                Some(s) => parse_sizes(&s)?,
                None => DEFAULT_SIZES.to_vec(),
            },
            models,
            batch,
            budget_s: seconds("--budget", 2.0)?,
            cpu_cap_s: seconds("--cpu-cap", 10.0)?,
        })
    }
}

fn parse_sizes(s: &str) -> Result<Vec<usize>> {
    s.split(',')
        .map(|p| {
            p.trim()
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or(format!("bad size '{p}' in --sizes (want e.g. 256,512)"))
        })
        .collect()
}

#[cfg(feature = "bench")]
pub fn run(opts: &Options) -> Result {
    use crate::util::RuntimeDir;

    // mesa warns without a runtime dir; keep ours private and temporary.
    let _runtime = match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(_) => None,
        None => {
            let dir = RuntimeDir::new()?;
            std::env::set_var("XDG_RUNTIME_DIR", &dir.0);
            Some(dir)
        }
    };
    if opts.matmul || opts.conv || opts.gpu_model {
        let gpu = pollster::block_on(convbook::Device::gpu())
            .map_err(|e| format!("no GPU: {e} (install mesa-vulkan-drivers for lavapipe)"))?;
        let machine = machine::Machine::of(&gpu)?;
        if opts.matmul {
            matmul::run(&gpu, &machine, &opts.sizes)?;
        }
        if opts.conv {
            conv::run(&gpu, &machine, opts)?;
        }
        if opts.gpu_model {
            let model_opts = gpu_model::ModelOptions {
                batch: opts.batch,
                side: opts.side,
                model: opts.model.as_deref(),
                budget_s: opts.budget_s,
                cpu_cap_s: opts.cpu_cap_s,
            };
            gpu_model::run(&gpu, &machine, &model_opts)?;
        }
    }
    if opts.cpu_model {
        cpu_model::run(opts.batch.unwrap_or(64), opts.budget_s)?;
    }
    Ok(())
}

#[cfg(feature = "bench")]
fn write_report(file: &str, report: &serde_json::Value) -> Result {
    let dir = crate::util::root().join("bench-results");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(file);
    let text = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
    std::fs::write(&path, text + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    crate::util::note(&format!("wrote bench-results/{file}"));
    Ok(())
}
