//! Host code of shaders/conv_transpose2d.wgsl: its uniform block and its launches.

use super::conv2d::im2col_gemm;
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

/// Output pixels from which a stride-1 transposed convolution runs as a correlation
/// (see `transposed_gemm`): below, flipping the kernel costs about what it saves.
const CORRELATION_MIN_ROWS: usize = 32;

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
    if let Some(corr) = as_correlation(win).filter(|_| ctx.planned_rows(batch * win.h.input * win.w.input, batch) >= CORRELATION_MIN_ROWS) {
        // Stride 1: a plain convolution of x with the kernel flipped in space and its
        // channels swapped, run by conv2d's forward GEMM, measured 2-3x faster per
        // multiply-add on CPU adapters than this shader (and, for the usual input
        // gradients, one big pipeline fewer to compile). Flipping costs a pass over the
        // kernel, so GEMMs of few rows stay here.
        let flipped_kernel = flip_kernel(ctx, device, kernel, win, in_c, out_c)?;
        return im2col_gemm(ctx, device, x, &flipped_kernel, bias, &corr, in_c, out_c, false);
    }
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
    let tile = TileRows::for_rows(ctx.planned_rows(rows, batch));
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

/// The stride-1 transposed convolution of `win` as a correlation over this op's input:
/// output row oy reads input row oy + pad - ky * d, which is oy - pad' + ky' * d for the
/// flipped tap ky' = k - 1 - ky and pad' = d (k - 1) - pad. None where a stride is not 1
/// (or pad' would be negative).
fn as_correlation(win: &Window2d) -> Option<Window2d> {
    let axis = |a: &AxisGeometry| {
        let reach = a.dilation * (a.kernel.max(1) - 1);
        (a.stride == 1 && a.pad_before <= reach).then(|| AxisGeometry {
            input: a.output,
            kernel: a.kernel,
            stride: 1,
            dilation: a.dilation,
            pad_before: reach - a.pad_before,
            output: a.input,
        })
    };
    Some(Window2d { h: axis(&win.h)?, w: axis(&win.w)? })
}

/// The kernel (kh, kw, out_c, in_c) flipped in both spatial axes, as a conv2d kernel
/// (kh, kw, in_c, out_c).
fn flip_kernel(ctx: &GpuContext, device: &Device, kernel: &Tensor, win: &Window2d, in_c: usize, out_c: usize) -> Result<Tensor> {
    let shape = [win.h.kernel, win.w.kernel, in_c, out_c];
    let total = shape.iter().product::<usize>();
    let out = ctx.alloc_tensor("conv_transpose2d flipped kernel", &shape, DType::F32)?;
    if total > 0 {
        let params = ConvTranspose2dParams {
            win: WindowWords::new(1, win, in_c),
            out_c: out_c as u32,
            ..Default::default()
        };
        let groups = total.div_ceil(64);
        let x = groups.min(65535);
        ctx.launch(
            Stem::ConvTranspose2d,
            "flip_kernel",
            &[],
            &params,
            &[(2, kernel.gpu_buffer()?), (4, &out)],
            [x as u32, groups.div_ceil(x) as u32, 1],
        )?;
    }
    Ok(Tensor::from_gpu_buffer(device, out, &shape, DType::F32))
}

/// Swap input and output lengths; stride, dilation and padding describe the same windows.
fn flip(a: &AxisGeometry) -> AxisGeometry {
    AxisGeometry { input: a.output, output: a.input, ..*a }
}
