//! Transposed 2-D convolution (Keras Conv2DTranspose), kernel (kh, kw, out, in).
//! Its input gradient is a conv2d forward and its kernel gradient conv2d's kernel
//! gradient with the roles of input and output swapped.

pub(crate) mod spec;
pub use spec::ConvTranspose2dSpec;

use super::{common_device, expect_shape, on_device, require_float, CpuFloat};
use crate::cpu::conv::{add_bias, ConvGeometry};
use crate::error::Result;
use crate::gpu::kernels::conv2d::im2col_gemm;
use crate::gpu::kernels::conv_transpose2d::transposed_gemm;
use crate::ops::geometry::Padding;
use crate::reference::conv_transpose2d as reference;
use crate::shape::fmt_shape;
use crate::tensor::Tensor;
use crate::ensure;

/// Check an NHWC input against a (kh, kw, out, in) kernel and give their spec.
pub fn conv_transpose2d_spec(
    x: &Tensor,
    kernel: &Tensor,
    strides: [usize; 2],
    padding: Padding,
    output_padding: Option<[usize; 2]>,
) -> Result<ConvTranspose2dSpec> {
    ensure!(
        x.rank() == 4 && kernel.rank() == 4,
        "conv_transpose2d: expects input (batch, height, width, channels) and kernel (kh, kw, out, in), got {} and {}",
        fmt_shape(x.shape()),
        fmt_shape(kernel.shape())
    );
    let (xs, ks) = (x.shape(), kernel.shape());
    ensure!(
        ks[3] == xs[3],
        "conv_transpose2d: kernel {} expects {} input channels but the input {} has {}",
        fmt_shape(ks),
        ks[3],
        fmt_shape(xs),
        xs[3]
    );
    let spec = ConvTranspose2dSpec {
        batch: xs[0],
        in_h: xs[1],
        in_w: xs[2],
        in_channels: xs[3],
        out_channels: ks[2],
        kernel: [ks[0], ks[1]],
        strides,
        padding,
        output_padding,
        dilation: [1, 1],
    };
    spec.window()?;
    Ok(spec)
}

/// Keras Conv2DTranspose's computation: NHWC input, (kh, kw, out, in) kernel, optional bias.
pub fn conv_transpose2d(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    strides: [usize; 2],
    padding: Padding,
    output_padding: Option<[usize; 2]>,
) -> Result<Tensor> {
    let spec = conv_transpose2d_spec(x, kernel, strides, padding, output_padding)?;
    conv_transpose2d_with_spec(x, kernel, bias, &spec)
}

/// [`conv_transpose2d`] with a spec already checked.
pub fn conv_transpose2d_with_spec(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    spec: &ConvTranspose2dSpec,
) -> Result<Tensor> {
    const OP: &str = "conv_transpose2d";
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
        expect_shape(OP, "bias", b, &[spec.out_channels])?;
    }
    on_device!(device, x.dtype(), OP,
        fast_f32 => {
            // The forward pass is the input gradient of the convolution it transposes.
            let mut y = ConvGeometry::of_conv_transpose2d(spec)?.grad_input(f32::slice(x, OP)?, f32::slice(kernel, OP)?);
            if let Some(b) = bias {
                add_bias(&mut y, f32::slice(b, OP)?);
            }
            Ok(Tensor::from_cpu(&spec.output_shape()?, f32::wrap(y)))
        },
        cpu::<F> => {
            let bias = bias.map(|t| F::slice(t, OP)).transpose()?;
            let y = reference::conv_transpose2d(F::slice(x, OP)?, F::slice(kernel, OP)?, bias, spec)?;
            Ok(Tensor::from_cpu(&spec.output_shape()?, F::wrap(y)))
        },
        gpu(ctx) => {
            let win = spec.window()?;
            transposed_gemm(ctx, device, x, kernel, bias, &win, spec.in_channels, spec.out_channels)
        },
    )
}

/// Input gradient: the forward convolution of `dy` with the same kernel read as HWIO.
pub fn conv_transpose2d_grad_input(dy: &Tensor, kernel: &Tensor, spec: &ConvTranspose2dSpec) -> Result<Tensor> {
    const OP: &str = "conv_transpose2d_grad_input";
    let device = common_device(OP, &[dy, kernel])?;
    expect_shape(OP, "output gradient", dy, &spec.output_shape()?)?;
    expect_shape(OP, "kernel", kernel, &spec.kernel_shape())?;
    on_device!(device, dy.dtype(), OP,
        fast_f32 => {
            let g = ConvGeometry::of_conv_transpose2d(spec)?.forward(f32::slice(dy, OP)?, f32::slice(kernel, OP)?, None);
            Ok(Tensor::from_cpu(&spec.input_shape(), f32::wrap(g)))
        },
        cpu::<F> => {
            let g = reference::conv_transpose2d_grad_input(F::slice(dy, OP)?, F::slice(kernel, OP)?, spec)?;
            Ok(Tensor::from_cpu(&spec.input_shape(), F::wrap(g)))
        },
        gpu(ctx) => {
            let win = spec.window()?;
            im2col_gemm(ctx, device, dy, kernel, None, &win, spec.out_channels, spec.in_channels, false)
        },
    )
}

/// Kernel gradient, shaped (kh, kw, out, in).
pub fn conv_transpose2d_grad_kernel(x: &Tensor, dy: &Tensor, spec: &ConvTranspose2dSpec) -> Result<Tensor> {
    const OP: &str = "conv_transpose2d_grad_kernel";
    let device = common_device(OP, &[x, dy])?;
    expect_shape(OP, "input", x, &spec.input_shape())?;
    expect_shape(OP, "output gradient", dy, &spec.output_shape()?)?;
    on_device!(device, x.dtype(), OP,
        fast_f32 => {
            // The transposed op's output gradient is the forward convolution's input.
            let g = ConvGeometry::of_conv_transpose2d(spec)?.grad_kernel(f32::slice(dy, OP)?, f32::slice(x, OP)?);
            Ok(Tensor::from_cpu(&spec.kernel_shape(), f32::wrap(g)))
        },
        cpu::<F> => {
            let g = reference::conv_transpose2d_grad_kernel(F::slice(x, OP)?, F::slice(dy, OP)?, spec)?;
            Ok(Tensor::from_cpu(&spec.kernel_shape(), F::wrap(g)))
        },
        gpu(ctx) => {
            let win = spec.window()?;
            im2col_gemm(ctx, device, dy, x, None, &win, spec.out_channels, spec.in_channels, true)
        },
    )
}
