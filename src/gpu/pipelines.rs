//! Compute pipelines, compiled once per (shader, entry point, override constants), and
//! how long each took to compile (`pipelineCompileMs` in the engine's stats).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use super::shaders::Stem;

type Key = (Stem, &'static str, Vec<(&'static str, u64)>);

#[derive(Default)]
pub(crate) struct PipelineCache {
    modules: Mutex<HashMap<Stem, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<Key, Arc<wgpu::ComputePipeline>>>,
    timing: Arc<Mutex<CompileTimes>>,
}

/// Milliseconds per pipeline label ("stem:entry", overrides appended). `last_done` is
/// when the previous pipeline finished compiling (web only).
#[derive(Default)]
struct CompileTimes {
    ms: BTreeMap<String, f64>,
    last_done: f64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Wall-clock milliseconds (`Instant` has no clock on wasm32-unknown-unknown).
fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::OnceLock;
        static START: OnceLock<std::time::Instant> = OnceLock::new();
        START.get_or_init(std::time::Instant::now).elapsed().as_secs_f64() * 1e3
    }
}

fn label(stem: Stem, entry: &str, overrides: &[(&'static str, f64)]) -> String {
    let mut s = format!("{}:{entry}", stem.name());
    for (k, v) in overrides {
        s.push_str(&format!(" {k}={v}"));
    }
    s
}

impl PipelineCache {
    pub(crate) fn get(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        stem: Stem,
        entry: &'static str,
        overrides: &[(&'static str, f64)],
    ) -> Arc<wgpu::ComputePipeline> {
        let key: Key = (stem, entry, overrides.iter().map(|(k, v)| (*k, v.to_bits())).collect());
        let mut pipelines = lock(&self.pipelines);
        if let Some(p) = pipelines.get(&key) {
            return p.clone();
        }
        let start = now_ms();
        let mut modules = lock(&self.modules);
        let module = modules.entry(stem).or_insert_with(|| {
            device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(stem.name()),
                source: wgpu::ShaderSource::Wgsl(stem.source().into()),
            })
        });
        let pipeline = Arc::new(device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: None,
            module,
            entry_point: Some(entry),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: overrides,
                zero_initialize_workgroup_memory: false,
            },
            cache: None,
        }));
        pipelines.insert(key, pipeline.clone());
        self.time(queue, label(stem, entry, overrides), start);
        pipeline
    }

    /// Record the compile time of the pipeline created since `start`. Native drivers
    /// compile inside the creation call. In a browser that call returns at once and the
    /// GPU process compiles in order of creation, so the time runs until the queue reports
    /// that point reached, less any wait for the pipeline created before.
    fn time(&self, queue: &wgpu::Queue, label: String, start: f64) {
        let done = now_ms();
        lock(&self.timing).ms.insert(label.clone(), done - start);
        if cfg!(target_arch = "wasm32") {
            let timing = self.timing.clone();
            queue.on_submitted_work_done(move || {
                let done = now_ms();
                let mut t = lock(&timing);
                let from = start.max(t.last_done);
                t.ms.insert(label, done - from);
                t.last_done = done;
            });
        }
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.pipelines).len()
    }

    /// Compile milliseconds per pipeline label ("conv2d:forward").
    pub(crate) fn compile_ms(&self) -> BTreeMap<String, f64> {
        lock(&self.timing).ms.clone()
    }
}
