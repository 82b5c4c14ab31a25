//! Host code of shaders/reduce.wgsl: its uniform block and its launches.

use crate::error::Result;
use crate::gpu::params::uniform_block;
use crate::gpu::{grid_1d, GpuContext, Stem, WG_1D};
use crate::ops::reduce::spec::ReduceOp;
use crate::tensor::{DType, Tensor};
use crate::Device;

const WG: u32 = WG_1D;

uniform_block! {
    /// shaders/reduce.wgsl `struct Params`.
    pub(crate) struct ReduceParams {
        pub outer: u32,
        pub len: u32,
        pub inner: u32,
        pub op: u32,
    }
}

/// Long reductions over at least this many columns (`inner`) run in chunks, each
/// invocation one column (`reduce_chunks`), rather than one workgroup per output.
const CHUNKED_MIN_COLUMNS: usize = 16;

/// Rows up to this long are each done by one invocation; longer rows by a workgroup.
/// A 576-row, 3-class softmax took 24–37 ms on lavapipe with a workgroup per row.
pub(crate) const SHORT_SOFTMAX_ROW: usize = 32;

/// Softmax (or log-softmax) of each of `rows` contiguous rows of `len` values.
pub(crate) fn softmax_rows(
    ctx: &GpuContext,
    device: &Device,
    x: &Tensor,
    rows: usize,
    len: usize,
    log: bool,
) -> Result<Tensor> {
    let name = if log { "log_softmax" } else { "softmax" };
    let out = ctx.alloc_tensor(&format!("{name} output"), x.shape(), DType::F32)?;
    let params = ReduceParams { outer: rows as u32, len: len as u32, inner: 1, op: log as u32 };
    let bindings = [(1, x.gpu_buffer()?), (2, &out)];
    if len <= SHORT_SOFTMAX_ROW {
        ctx.launch(Stem::Reduce, "softmax_rows_short", &[], &params, &bindings, grid_1d(rows, WG))?;
    } else {
        ctx.launch(Stem::Reduce, "softmax_rows", &[], &params, &bindings, grid_1d(rows, 1))?;
    }
    Ok(Tensor::from_gpu_buffer(device, out, x.shape(), DType::F32))
}

/// Index of the first maximum along the middle axis of `x` viewed as (outer, len, inner).
pub(crate) fn argmax(
    ctx: &GpuContext,
    device: &Device,
    x: &Tensor,
    (outer, len, inner): (usize, usize, usize),
    out_shape: &[usize],
) -> Result<Tensor> {
    let outputs = outer * inner;
    let out = ctx.alloc_tensor("argmax output", out_shape, DType::I32)?;
    let params = ReduceParams { outer: outer as u32, len: len as u32, inner: inner as u32, op: 0 };
    ctx.launch(Stem::Reduce, "argmax_axis", &[], &params, &[(1, x.gpu_buffer()?), (3, &out)], grid_1d(outputs, WG))?;
    Ok(Tensor::from_gpu_buffer(device, out, out_shape, DType::I32))
}

/// `op` over the middle axis of `src` viewed as (outer, len, inner).
pub(crate) fn reduce(
    ctx: &GpuContext,
    device: &Device,
    src: &Tensor,
    (outer, len, inner): (usize, usize, usize),
    op: ReduceOp,
    out_shape: &[usize],
) -> Result<Tensor> {
    let name = op.name();
    let outputs = outer * inner;
    let out = ctx.alloc_tensor(&format!("{name} output"), out_shape, DType::F32)?;
    let params = ReduceParams { outer: outer as u32, len: len as u32, inner: inner as u32, op: op as u32 };
    let few_long = outputs < 2048 && len >= 256;
    if few_long && inner >= CHUNKED_MIN_COLUMNS && op != ReduceOp::Mean {
        // Chunks of at least 64 along the axis, at most 64 of them; then the chunks.
        let chunks = (len / 64).min(64);
        let partials = ctx.alloc_tensor(&format!("{name} partial results"), &[chunks, outputs], DType::F32)?;
        let groups = [outputs.div_ceil(WG as usize) as u32, 1, chunks as u32];
        ctx.launch(Stem::Reduce, "reduce_chunks", &[], &params, &[(1, src.gpu_buffer()?), (2, &partials)], groups)?;
        let params = ReduceParams { outer: 1, len: chunks as u32, inner: outputs as u32, op: op as u32 };
        let groups = grid_1d(outputs, WG);
        ctx.launch(Stem::Reduce, "reduce_axis", &[], &params, &[(1, &partials), (2, &out)], groups)?;
        return Ok(Tensor::from_gpu_buffer(device, out, out_shape, DType::F32));
    }
    // Few long reductions: a workgroup per output; otherwise a thread per output.
    let (entry, groups) =
        if few_long { ("reduce_tree", grid_1d(outputs, 1)) } else { ("reduce_axis", grid_1d(outputs, WG)) };
    ctx.launch(Stem::Reduce, entry, &[], &params, &[(1, src.gpu_buffer()?), (2, &out)], groups)?;
    Ok(Tensor::from_gpu_buffer(device, out, out_shape, DType::F32))
}
