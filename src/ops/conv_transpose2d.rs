//! Transposed 2-D convolution (Keras Conv2DTranspose), kernel (kh, kw, out, in).
//! Its input gradient is a conv2d forward and its kernel gradient conv2d's kernel
//! gradient with the roles of input and output swapped.

pub mod spec;
pub use spec::ConvTranspose2dSpec;

use super::conv2d::{im2col_gemm, window_params};
use super::{by_float, common_device, expect_shape, gemm_grid, gpu_of, require_float, CpuFloat};
use crate::error::Result;
use crate::gpu::{GpuContext, Stem};
use crate::ops::geometry::{Padding, Window2d};
use crate::reference::conv_transpose2d as reference;
use crate::shape::fmt_shape;
use crate::tensor::{DType, Tensor};
use crate::{ensure, Device};

const TILE: usize = 64;

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
    // The shader's "input" is this op's input (the forward conv's output) and vice versa.
    let flipped = Window2d {
        h: flip(&win.h),
        w: flip(&win.w),
    };
    let rows = batch * win.h.input * win.w.input;
    let out = ctx.alloc((rows * out_c * 4) as u64, "conv_transpose2d")?;
    let dummy;
    let bias_buf = match bias {
        Some(b) => b.gpu_buffer()?,
        None => {
            dummy = ctx.alloc(4, "conv_transpose2d")?;
            &dummy
        }
    };
    let params = window_params(batch, &flipped, in_c, out_c).u32(bias.is_some() as usize);
    ctx.launch(
        Stem::ConvTranspose2d,
        "forward",
        &[],
        &params,
        &[(1, x.gpu_buffer()?), (2, kernel.gpu_buffer()?), (3, bias_buf), (4, &out)],
        gemm_grid(rows, out_c, TILE),
    )?;
    Ok(Tensor::from_gpu_buffer(device, out, &[batch, win.h.input, win.w.input, out_c], DType::F32))
}

/// Swap input and output lengths; stride, dilation and padding describe the same windows.
fn flip(a: &crate::ops::geometry::AxisGeometry) -> crate::ops::geometry::AxisGeometry {
    crate::ops::geometry::AxisGeometry { input: a.output, output: a.input, ..*a }
}

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
    match gpu_of(device) {
        None => {
            fn run<F: CpuFloat>(x: &Tensor, k: &Tensor, b: Option<&Tensor>, s: &ConvTranspose2dSpec) -> Result<Tensor> {
                let bias = match b {
                    Some(b) => Some(F::slice(b, OP)?),
                    None => None,
                };
                let y = reference::conv_transpose2d(F::slice(x, OP)?, F::slice(k, OP)?, bias, s)?;
                Ok(Tensor::from_cpu(&s.output_shape()?, F::wrap(y)))
            }
            by_float!(x.dtype(), OP, run(x, kernel, bias, spec))
        }
        Some(ctx) => {
            let win = spec.window()?;
            transposed_gemm(ctx, device, x, kernel, bias, &win, spec.in_channels, spec.out_channels)
        }
    }
}

/// Input gradient: the forward convolution of `dy` with the same kernel read as HWIO.
pub fn conv_transpose2d_grad_input(dy: &Tensor, kernel: &Tensor, spec: &ConvTranspose2dSpec) -> Result<Tensor> {
    const OP: &str = "conv_transpose2d_grad_input";
    let device = common_device(OP, &[dy, kernel])?;
    expect_shape(OP, "output gradient", dy, &spec.output_shape()?)?;
    expect_shape(OP, "kernel", kernel, &spec.kernel_shape())?;
    match gpu_of(device) {
        None => {
            fn run<F: CpuFloat>(dy: &Tensor, k: &Tensor, s: &ConvTranspose2dSpec) -> Result<Tensor> {
                let g = reference::conv_transpose2d_grad_input(F::slice(dy, OP)?, F::slice(k, OP)?, s)?;
                Ok(Tensor::from_cpu(&s.input_shape(), F::wrap(g)))
            }
            by_float!(dy.dtype(), OP, run(dy, kernel, spec))
        }
        Some(ctx) => {
            let win = spec.window()?;
            im2col_gemm(ctx, device, dy, kernel, None, &win, spec.out_channels, spec.in_channels, false)
        }
    }
}

/// Kernel gradient, shaped (kh, kw, out, in).
pub fn conv_transpose2d_grad_kernel(x: &Tensor, dy: &Tensor, spec: &ConvTranspose2dSpec) -> Result<Tensor> {
    const OP: &str = "conv_transpose2d_grad_kernel";
    let device = common_device(OP, &[x, dy])?;
    expect_shape(OP, "input", x, &spec.input_shape())?;
    expect_shape(OP, "output gradient", dy, &spec.output_shape()?)?;
    match gpu_of(device) {
        None => {
            fn run<F: CpuFloat>(x: &Tensor, dy: &Tensor, s: &ConvTranspose2dSpec) -> Result<Tensor> {
                let g = reference::conv_transpose2d_grad_kernel(F::slice(x, OP)?, F::slice(dy, OP)?, s)?;
                Ok(Tensor::from_cpu(&s.kernel_shape(), F::wrap(g)))
            }
            by_float!(x.dtype(), OP, run(x, dy, spec))
        }
        Some(ctx) => {
            let win = spec.window()?;
            im2col_gemm(ctx, device, dy, x, None, &win, spec.out_channels, spec.in_channels, true)
        }
    }
}
