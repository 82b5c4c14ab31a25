//! Host code of shaders/depthwise_conv2d.wgsl: its uniform block and its launches.

use crate::error::Result;
use super::ChannelChunks;
use crate::gpu::params::{uniform_block, WindowWords};
use crate::gpu::{grid_1d, GpuContext, Stem, WG_1D};
use crate::ops::geometry::Window2d;
use crate::tensor::{DType, Tensor};
use crate::Device;

uniform_block! {
    /// shaders/depthwise_conv2d.wgsl `struct Params`.
    pub(crate) struct DepthwiseConv2dParams {
        pub win: WindowWords,
        pub mult: u32,
        pub has_bias: u32,
        pub tile_c: u32,
        pub chunk: u32,
        pub chunks: u32,
        pub _pad: u32,
    }
}

fn params(batch: usize, win: &Window2d, channels: usize, mult: usize, has_bias: bool) -> DepthwiseConv2dParams {
    DepthwiseConv2dParams {
        win: WindowWords::new(batch, win, channels),
        mult: mult as u32,
        has_bias: has_bias as u32,
        ..Default::default()
    }
}

/// The shader's per-invocation tap sums of grad_kernel_partial (its MAX_TAPS).
const MAX_TAPS: usize = 25;
/// The K_H, K_W override constants of the *_k entries.
fn kernel_size(win: &Window2d) -> Vec<(&'static str, f64)> {
    vec![("K_H", win.h.kernel as f64), ("K_W", win.w.kernel as f64)]
}

/// The entry for the kernel size: the generic one past MAX_TAPS, else the one compiled
/// for this size.
fn pick(win: &Window2d, generic: &'static str, sized: &'static str) -> (&'static str, Vec<(&'static str, f64)>) {
    if win.h.kernel * win.w.kernel > MAX_TAPS {
        (generic, Vec::new())
    } else {
        (sized, kernel_size(win))
    }
}

pub(crate) fn forward(
    ctx: &GpuContext,
    device: &Device,
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    win: &Window2d,
    mult: usize,
) -> Result<Tensor> {
    let (batch, channels) = (x.shape()[0], x.shape()[3]);
    let shape = [batch, win.h.output, win.w.output, channels * mult];
    let n: usize = shape.iter().product();
    let out = ctx.alloc_tensor("depthwise_conv2d output", &shape, DType::F32)?;
    let dummy;
    let bias_buf = match bias {
        Some(b) => b.gpu_buffer()?,
        None => {
            dummy = ctx.alloc(4, "depthwise_conv2d")?;
            &dummy
        }
    };
    let (mut entry, k) = pick(win, "forward", "forward_k");
    // Four channels per invocation where they share an input channel each.
    let mut invocations = n;
    if entry == "forward_k" && mult == 1 && channels % 4 == 0 {
        entry = "forward_k4";
        invocations = n / 4;
    }
    ctx.launch(
        Stem::DepthwiseConv2d,
        entry,
        &k,
        &params(batch, win, channels, mult, bias.is_some()),
        &[(1, x.gpu_buffer()?), (2, kernel.gpu_buffer()?), (3, bias_buf), (5, &out)],
        grid_1d(invocations, WG_1D),
    )?;
    Ok(Tensor::from_gpu_buffer(device, out, &shape, DType::F32))
}

pub(crate) fn grad_input(
    ctx: &GpuContext,
    device: &Device,
    dy: &Tensor,
    kernel: &Tensor,
    win: &Window2d,
    channels: usize,
    mult: usize,
) -> Result<Tensor> {
    let batch = dy.shape()[0];
    let shape = [batch, win.h.input, win.w.input, channels];
    let n: usize = shape.iter().product();
    let out = ctx.alloc_tensor("depthwise_conv2d input gradient", &shape, DType::F32)?;
    let (entry, k) = pick(win, "grad_input", "grad_input_k");
    ctx.launch(
        Stem::DepthwiseConv2d,
        entry,
        &k,
        &params(batch, win, channels, mult, false),
        &[(2, kernel.gpu_buffer()?), (4, dy.gpu_buffer()?), (5, &out)],
        grid_1d(n, WG_1D),
    )?;
    Ok(Tensor::from_gpu_buffer(device, out, &shape, DType::F32))
}

pub(crate) fn grad_kernel(
    ctx: &GpuContext,
    device: &Device,
    x: &Tensor,
    dy: &Tensor,
    win: &Window2d,
    mult: usize,
) -> Result<Tensor> {
    let (batch, channels) = (x.shape()[0], x.shape()[3]);
    let shape = [win.h.kernel, win.w.kernel, channels, mult];
    let n: usize = shape.iter().product();
    let out = ctx.alloc_tensor("depthwise_conv2d kernel gradient", &shape, DType::F32)?;
    let taps = win.h.kernel * win.w.kernel;
    if taps > MAX_TAPS {
        ctx.launch(
            Stem::DepthwiseConv2d,
            "grad_kernel",
            &[],
            &params(batch, win, channels, mult, false),
            &[(1, x.gpu_buffer()?), (4, dy.gpu_buffer()?), (5, &out)],
            grid_1d(n, 1),
        )?;
        return Ok(Tensor::from_gpu_buffer(device, out, &shape, DType::F32));
    }
    let out_c = channels * mult;
    let split = ChannelChunks::of(out_c, batch * win.h.output * win.w.output);
    let p = DepthwiseConv2dParams {
        tile_c: split.tile_c,
        chunk: split.chunk,
        chunks: split.chunks,
        ..params(batch, win, channels, mult, false)
    };
    let partials = ctx.alloc_tensor("depthwise_conv2d kernel gradient partial sums", &[split.chunks as usize, n], DType::F32)?;
    ctx.launch(
        Stem::DepthwiseConv2d,
        "grad_kernel_partial",
        &kernel_size(win),
        &p,
        &[(1, x.gpu_buffer()?), (4, dy.gpu_buffer()?), (5, &partials)],
        grid_1d(split.groups(out_c), 1),
    )?;
    ctx.launch(Stem::DepthwiseConv2d, "grad_kernel_sum", &[], &p, &[(6, &partials), (5, &out)], grid_1d(n, WG_1D))?;
    Ok(Tensor::from_gpu_buffer(device, out, &shape, DType::F32))
}

