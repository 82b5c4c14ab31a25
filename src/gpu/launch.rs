//! The one path by which kernels run: uniforms at binding 0, storage buffers at the
//! binding numbers their shader declares, recorded into the context's open encoder.

use super::context::GpuContext;
use super::pool::{GpuBuffer, Usage};
use super::shaders::Stem;
use crate::error::Result;
use super::params::UniformBlock;

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
        let inner = &self.inner;
        let pipeline = inner.pipelines.get(&inner.device, &inner.queue, stem, entry, overrides);
        let bytes = uniform_bytes(params);
        let uniform = self.alloc_usage(Usage::Uniform, bytes.len() as u64, &|| format!("{entry} parameters"))?;
        inner.queue.write_buffer(uniform.raw(), 0, &bytes);

        let mut entries = Vec::with_capacity(buffers.len() + 1);
        entries.push(wgpu::BindGroupEntry { binding: 0, resource: uniform.raw().as_entire_binding() });
        for (binding, b) in buffers {
            entries.push(wgpu::BindGroupEntry { binding: *binding, resource: b.raw().as_entire_binding() });
        }
        let bind_group = inner.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(entry),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        self.record(|encoder, rec| {
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some(entry),
                    timestamp_writes: None,
                });
                pass.set_pipeline(&pipeline);
                pass.set_bind_group(0, &bind_group, &[]);
                pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
            }
            rec.in_flight.push(uniform);
        });
        Ok(())
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
