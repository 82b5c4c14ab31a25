//! Compute pipelines, compiled once per (shader, entry point, override constants).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::shaders::Stem;

type Key = (Stem, &'static str, Vec<(&'static str, u64)>);

#[derive(Default)]
pub(crate) struct PipelineCache {
    modules: Mutex<HashMap<Stem, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<Key, Arc<wgpu::ComputePipeline>>>,
}

impl PipelineCache {
    pub(crate) fn get(
        &self,
        device: &wgpu::Device,
        stem: Stem,
        entry: &'static str,
        overrides: &[(&'static str, f64)],
    ) -> Arc<wgpu::ComputePipeline> {
        let key: Key = (stem, entry, overrides.iter().map(|(k, v)| (*k, v.to_bits())).collect());
        let mut pipelines = self.pipelines.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = pipelines.get(&key) {
            return p.clone();
        }
        let mut modules = self.modules.lock().unwrap_or_else(|p| p.into_inner());
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
        pipeline
    }

    pub(crate) fn len(&self) -> usize {
        self.pipelines.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}
