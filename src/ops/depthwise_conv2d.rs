//! Depthwise 2-D convolution (Keras DepthwiseConv2D; SeparableConv2D is this followed
//! by a 1x1 conv2d). Kernel (kh, kw, in, depth_multiplier); output channel c*mult+m.

pub(crate) mod spec;
pub use spec::DepthwiseConv2dSpec;

use super::{common_device, expect_shape, on_device, require_float, CpuFloat};
use crate::cpu::depthwise as fast;
use crate::ensure;
use crate::error::Result;
use crate::gpu::kernels::depthwise_conv2d as gpu;
use crate::ops::geometry::Padding;
use crate::reference::depthwise_conv2d as reference;
use crate::shape::fmt_shape;
use crate::tensor::Tensor;

const OP: &str = "depthwise_conv2d";

/// Check an NHWC input against a (kh, kw, in, multiplier) kernel and give their spec.
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

/// Keras DepthwiseConv2D's computation: each input channel convolved with its own filters.
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

/// [`depthwise_conv2d`] with a spec already checked.
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
    on_device!(device, x.dtype(), OP,
        fast_f32 => {
            let bias = bias.map(|t| f32::slice(t, OP)).transpose()?;
            let y = fast::forward(f32::slice(x, OP)?, f32::slice(kernel, OP)?, bias, spec)?;
            Ok(Tensor::from_cpu(&spec.output_shape()?, f32::wrap(y)))
        },
        cpu::<F> => {
            let bias = bias.map(|t| F::slice(t, OP)).transpose()?;
            let y = reference::depthwise_conv2d(F::slice(x, OP)?, F::slice(kernel, OP)?, bias, spec)?;
            Ok(Tensor::from_cpu(&spec.output_shape()?, F::wrap(y)))
        },
        gpu(ctx) => gpu::forward(ctx, device, x, kernel, bias, &spec.window()?, spec.depth_multiplier),
    )
}

/// Gradient with respect to the input.
pub fn depthwise_conv2d_grad_input(dy: &Tensor, kernel: &Tensor, spec: &DepthwiseConv2dSpec) -> Result<Tensor> {
    let device = common_device(OP, &[dy, kernel])?;
    expect_shape(OP, "output gradient", dy, &spec.output_shape()?)?;
    expect_shape(OP, "kernel", kernel, &spec.kernel_shape())?;
    on_device!(device, dy.dtype(), OP,
        fast_f32 => {
            let g = fast::grad_input(f32::slice(dy, OP)?, f32::slice(kernel, OP)?, spec)?;
            Ok(Tensor::from_cpu(&spec.input_shape(), f32::wrap(g)))
        },
        cpu::<F> => {
            let g = reference::depthwise_conv2d_grad_input(F::slice(dy, OP)?, F::slice(kernel, OP)?, spec)?;
            Ok(Tensor::from_cpu(&spec.input_shape(), F::wrap(g)))
        },
        gpu(ctx) => {
            gpu::grad_input(ctx, device, dy, kernel, &spec.window()?, spec.in_channels, spec.depth_multiplier)
        },
    )
}

/// Gradient with respect to the kernel.
pub fn depthwise_conv2d_grad_kernel(x: &Tensor, dy: &Tensor, spec: &DepthwiseConv2dSpec) -> Result<Tensor> {
    let device = common_device(OP, &[x, dy])?;
    expect_shape(OP, "input", x, &spec.input_shape())?;
    expect_shape(OP, "output gradient", dy, &spec.output_shape()?)?;
    on_device!(device, x.dtype(), OP,
        fast_f32 => {
            let g = fast::grad_kernel(f32::slice(x, OP)?, f32::slice(dy, OP)?, spec)?;
            Ok(Tensor::from_cpu(&spec.kernel_shape(), f32::wrap(g)))
        },
        cpu::<F> => {
            let g = reference::depthwise_conv2d_grad_kernel(F::slice(x, OP)?, F::slice(dy, OP)?, spec)?;
            Ok(Tensor::from_cpu(&spec.kernel_shape(), F::wrap(g)))
        },
        gpu(ctx) => gpu::grad_kernel(ctx, device, x, dy, &spec.window()?, spec.depth_multiplier),
    )
}
