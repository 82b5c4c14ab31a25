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
        ctx.launch(
            Stem::Matmul,
            "matmul",
            &[],
            &params,
            &[(1, a.gpu_buffer()?), (2, b.gpu_buffer()?), (3, &out)],
            [spec.n.div_ceil(TILE) as u32, spec.m.div_ceil(TILE) as u32, count as u32],
        )?;
        batch0 += count;
    }
    Ok(Tensor::from_gpu_buffer(device, out, out_shape, DType::F32))
}
