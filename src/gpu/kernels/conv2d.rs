//! Host code of shaders/conv2d.wgsl: its uniform block and its launches.

use super::gemm_tiles::TileRows;
use super::{gemm_grid, reduce};
use crate::ensure;
use crate::error::Result;
use crate::gpu::params::{uniform_block, WindowWords};
use crate::gpu::{grid_1d, GpuContext, Stem};
use crate::ops::geometry::Window2d;
use crate::ops::reduce::spec::ReduceOp;
use crate::tensor::{DType, Tensor};
use crate::Device;

uniform_block! {
    /// shaders/conv2d.wgsl `struct Params`.
    pub(crate) struct Conv2dParams {
        pub win: WindowWords,
        pub out_c: u32,
        pub _pad0: u32,
        pub has_bias: u32,
        pub k_chunk: u32,
        pub _pad1: u32,
        pub _pad2: u32,
    }
}

const TILE: usize = 64;
/// Convolutions to at most this many channels run `forward_narrow` (one invocation per
/// output pixel) instead of a GEMM tile 64 channels wide.
const NARROW_MAX_CHANNELS: usize = 4;
/// `forward_narrow`'s workgroup size.
const NARROW_WG: u32 = 64;

/// GPU implicit GEMM over the windows of `win`:
/// forward: `x` (N, in.h, in.w, in_c) ⊛ `rhs` (kh·kw·in_c, out_c) → (N, out.h, out.w, out_c);
/// kernel gradient: `x` with `rhs` = dy (N, out.h, out.w, out_c) → (kh, kw, in_c, out_c).
pub(crate) fn im2col_gemm(
    ctx: &GpuContext,
    device: &Device,
    x: &Tensor,
    rhs: &Tensor,
    bias: Option<&Tensor>,
    win: &Window2d,
    in_c: usize,
    out_c: usize,
    grad_kernel: bool,
) -> Result<Tensor> {
    let batch = x.shape()[0];
    let spatial = batch * win.h.output * win.w.output;
    let taps = win.h.kernel * win.w.kernel * in_c;
    if !grad_kernel {
        let dummy;
        let bias_buf = match bias {
            Some(b) => b.gpu_buffer()?,
            None => {
                dummy = ctx.alloc(4, "conv2d")?;
                &dummy
            }
        };
        let out_shape = [batch, win.h.output, win.w.output, out_c];
        let out = ctx.alloc_tensor("conv2d output", &out_shape, DType::F32)?;
        let params = Conv2dParams {
            win: WindowWords::new(batch, win, in_c),
            out_c: out_c as u32,
            has_bias: bias.is_some() as u32,
            ..Default::default()
        };
        let buffers = [(1, x.gpu_buffer()?), (2, rhs.gpu_buffer()?), (3, bias_buf), (4, &out)];
        if out_c <= NARROW_MAX_CHANNELS {
            ctx.launch(Stem::Conv2d, "forward_narrow", &[], &params, &buffers, grid_1d(spatial, NARROW_WG))?;
        } else {
            let tile = TileRows::for_rows(ctx.planned_rows(spatial, batch));
            let groups = gemm_grid(spatial, out_c, tile.rows(), TILE);
            ctx.launch(Stem::Conv2d, "forward", &tile.overrides(), &params, &buffers, groups)?;
        }
        return Ok(Tensor::from_gpu_buffer(device, out, &out_shape, DType::F32));
    }
    // Split the long reduction over output pixels so enough workgroups run at once.
    let splits_wanted = (spatial / 4096).clamp(1, 64);
    let chunk = spatial.div_ceil(splits_wanted).div_ceil(16) * 16;
    let splits = spatial.div_ceil(chunk.max(1)).max(1);
    let out = ctx.alloc_tensor("conv2d kernel gradient (partial sums)", &[splits, taps, out_c], DType::F32)?;
    let params = Conv2dParams {
        win: WindowWords::new(batch, win, in_c),
        out_c: out_c as u32,
        k_chunk: chunk as u32,
        ..Default::default()
    };
    let mut groups = gemm_grid(taps, out_c, TILE, TILE);
    ensure!(groups[2] == 1, "conv2d kernel gradient: kernel of {taps} taps is too large");
    groups[2] = splits as u32;
    // grad_kernel reads no bias: its pipeline's layout has no binding 3.
    ctx.launch(
        Stem::Conv2d,
        "grad_kernel",
        &[],
        &params,
        &[(1, x.gpu_buffer()?), (2, rhs.gpu_buffer()?), (4, &out)],
        groups,
    )?;
    let kernel_shape = [win.h.kernel, win.w.kernel, in_c, out_c];
    if splits == 1 {
        return Ok(Tensor::from_gpu_buffer(device, out, &kernel_shape, DType::F32));
    }
    // Sum the split partials with the reduce kernel directly, not through ops/ (gpu/ sits below it).
    let partials = Tensor::from_gpu_buffer(device, out, &[splits, taps * out_c], DType::F32);
    reduce::reduce(ctx, device, &partials, (1, splits, taps * out_c), ReduceOp::Sum, &kernel_shape)
}
