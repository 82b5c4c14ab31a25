//! Depthwise 2-D convolution (Keras DepthwiseConv2D; SeparableConv2D is this followed
//! by a 1x1 conv2d). Kernel (kh, kw, in, depth_multiplier); output channel c*mult+m.

pub mod spec;
pub use spec::DepthwiseConv2dSpec;

use super::{by_float, common_device, expect_shape, gpu_of, require_float, CpuFloat};
use crate::ensure;
use crate::error::Result;
use crate::ops::geometry::Padding;
use crate::reference::depthwise_conv2d as reference;
use crate::shape::fmt_shape;
use crate::tensor::Tensor;

const OP: &str = "depthwise_conv2d";

pub fn depthwise_conv2d_spec(
    x: &Tensor,
    kernel: &Tensor,
    strides: [usize; 2],
    padding: Padding,
    dilation: [usize; 2],
) -> Result<DepthwiseConv2dSpec> {
    ensure!(
        x.rank() == 4 && kernel.rank() == 4 && kernel.shape()[2] == x.shape()[3],
        "{OP}: expects input (batch, height, width, channels) and kernel (kh, kw, channels, multiplier), got {} and {}",
        fmt_shape(x.shape()),
        fmt_shape(kernel.shape())
    );
    let (xs, ks) = (x.shape(), kernel.shape());
    let spec = DepthwiseConv2dSpec {
        batch: xs[0],
        in_h: xs[1],
        in_w: xs[2],
        in_channels: xs[3],
        depth_multiplier: ks[3],
        kernel: [ks[0], ks[1]],
        strides,
        dilation,
        padding,
    };
    spec.window()?;
    Ok(spec)
}

pub fn depthwise_conv2d(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    strides: [usize; 2],
    padding: Padding,
    dilation: [usize; 2],
) -> Result<Tensor> {
    let spec = depthwise_conv2d_spec(x, kernel, strides, padding, dilation)?;
    depthwise_conv2d_with_spec(x, kernel, bias, &spec)
}

pub fn depthwise_conv2d_with_spec(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    spec: &DepthwiseConv2dSpec,
) -> Result<Tensor> {
    let mut inputs = vec![x, kernel];
    inputs.extend(bias);
    let device = common_device(OP, &inputs)?;
    require_float(OP, x)?;
    for t in &inputs[1..] {
        ensure!(t.dtype() == x.dtype(), "{OP}: dtypes differ ({} and {})", x.describe(), t.describe());
    }
    expect_shape(OP, "input", x, &spec.input_shape())?;
    expect_shape(OP, "kernel", kernel, &spec.kernel_shape())?;
    if let Some(b) = bias {
        expect_shape(OP, "bias", b, &[spec.out_channels()])?;
    }
    match gpu_of(device) {
        None => {
            fn run<F: CpuFloat>(x: &Tensor, k: &Tensor, b: Option<&Tensor>, s: &DepthwiseConv2dSpec) -> Result<Tensor> {
                let bias = match b {
                    Some(b) => Some(F::slice(b, OP)?),
                    None => None,
                };
                let y = reference::depthwise_conv2d(F::slice(x, OP)?, F::slice(k, OP)?, bias, s)?;
                Ok(Tensor::from_cpu(&s.output_shape()?, F::wrap(y)))
            }
            by_float!(x.dtype(), OP, run(x, kernel, bias, spec))
        }
        Some(ctx) => gpu::forward(ctx, device, x, kernel, bias, &spec.window()?, spec.depth_multiplier),
    }
}

pub fn depthwise_conv2d_grad_input(dy: &Tensor, kernel: &Tensor, spec: &DepthwiseConv2dSpec) -> Result<Tensor> {
    let device = common_device(OP, &[dy, kernel])?;
    expect_shape(OP, "output gradient", dy, &spec.output_shape()?)?;
    expect_shape(OP, "kernel", kernel, &spec.kernel_shape())?;
    match gpu_of(device) {
        None => {
            fn run<F: CpuFloat>(dy: &Tensor, k: &Tensor, s: &DepthwiseConv2dSpec) -> Result<Tensor> {
                let g = reference::depthwise_conv2d_grad_input(F::slice(dy, OP)?, F::slice(k, OP)?, s)?;
                Ok(Tensor::from_cpu(&s.input_shape(), F::wrap(g)))
            }
            by_float!(dy.dtype(), OP, run(dy, kernel, spec))
        }
        Some(ctx) => {
            gpu::grad_input(ctx, device, dy, kernel, &spec.window()?, spec.in_channels, spec.depth_multiplier)
        }
    }
}

pub fn depthwise_conv2d_grad_kernel(x: &Tensor, dy: &Tensor, spec: &DepthwiseConv2dSpec) -> Result<Tensor> {
    let device = common_device(OP, &[x, dy])?;
    expect_shape(OP, "input", x, &spec.input_shape())?;
    expect_shape(OP, "output gradient", dy, &spec.output_shape()?)?;
    match gpu_of(device) {
        None => {
            fn run<F: CpuFloat>(x: &Tensor, dy: &Tensor, s: &DepthwiseConv2dSpec) -> Result<Tensor> {
                let g = reference::depthwise_conv2d_grad_kernel(F::slice(x, OP)?, F::slice(dy, OP)?, s)?;
                Ok(Tensor::from_cpu(&s.kernel_shape(), F::wrap(g)))
            }
            by_float!(x.dtype(), OP, run(x, dy, spec))
        }
        Some(ctx) => gpu::grad_kernel(ctx, device, x, dy, &spec.window()?, spec.depth_multiplier),
    }
}

/// GPU launches for depthwise convolution; `win` is the forward geometry.
pub(crate) mod gpu {
    use crate::error::Result;
    use crate::gpu::{grid_1d, GpuContext, Params, Stem, WG_1D};
    use crate::ops::geometry::Window2d;
    use crate::tensor::{DType, Tensor};
    use crate::Device;

    fn params(batch: usize, win: &Window2d, channels: usize, mult: usize, has_bias: bool) -> Params {
        Params::new()
            .u32(batch)
            .u32(win.h.input)
            .u32(win.w.input)
            .u32(channels)
            .u32(win.h.output)
            .u32(win.w.output)
            .u32(mult)
            .u32(win.h.kernel)
            .u32(win.w.kernel)
            .u32(win.h.stride)
            .u32(win.w.stride)
            .u32(win.h.dilation)
            .u32(win.w.dilation)
            .u32(win.h.pad_before)
            .u32(win.w.pad_before)
            .u32(has_bias as usize)
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
        let out = ctx.alloc((n * 4) as u64, "depthwise_conv2d")?;
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
        let out = ctx.alloc((n * 4) as u64, "depthwise_conv2d input gradient")?;
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
        let out = ctx.alloc((n * 4) as u64, "depthwise_conv2d kernel gradient")?;
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
}
