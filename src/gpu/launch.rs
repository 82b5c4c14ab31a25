//! The one path by which kernels run: uniforms at binding 0, storage buffers at the
//! binding numbers their shader declares, recorded into the context's open encoder.

use std::collections::HashMap;

use super::allocation::{Binding, BufferLimits};
use super::context::GpuContext;
use super::params::UniformBlock;
use super::pool::GpuBuffer;
use super::shaders::Stem;
use crate::error::Result;

/// Workgroup size of the 1-D kernels (elementwise, copy, per-output reductions).
pub(crate) const WG_1D: u32 = 256;
/// WebGPU's guaranteed minimum for workgroups per dimension.
const MAX_GROUPS_PER_DIM: u32 = 65535;

/// A uniform block's bytes, padded to 16 bytes as WGSL's uniform layout wants.
fn uniform_bytes<P: UniformBlock>(params: &P) -> Vec<u8> {
    let mut bytes = bytemuck::bytes_of(params).to_vec();
    bytes.resize(bytes.len().next_multiple_of(16).max(16), 0);
    bytes
}

/// Workgroup counts for `n` items in groups of `wg`, folded into y when x would exceed
/// the per-dimension limit. Shaders rebuild the linear index from `num_workgroups`.
pub(crate) fn grid_1d(n: usize, wg: u32) -> [u32; 3] {
    let groups = (n as u64).div_ceil(wg as u64).max(1);
    if groups <= MAX_GROUPS_PER_DIM as u64 {
        [groups as u32, 1, 1]
    } else {
        let y = groups.div_ceil(MAX_GROUPS_PER_DIM as u64);
        let x = groups.div_ceil(y);
        [x as u32, y as u32, 1]
    }
}

/// Launches past a training step's first repeat it: the same kernels with the same
/// parameters on the same pooled buffers. So uniform buffers are immutable and shared by
/// content, and bind groups are kept by (pipeline, buffers); both caches are dropped
/// whole when they reach this many entries (a changing Adam step size makes new ones
/// every step) and when the pool destroys its buffers.
const MAX_CACHED: usize = 4096;

type BindKey = (wgpu::ComputePipeline, Vec<(u32, wgpu::Buffer)>);

#[derive(Default)]
pub(crate) struct LaunchCache {
    uniforms: HashMap<Vec<u8>, wgpu::Buffer>,
    bind_groups: HashMap<BindKey, wgpu::BindGroup>,
}

impl LaunchCache {
    pub(crate) fn clear(&mut self) {
        self.uniforms.clear();
        self.bind_groups.clear();
    }

    fn uniform(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, bytes: Vec<u8>, label: &str) -> wgpu::Buffer {
        if let Some(b) = self.uniforms.get(&bytes) {
            return b.clone();
        }
        if self.uniforms.len() >= MAX_CACHED {
            self.clear();
        }
        // Written once, before any submission that reads it, and never again: launches
        // of one submission can share it. Tiny, so it stays outside the pool's accounting.
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes.len() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        queue.write_buffer(&buffer, 0, &bytes);
        self.uniforms.insert(bytes, buffer.clone());
        buffer
    }

    fn bind_group(&mut self, device: &wgpu::Device, pipeline: &wgpu::ComputePipeline, entries: Vec<(u32, wgpu::Buffer)>, label: &str) -> wgpu::BindGroup {
        let key = (pipeline.clone(), entries);
        if let Some(g) = self.bind_groups.get(&key) {
            return g.clone();
        }
        if self.bind_groups.len() >= MAX_CACHED {
            self.bind_groups.clear();
        }
        let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(label),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &key
                .1
                .iter()
                .map(|(binding, b)| wgpu::BindGroupEntry { binding: *binding, resource: b.as_entire_binding() })
                .collect::<Vec<_>>(),
        });
        self.bind_groups.insert(key, group.clone());
        group
    }
}

impl GpuContext {
    /// Record one dispatch of `stem::entry`.
    pub fn launch<P: UniformBlock>(
        &self,
        stem: Stem,
        entry: &'static str,
        overrides: &[(&'static str, f64)],
        params: &P,
        buffers: &[(u32, &GpuBuffer)],
        groups: [u32; 3],
    ) -> Result<()> {
        self.check_not_lost()?;
        let bytes = uniform_bytes(params);
        BufferLimits::of(&self.inner.limits).check(Some(Binding::Uniform), Some(bytes.len() as u64), &|| {
            format!("{}::{entry} parameters", stem.name())
        })?;
        self.profiled(stem, entry, || {
            let inner = &self.inner;
            let pipeline = inner.pipelines.get(&inner.device, &inner.queue, stem, entry, overrides);
            let bind_group = {
                let mut cache = inner.launch_cache.lock().unwrap_or_else(|p| p.into_inner());
                let uniform = cache.uniform(&inner.device, &inner.queue, bytes, entry);
                let mut entries = Vec::with_capacity(buffers.len() + 1);
                entries.push((0, uniform));
                entries.extend(buffers.iter().map(|(binding, b)| (*binding, b.raw().clone())));
                cache.bind_group(&inner.device, &pipeline, entries, entry)
            };
            self.record(|encoder, _| {
                let mut pass =
                    encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(entry), timestamp_writes: None });
                pass.set_pipeline(&pipeline);
                pass.set_bind_group(0, &bind_group, &[]);
                pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
            });
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_folds_large_counts() {
        assert_eq!(grid_1d(10, 256), [1, 1, 1]);
        let g = grid_1d(100_000_000, 256);
        assert!(g[0] <= MAX_GROUPS_PER_DIM && (g[0] as u64 * g[1] as u64 * 256) >= 100_000_000);
    }

    crate::gpu::params::uniform_block! {
        struct Padded {
            n: u32,
            _pad0: u32,
            _pad1: u32,
            _pad2: u32,
            dims: crate::gpu::params::Dims,
        }
    }

    #[test]
    fn params_pad_to_vec4() {
        let p = Padded { n: 3, dims: crate::gpu::params::dims(&[2, 3]), ..Default::default() };
        assert_eq!(std::mem::size_of::<Padded>(), 4 * (4 + crate::shape::MAX_RANK));
        assert_eq!(uniform_bytes(&p).len() % 16, 0);
        assert_eq!(uniform_bytes(&Narrow { n: 1 }).len(), 16);
    }

    crate::gpu::params::uniform_block! {
        struct Narrow {
            n: u32,
        }
    }
}
