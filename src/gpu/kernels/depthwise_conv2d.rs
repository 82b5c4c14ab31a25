//! Host code of shaders/depthwise_conv2d.wgsl: its uniform block and its launches.

use crate::error::Result;
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
    }
}

fn params(batch: usize, win: &Window2d, channels: usize, mult: usize, has_bias: bool) -> DepthwiseConv2dParams {
    DepthwiseConv2dParams { win: WindowWords::new(batch, win, channels), mult: mult as u32, has_bias: has_bias as u32 }
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
    ctx.launch(
        Stem::DepthwiseConv2d,
        "forward",
        &[],
        &params(batch, win, channels, mult, bias.is_some()),
        &[(1, x.gpu_buffer()?), (2, kernel.gpu_buffer()?), (3, bias_buf), (5, &out)],
        grid_1d(n, WG_1D),
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
    ctx.launch(
        Stem::DepthwiseConv2d,
        "grad_input",
        &[],
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
    ctx.launch(
        Stem::DepthwiseConv2d,
        "grad_kernel",
        &[],
        &params(batch, win, channels, mult, false),
        &[(1, x.gpu_buffer()?), (4, dy.gpu_buffer()?), (5, &out)],
        grid_1d(n, 1),
    )?;
    Ok(Tensor::from_gpu_buffer(device, out, &shape, DType::F32))
}
