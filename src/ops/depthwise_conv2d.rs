//! Depthwise 2-D convolution (Keras DepthwiseConv2D; SeparableConv2D is this followed
//! by a 1x1 conv2d). Kernel (kh, kw, in, depth_multiplier); output channel c*mult+m.

pub mod spec;
pub use spec::DepthwiseConv2dSpec;

use super::{by_float, common_device, expect_shape, gpu_of, require_float, CpuFloat};
use crate::ensure;
use crate::error::Result;
use crate::gpu::kernels::depthwise_conv2d as gpu;
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
