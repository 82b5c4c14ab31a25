//! Host code of shaders/conv_transpose2d.wgsl: its uniform block and its launches.

use super::gemm_grid;
use super::gemm_tiles::TileRows;
use crate::ensure;
use crate::error::Result;
use crate::gpu::params::{uniform_block, WindowWords};
use crate::gpu::{GpuContext, Stem};
use crate::ops::geometry::{AxisGeometry, Window2d};
use crate::tensor::{DType, Tensor};
use crate::Device;

uniform_block! {
    /// shaders/conv_transpose2d.wgsl `struct Params`.
    pub(crate) struct ConvTranspose2dParams {
        pub win: WindowWords,
        pub out_c: u32,
        pub has_bias: u32,
        pub phases_h: u32,
        pub phases_w: u32,
        pub _pad0: u32,
        pub _pad1: u32,
    }
}

const TILE: usize = 64;

/// GPU transposed convolution: `x` (N, win.output, in_c) with kernel (kh, kw, out_c, in_c)
/// → (N, win.input, out_c), where `win` is the geometry of the forward convolution.
pub(crate) fn transposed_gemm(
    ctx: &GpuContext,
    device: &Device,
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    win: &Window2d,
    in_c: usize,
    out_c: usize,
) -> Result<Tensor> {
    let batch = x.shape()[0];
    // The shader's "input" is this op's input (the forward conv's output) and vice versa.
    let flipped = Window2d { h: flip(&win.h), w: flip(&win.w) };
    // The shader divides by the stride in f32, exact while offsets stay below 2^22.
    let reach = |a: &AxisGeometry| a.input + a.pad_before + a.kernel * a.dilation;
    ensure!(
        reach(&win.h).max(reach(&win.w)) < 1 << 22,
        "conv_transpose2d: output {}x{} with kernel {}x{} is too large for the GPU kernel",
        win.h.input,
        win.w.input,
        win.h.kernel,
        win.w.kernel
    );
    // Undilated axes split the output by stride phase (see the shader), each phase a
    // GEMM of its own over its own taps; the grid is sized for the largest. An axis both
    // strided and dilated needs the shader's generic (dividing) loads.
    let phases = |a: &AxisGeometry| if a.dilation == 1 { a.stride } else { 1 };
    let (phases_h, phases_w) = (phases(&win.h), phases(&win.w));
    let generic = phases_h != win.h.stride || phases_w != win.w.stride;
    let rows = batch * win.h.input.div_ceil(phases_h) * win.w.input.div_ceil(phases_w);
    let out = ctx.alloc_tensor("conv_transpose2d output", &[batch, win.h.input, win.w.input, out_c], DType::F32)?;
    let dummy;
    let bias_buf = match bias {
        Some(b) => b.gpu_buffer()?,
        None => {
            dummy = ctx.alloc(4, "conv_transpose2d")?;
            &dummy
        }
    };
    let params = ConvTranspose2dParams {
        win: WindowWords::new(batch, &flipped, in_c),
        out_c: out_c as u32,
        has_bias: bias.is_some() as u32,
        phases_h: phases_h as u32,
        phases_w: phases_w as u32,
        ..Default::default()
    };
    let tile = TileRows::for_rows(rows);
    let mut overrides = tile.overrides();
    if generic {
        overrides.push(("GENERIC_STRIDE", 1.0));
    }
    let mut groups = gemm_grid(rows, out_c, tile.rows(), TILE);
    groups[2] = groups[2].saturating_mul((phases_h * phases_w) as u32);
    ensure!(groups[2] <= 65535, "conv_transpose2d: strides {}x{} leave too many phases for one launch", phases_h, phases_w);
    ctx.launch(
        Stem::ConvTranspose2d,
        "forward",
        &overrides,
        &params,
        &[(1, x.gpu_buffer()?), (2, kernel.gpu_buffer()?), (3, bias_buf), (4, &out)],
        groups,
    )?;
    Ok(Tensor::from_gpu_buffer(device, out, &[batch, win.h.input, win.w.input, out_c], DType::F32))
}

/// Swap input and output lengths; stride, dilation and padding describe the same windows.
fn flip(a: &AxisGeometry) -> AxisGeometry {
    AxisGeometry { input: a.output, output: a.input, ..*a }
}
