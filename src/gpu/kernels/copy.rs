//! Host code of shaders/copy.wgsl: its uniform block and its launches.

use crate::error::Result;
use crate::gpu::params::{dims, idims, uniform_block, Dims, IDims};
use crate::gpu::{grid_1d, GpuContext, Stem, WG_1D};
use crate::ops::copy::spec::GatherSpec;
use crate::shape::numel;
use crate::tensor::{DType, Tensor};
use crate::{bail, ensure, Device};

const WG: u32 = WG_1D;

uniform_block! {
    /// shaders/copy.wgsl `struct Params`.
    pub(crate) struct CopyParams {
        pub n: u32,
        pub rank: u32,
        pub base: u32,
        pub pad_value: u32,
        pub out_dims: Dims,
        pub src_dims: Dims,
        pub src_strides: Dims,
        pub pad_lo: IDims,
        pub dst_strides: Dims,
    }
}

/// Strided gather of a float32 or int32 tensor (see shaders/copy.wgsl).
pub(crate) fn gather(
    ctx: &GpuContext,
    device: &Device,
    x: &Tensor,
    spec: &GatherSpec,
    pad_value: f64,
    op: &str,
) -> Result<Tensor> {
    let pad_bits = match x.dtype() {
        DType::F32 => (pad_value as f32).to_bits(),
        DType::I32 => pad_value as i32 as u32,
        other => bail!("{op}: {} tensors cannot be copied on the GPU; cast to float32 first", other.name()),
    };
    let n = numel(&spec.out_dims);
    let out = ctx.alloc_tensor(&format!("{op} output"), &spec.out_dims, x.dtype())?;
    let params = CopyParams {
        n: n as u32,
        rank: spec.out_dims.len() as u32,
        base: spec.base as u32,
        pad_value: pad_bits,
        out_dims: dims(&spec.out_dims),
        src_dims: dims(&spec.src_dims),
        src_strides: dims(&spec.src_strides),
        pad_lo: idims(&spec.pad_lo),
        dst_strides: dims(&[]),
    };
    ctx.launch(Stem::Copy, "gather", &[], &params, &[(1, x.gpu_buffer()?), (2, &out)], grid_1d(n, WG))?;
    Ok(Tensor::from_gpu_buffer(device, out, &spec.out_dims, x.dtype()))
}

/// Rows `rows` (an int32 tensor of row numbers, all in range) of `x`, whose rows are
/// `row_words` 32-bit words each (float32 and int32, or uint8 packed four to a word when a
/// row's length is a multiple of four: the caller checks).
pub(crate) fn gather_rows(
    ctx: &GpuContext,
    device: &Device,
    x: &Tensor,
    rows: &Tensor,
    row_words: usize,
    out_shape: &[usize],
) -> Result<Tensor> {
    let out = ctx.alloc_tensor("gather_rows output", out_shape, x.dtype())?;
    let n = rows.numel() * row_words;
    if n > 0 {
        let params = CopyParams { n: n as u32, base: row_words as u32, ..Default::default() };
        let buffers = [(1, x.gpu_buffer()?), (2, &out), (3, rows.gpu_buffer()?)];
        ctx.launch(Stem::Copy, "gather_rows", &[], &params, &buffers, grid_1d(n, WG))?;
    }
    Ok(Tensor::from_gpu_buffer(device, out, out_shape, x.dtype()))
}

/// Join 4-byte tensors `xs` into one of `out_shape`, each written at its offset.
pub(crate) fn concat(
    ctx: &GpuContext,
    device: &Device,
    xs: &[&Tensor],
    offsets: &[usize],
    out_strides: &[usize],
    out_shape: &[usize],
) -> Result<Tensor> {
    let first = xs[0];
    ensure!(
        first.dtype().size() == 4,
        "concatenate: {} tensors cannot be joined on the GPU; cast to float32 first",
        first.dtype().name()
    );
    let out = ctx.alloc_tensor("concatenate output", out_shape, DType::F32)?;
    for (t, &base) in xs.iter().zip(offsets) {
        let params = CopyParams {
            n: t.numel() as u32,
            rank: t.rank() as u32,
            base: base as u32,
            src_dims: dims(t.shape()),
            dst_strides: dims(out_strides),
            ..Default::default()
        };
        ctx.launch(Stem::Copy, "scatter", &[], &params, &[(1, t.gpu_buffer()?), (2, &out)], grid_1d(t.numel(), WG))?;
    }
    Ok(Tensor::from_gpu_buffer(device, out, out_shape, first.dtype()))
}
