//! 2-D convolution (Keras Conv2D): NHWC input, HWIO kernel. Forward and kernel
//! gradient run as implicit GEMMs (shaders/conv2d.wgsl); the input gradient is a
//! transposed convolution (ops::conv_transpose2d), as the architecture prescribes.

pub(crate) mod spec;
pub use spec::Conv2dSpec;

use super::{common_device, expect_shape, on_device, require_float, CpuFloat};
use crate::cpu::conv::ConvGeometry;
use crate::error::Result;
use crate::gpu::kernels::conv2d::im2col_gemm;
use crate::gpu::kernels::conv_transpose2d::transposed_gemm;
use crate::reference::conv2d as reference;
use crate::ops::geometry::Padding;
use crate::shape::fmt_shape;
use crate::tensor::Tensor;
use crate::ensure;

/// The spec for `x` (N, H, W, C) convolved with `kernel` (kh, kw, C, filters).
pub fn conv2d_spec(
    x: &Tensor,
    kernel: &Tensor,
    strides: [usize; 2],
    padding: Padding,
    dilation: [usize; 2],
) -> Result<Conv2dSpec> {
    ensure!(
        x.rank() == 4 && kernel.rank() == 4,
        "conv2d: expects input (batch, height, width, channels) and kernel (kh, kw, in, out), got {} and {}",
        fmt_shape(x.shape()),
        fmt_shape(kernel.shape())
    );
    let (xs, ks) = (x.shape(), kernel.shape());
    ensure!(
        ks[2] == xs[3],
        "conv2d: kernel {} expects {} input channels but the input {} has {}",
        fmt_shape(ks),
        ks[2],
        fmt_shape(xs),
        xs[3]
    );
    let spec = Conv2dSpec {
        batch: xs[0],
        in_h: xs[1],
        in_w: xs[2],
        in_channels: xs[3],
        out_channels: ks[3],
        kernel: [ks[0], ks[1]],
        strides,
        dilation,
        padding,
    };
    spec.window()?;
    Ok(spec)
}

/// Keras Conv2D forward: `x` (N, H, W, C), `kernel` (kh, kw, C, filters), optional bias.
pub fn conv2d(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    strides: [usize; 2],
    padding: Padding,
    dilation: [usize; 2],
) -> Result<Tensor> {
    let spec = conv2d_spec(x, kernel, strides, padding, dilation)?;
    conv2d_with_spec(x, kernel, bias, &spec)
}

/// [`conv2d`] with a spec already checked.
pub fn conv2d_with_spec(x: &Tensor, kernel: &Tensor, bias: Option<&Tensor>, spec: &Conv2dSpec) -> Result<Tensor> {
    let mut inputs = vec![x, kernel];
    inputs.extend(bias);
    let device = common_device("conv2d", &inputs)?;
    require_float("conv2d", x)?;
    for t in &inputs[1..] {
        ensure!(t.dtype() == x.dtype(), "conv2d: dtypes differ ({} and {})", x.describe(), t.describe());
    }
    expect_shape("conv2d", "kernel", kernel, &spec.kernel_shape())?;
    expect_shape("conv2d", "input", x, &spec.input_shape())?;
    if let Some(b) = bias {
        expect_shape("conv2d", "bias", b, &[spec.out_channels])?;
    }
    on_device!(device, x.dtype(), "conv2d",
        fast_f32 => {
            let bias = bias.map(|b| f32::slice(b, "conv2d")).transpose()?;
            let y = ConvGeometry::of_conv2d(spec)?.forward(f32::slice(x, "conv2d")?, f32::slice(kernel, "conv2d")?, bias);
            Ok(Tensor::from_cpu(&spec.output_shape()?, f32::wrap(y)))
        },
        cpu::<F> => {
            let bias = bias.map(|b| F::slice(b, "conv2d")).transpose()?;
            let y = reference::conv2d(F::slice(x, "conv2d")?, F::slice(kernel, "conv2d")?, bias, spec)?;
            Ok(Tensor::from_cpu(&spec.output_shape()?, F::wrap(y)))
        },
        gpu(ctx) => {
            let win = spec.window()?;
            im2col_gemm(ctx, device, x, kernel, bias, &win, spec.in_channels, spec.out_channels, false)
        },
    )
}

/// Gradient of conv2d with respect to its input: a transposed convolution of `dy`.
pub fn conv2d_grad_input(dy: &Tensor, kernel: &Tensor, spec: &Conv2dSpec) -> Result<Tensor> {
    let device = common_device("conv2d_grad_input", &[dy, kernel])?;
    expect_shape("conv2d_grad_input", "output gradient", dy, &spec.output_shape()?)?;
    expect_shape("conv2d_grad_input", "kernel", kernel, &spec.kernel_shape())?;
    on_device!(device, dy.dtype(), "conv2d_grad_input",
        fast_f32 => {
            let g = ConvGeometry::of_conv2d(spec)?.grad_input(f32::slice(dy, "conv2d")?, f32::slice(kernel, "conv2d")?);
            Ok(Tensor::from_cpu(&spec.input_shape(), f32::wrap(g)))
        },
        cpu::<F> => {
            let g = reference::conv2d_grad_input(F::slice(dy, "conv2d")?, F::slice(kernel, "conv2d")?, spec)?;
            Ok(Tensor::from_cpu(&spec.input_shape(), F::wrap(g)))
        },
        gpu(ctx) => {
            // The conv2d kernel (kh, kw, ci, co) is a transposed-conv kernel (kh, kw, out=ci, in=co).
            let win = spec.window()?;
            transposed_gemm(ctx, device, dy, kernel, None, &win, spec.out_channels, spec.in_channels)
        },
    )
}

/// Gradient of conv2d with respect to its kernel, shaped (kh, kw, in, out).
pub fn conv2d_grad_kernel(x: &Tensor, dy: &Tensor, spec: &Conv2dSpec) -> Result<Tensor> {
    let device = common_device("conv2d_grad_kernel", &[x, dy])?;
    expect_shape("conv2d_grad_kernel", "input", x, &spec.input_shape())?;
    expect_shape("conv2d_grad_kernel", "output gradient", dy, &spec.output_shape()?)?;
    on_device!(device, x.dtype(), "conv2d_grad_kernel",
        fast_f32 => {
            let g = ConvGeometry::of_conv2d(spec)?.grad_kernel(f32::slice(x, "conv2d")?, f32::slice(dy, "conv2d")?);
            Ok(Tensor::from_cpu(&spec.kernel_shape(), f32::wrap(g)))
        },
        cpu::<F> => {
            let g = reference::conv2d_grad_kernel(F::slice(x, "conv2d")?, F::slice(dy, "conv2d")?, spec)?;
            Ok(Tensor::from_cpu(&spec.kernel_shape(), F::wrap(g)))
        },
        gpu(ctx) => {
            let win = spec.window()?;
            im2col_gemm(ctx, device, x, dy, None, &win, spec.in_channels, spec.out_channels, true)
        },
    )
}

/// Gradient with respect to a per-channel bias: the sum of `dy` over batch and space.
pub fn bias_grad(dy: &Tensor) -> Result<Tensor> {
    dy.sum(&[0, 1, 2], false)
}
