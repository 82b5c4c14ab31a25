//! Host code of shaders/matmul.wgsl: its uniform block and its launches.

use crate::error::Result;
use crate::gpu::params::uniform_block;
use crate::gpu::{GpuContext, Stem};
use crate::ops::matmul::spec::MatmulSpec;
use crate::shape::numel;
use crate::tensor::{DType, Tensor};
use crate::Device;

const TILE: usize = 64;
const MAX_BATCH_PER_LAUNCH: usize = 65535;
/// Products of a few columns, at most this many outputs (per batch) and a long reduction
/// run `matmul_dot`, one workgroup per output: a 64x64 tile would leave nearly all its
/// threads idle through the reduction. (Over a short one, the per-workgroup cost of
/// many small workgroups is the larger: software adapters pay tens of microseconds for
/// each.) In a Dense layer of up to DOT_MAX_COLUMNS units and DOT_MIN_DEPTH inputs or
/// more, that is the forward product at any batch up to 1024 / units, and never the
/// gradients (the kernel's reduces over the batch, the input's has the inputs as
/// columns), so a warm-up at one sample picks what a batch of 32 picks.
const DOT_MAX_OUTPUTS: usize = 1024;
const DOT_MAX_COLUMNS: usize = 16;
const DOT_MIN_DEPTH: usize = 128;

uniform_block! {
    /// shaders/matmul.wgsl `struct Params`.
    pub(crate) struct MatmulParams {
        pub m: u32,
        pub n: u32,
        pub k: u32,
        pub trans_a: u32,
        pub trans_b: u32,
        pub a_batch_stride: u32,
        pub b_batch_stride: u32,
        pub batch0: u32,
    }
}

/// The batched product `spec` describes, in launches of at most 65535 batches.
pub(crate) fn matmul(
    ctx: &GpuContext,
    device: &Device,
    a: &Tensor,
    b: &Tensor,
    spec: &MatmulSpec,
    out_shape: &[usize],
) -> Result<Tensor> {
    let out = ctx.alloc_tensor("matmul output", out_shape, DType::F32)?;
    let empty = numel(out_shape) == 0;
    let mut batch0 = 0;
    while batch0 < spec.batch && !empty {
        let count = (spec.batch - batch0).min(MAX_BATCH_PER_LAUNCH);
        let params = MatmulParams {
            m: spec.m as u32,
            n: spec.n as u32,
            k: spec.k as u32,
            trans_a: spec.trans_a as u32,
            trans_b: spec.trans_b as u32,
            a_batch_stride: spec.a_batch_stride as u32,
            b_batch_stride: spec.b_batch_stride as u32,
            batch0: batch0 as u32,
        };
        let (entry, groups) = if spec.n <= DOT_MAX_COLUMNS && spec.m * spec.n <= DOT_MAX_OUTPUTS && spec.k >= DOT_MIN_DEPTH {
            ("matmul_dot", [spec.n as u32, spec.m as u32, count as u32])
        } else {
            ("matmul", [spec.n.div_ceil(TILE) as u32, spec.m.div_ceil(TILE) as u32, count as u32])
        };
        ctx.launch(Stem::Matmul, entry, &[], &params, &[(1, a.gpu_buffer()?), (2, b.gpu_buffer()?), (3, &out)], groups)?;
        batch0 += count;
    }
    Ok(Tensor::from_gpu_buffer(device, out, out_shape, DType::F32))
}
