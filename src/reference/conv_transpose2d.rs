//! Transposed 2-D convolution (Keras `Conv2DTranspose`): NHWC input, kernel
//! `(kh, kw, out, in)`, strides, "valid"/"same" padding, optional `output_padding`,
//! optional bias; forward and the gradients with respect to input, kernel and bias.
//!
//! It is the transpose of the forward convolution that maps the transposed op's output
//! (length `O` per axis, from Keras's rule, see
//! [`conv_transpose_output_len`](crate::ops::geometry::conv_transpose_output_len)) back
//! to its input (length `I`), with TensorFlow's padding for that convolution. Input
//! pixel `i` spreads into output pixels `o = i·stride + k - pad_before`:
//!
//! ```text
//! y[n, oy, ox, co] = bias[co] + Σ x[n, iy, ix, ci] · w[ky, kx, co, ci]
//!     over all (iy, ky, ix, kx) with oy = iy·stride_h + ky - pad_top, ox = ix·stride_w + kx - pad_left
//! ```
//! So its forward pass is `conv2d_grad_input` and its input gradient is `conv2d` (with
//! the kernel read as HWIO `(kh, kw, out, in)`); here both are written out on the same
//! taps, in the same way as conv2d. Only dilation 1 is supported.

use super::conv2d::sum_channels;
use super::{check_len, Real};
use crate::error::Result;
use crate::ops::conv_transpose2d::spec::ConvTranspose2dSpec;


/// Forward transposed convolution; returns `y` with shape
/// [`ConvTranspose2dSpec::output_shape`].
pub fn conv_transpose2d<F: Real>(x: &[F], kernel: &[F], bias: Option<&[F]>, s: &ConvTranspose2dSpec) -> Result<Vec<F>> {
    let g = s.window()?;
    check_len("conv_transpose2d", "input", x.len(), &s.input_shape())?;
    check_len("conv_transpose2d", "kernel", kernel.len(), &s.kernel_shape())?;
    if let Some(b) = bias {
        check_len("conv_transpose2d", "bias", b.len(), &[s.out_channels])?;
    }
    let (ci_n, co_n) = (s.in_channels, s.out_channels);
    let (out_h, out_w) = (g.h.input, g.w.input);
    let mut y = vec![F::zero(); s.batch * out_h * out_w * co_n];
    // A tap's `out` is a pixel of this op's input, its `input` a pixel of this op's output.
    g.for_each_tap(s.batch, |n, th, tw| {
        let xo = ((n * s.in_h + th.out) * s.in_w + tw.out) * ci_n;
        let yo = ((n * out_h + th.input) * out_w + tw.input) * co_n;
        let wo = (th.k * s.kernel[1] + tw.k) * co_n * ci_n;
        for co in 0..co_n {
            for ci in 0..ci_n {
                y[yo + co] = y[yo + co] + x[xo + ci] * kernel[wo + co * ci_n + ci];
            }
        }
    });
    if let Some(b) = bias {
        for (i, v) in y.iter_mut().enumerate() {
            *v = *v + b[i % co_n];
        }
    }
    Ok(y)
}

/// Gradient with respect to the input, shape `(N, H, W, in)`.
pub fn conv_transpose2d_grad_input<F: Real>(dy: &[F], kernel: &[F], s: &ConvTranspose2dSpec) -> Result<Vec<F>> {
    let g = s.window()?;
    check_len("conv_transpose2d_grad_input", "output gradient", dy.len(), &s.output_shape()?)?;
    check_len("conv_transpose2d_grad_input", "kernel", kernel.len(), &s.kernel_shape())?;
    let (ci_n, co_n) = (s.in_channels, s.out_channels);
    let (out_h, out_w) = (g.h.input, g.w.input);
    let mut dx = vec![F::zero(); s.input_shape().iter().product()];
    g.for_each_tap(s.batch, |n, th, tw| {
        let xo = ((n * s.in_h + th.out) * s.in_w + tw.out) * ci_n;
        let yo = ((n * out_h + th.input) * out_w + tw.input) * co_n;
        let wo = (th.k * s.kernel[1] + tw.k) * co_n * ci_n;
        for co in 0..co_n {
            for ci in 0..ci_n {
                dx[xo + ci] = dx[xo + ci] + dy[yo + co] * kernel[wo + co * ci_n + ci];
            }
        }
    });
    Ok(dx)
}

/// Gradient with respect to the kernel, shape `(kh, kw, out, in)`.
pub fn conv_transpose2d_grad_kernel<F: Real>(x: &[F], dy: &[F], s: &ConvTranspose2dSpec) -> Result<Vec<F>> {
    let g = s.window()?;
    check_len("conv_transpose2d_grad_kernel", "input", x.len(), &s.input_shape())?;
    check_len("conv_transpose2d_grad_kernel", "output gradient", dy.len(), &s.output_shape()?)?;
    let (ci_n, co_n) = (s.in_channels, s.out_channels);
    let (out_h, out_w) = (g.h.input, g.w.input);
    let mut dw = vec![F::zero(); s.kernel_shape().iter().product()];
    g.for_each_tap(s.batch, |n, th, tw| {
        let xo = ((n * s.in_h + th.out) * s.in_w + tw.out) * ci_n;
        let yo = ((n * out_h + th.input) * out_w + tw.input) * co_n;
        let wo = (th.k * s.kernel[1] + tw.k) * co_n * ci_n;
        for co in 0..co_n {
            for ci in 0..ci_n {
                dw[wo + co * ci_n + ci] = dw[wo + co * ci_n + ci] + x[xo + ci] * dy[yo + co];
            }
        }
    });
    Ok(dw)
}

/// Gradient with respect to the bias, shape `(out,)`: `dy` summed over N, H, W.
// Only the finite-difference tests in reference/tests.rs use this oracle.
#[cfg_attr(not(test), allow(dead_code))]
pub fn conv_transpose2d_grad_bias<F: Real>(dy: &[F], s: &ConvTranspose2dSpec) -> Result<Vec<F>> {
    check_len("conv_transpose2d_grad_bias", "output gradient", dy.len(), &s.output_shape()?)?;
    Ok(sum_channels(dy, s.out_channels))
}
