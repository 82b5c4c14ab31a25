//! Host code of shaders/pool2d.wgsl: its uniform block and its launches.

use crate::error::Result;
use crate::gpu::params::{uniform_block, WindowWords};
use crate::gpu::{grid_1d, GpuContext, Stem, WG_1D};
use crate::ops::geometry::Window2d;
use crate::tensor::{DType, Tensor};
use crate::Device;

uniform_block! {
    /// shaders/pool2d.wgsl `struct Params`.
    pub(crate) struct Pool2dParams {
        pub win: WindowWords,
        pub _pad1: u32,
        pub _pad2: u32,
    }
}

fn params(batch: usize, channels: usize, win: &Window2d) -> Pool2dParams {
    Pool2dParams { win: WindowWords::new(batch, win, channels), ..Default::default() }
}

pub(crate) fn forward(ctx: &GpuContext, device: &Device, x: &Tensor, win: &Window2d, max: bool) -> Result<Tensor> {
    let (batch, channels) = (x.shape()[0], x.shape()[3]);
    let shape = [batch, win.h.output, win.w.output, channels];
    let n: usize = shape.iter().product();
    let out = ctx.alloc_tensor("pool2d output", &shape, DType::F32)?;
    let entry = if max { "max_forward" } else { "avg_forward" };
    ctx.launch(
        Stem::Pool2d,
        entry,
        &[],
        &params(batch, channels, win),
        &[(1, x.gpu_buffer()?), (3, &out)],
        grid_1d(n, WG_1D),
    )?;
    Ok(Tensor::from_gpu_buffer(device, out, &shape, DType::F32))
}

pub(crate) fn grad_input(
    ctx: &GpuContext,
    device: &Device,
    x: &Tensor,
    dy: &Tensor,
    win: &Window2d,
    max: bool,
) -> Result<Tensor> {
    let n = x.numel();
    let channels = x.shape()[3];
    let out = ctx.alloc_tensor("pool2d input gradient", x.shape(), DType::F32)?;
    let p = params(x.shape()[0], channels, win);
    if max {
        ctx.launch(
            Stem::Pool2d,
            "max_backward",
            &[],
            &p,
            &[(1, x.gpu_buffer()?), (2, dy.gpu_buffer()?), (3, &out)],
            grid_1d(n, WG_1D),
        )?;
    } else {
        ctx.launch(Stem::Pool2d, "avg_backward", &[], &p, &[(2, dy.gpu_buffer()?), (3, &out)], grid_1d(n, WG_1D))?;
    }
    Ok(Tensor::from_gpu_buffer(device, out, x.shape(), DType::F32))
}

/// Max pooling and, per output, the flat input index of its window's first maximum
/// (int32, the output's shape).
pub(crate) fn max_forward_argmax(ctx: &GpuContext, device: &Device, x: &Tensor, win: &Window2d) -> Result<(Tensor, Tensor)> {
    let (batch, channels) = (x.shape()[0], x.shape()[3]);
    let shape = [batch, win.h.output, win.w.output, channels];
    let n: usize = shape.iter().product();
    let out = ctx.alloc_tensor("pool2d output", &shape, DType::F32)?;
    let argmax = ctx.alloc_tensor("pool2d argmax", &shape, DType::I32)?;
    ctx.launch(
        Stem::Pool2d,
        "max_forward_argmax",
        &[],
        &params(batch, channels, win),
        &[(1, x.gpu_buffer()?), (3, &out), (4, &argmax)],
        grid_1d(n, WG_1D),
    )?;
    Ok((Tensor::from_gpu_buffer(device, out, &shape, DType::F32), Tensor::from_gpu_buffer(device, argmax, &shape, DType::I32)))
}

/// Max pooling's input gradient from `max_forward_argmax`'s indices.
pub(crate) fn max_grad_input_argmax(
    ctx: &GpuContext,
    device: &Device,
    input_shape: &[usize],
    argmax: &Tensor,
    dy: &Tensor,
    win: &Window2d,
) -> Result<Tensor> {
    let n: usize = input_shape.iter().product();
    let out = ctx.alloc_tensor("pool2d input gradient", input_shape, DType::F32)?;
    ctx.launch(
        Stem::Pool2d,
        "max_backward_argmax",
        &[],
        &params(input_shape[0], input_shape[3], win),
        &[(2, dy.gpu_buffer()?), (5, argmax.gpu_buffer()?), (3, &out)],
        grid_1d(n, WG_1D),
    )?;
    Ok(Tensor::from_gpu_buffer(device, out, input_shape, DType::F32))
}
