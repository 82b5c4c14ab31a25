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
