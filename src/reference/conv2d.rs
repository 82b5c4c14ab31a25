//! 2-D convolution (Keras `Conv2D`): NHWC input, HWIO kernel `(kh, kw, in, out)`,
//! strides, dilation, TensorFlow "valid"/"same" padding, optional bias; forward and the
//! gradients with respect to input, kernel and bias.
//!
//! ```text
//! y[n, oy, ox, co] = bias[co] + Σ_{ky, kx, ci} x[n, iy, ix, ci] · w[ky, kx, ci, co]
//!     iy = oy·stride_h + ky·dilation_h - pad_top,  ix = ox·stride_w + kx·dilation_w - pad_left
//! ```
//! (terms whose `(iy, ix)` fall in the padding are zero). The gradients walk the same
//! taps (see [`Window2d::for_each_tap`](crate::ops::geometry::Window2d::for_each_tap));
//! the input gradient is the transposed convolution of `dy` (see `conv_transpose2d`).

use super::{check_len, Real};
use crate::error::Result;
use crate::ops::conv2d::spec::Conv2dSpec;


/// Forward convolution; returns `y` with shape [`Conv2dSpec::output_shape`].
pub fn conv2d<F: Real>(x: &[F], kernel: &[F], bias: Option<&[F]>, s: &Conv2dSpec) -> Result<Vec<F>> {
    let g = s.window()?;
    check_len("conv2d", "input", x.len(), &s.input_shape())?;
    check_len("conv2d", "kernel", kernel.len(), &s.kernel_shape())?;
    if let Some(b) = bias {
        check_len("conv2d", "bias", b.len(), &[s.out_channels])?;
    }
    let (ci_n, co_n) = (s.in_channels, s.out_channels);
    let mut y = vec![F::zero(); s.batch * g.h.output * g.w.output * co_n];
    g.for_each_tap(s.batch, |n, th, tw| {
        let xo = ((n * s.in_h + th.input) * s.in_w + tw.input) * ci_n;
        let yo = ((n * g.h.output + th.out) * g.w.output + tw.out) * co_n;
        let wo = (th.k * s.kernel[1] + tw.k) * ci_n * co_n;
        for ci in 0..ci_n {
            for co in 0..co_n {
                y[yo + co] = y[yo + co] + x[xo + ci] * kernel[wo + ci * co_n + co];
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
pub fn conv2d_grad_input<F: Real>(dy: &[F], kernel: &[F], s: &Conv2dSpec) -> Result<Vec<F>> {
    let g = s.window()?;
    check_len("conv2d_grad_input", "output gradient", dy.len(), &s.output_shape()?)?;
    check_len("conv2d_grad_input", "kernel", kernel.len(), &s.kernel_shape())?;
    let (ci_n, co_n) = (s.in_channels, s.out_channels);
    let mut dx = vec![F::zero(); s.input_shape().iter().product()];
    g.for_each_tap(s.batch, |n, th, tw| {
        let xo = ((n * s.in_h + th.input) * s.in_w + tw.input) * ci_n;
        let yo = ((n * g.h.output + th.out) * g.w.output + tw.out) * co_n;
        let wo = (th.k * s.kernel[1] + tw.k) * ci_n * co_n;
        for ci in 0..ci_n {
            for co in 0..co_n {
                dx[xo + ci] = dx[xo + ci] + dy[yo + co] * kernel[wo + ci * co_n + co];
            }
        }
    });
    Ok(dx)
}

/// Gradient with respect to the kernel, shape `(kh, kw, in, out)`.
pub fn conv2d_grad_kernel<F: Real>(x: &[F], dy: &[F], s: &Conv2dSpec) -> Result<Vec<F>> {
    let g = s.window()?;
    check_len("conv2d_grad_kernel", "input", x.len(), &s.input_shape())?;
    check_len("conv2d_grad_kernel", "output gradient", dy.len(), &s.output_shape()?)?;
    let (ci_n, co_n) = (s.in_channels, s.out_channels);
    let mut dw = vec![F::zero(); s.kernel_shape().iter().product()];
    g.for_each_tap(s.batch, |n, th, tw| {
        let xo = ((n * s.in_h + th.input) * s.in_w + tw.input) * ci_n;
        let yo = ((n * g.h.output + th.out) * g.w.output + tw.out) * co_n;
        let wo = (th.k * s.kernel[1] + tw.k) * ci_n * co_n;
        for ci in 0..ci_n {
            for co in 0..co_n {
                dw[wo + ci * co_n + co] = dw[wo + ci * co_n + co] + x[xo + ci] * dy[yo + co];
            }
        }
    });
    Ok(dw)
}

/// Gradient with respect to the bias, shape `(out,)`: `dy` summed over N, H, W.
// Only the finite-difference tests in reference/tests.rs use this oracle.
#[cfg_attr(not(test), allow(dead_code))]
pub fn conv2d_grad_bias<F: Real>(dy: &[F], s: &Conv2dSpec) -> Result<Vec<F>> {
    check_len("conv2d_grad_bias", "output gradient", dy.len(), &s.output_shape()?)?;
    Ok(sum_channels(dy, s.out_channels))
}

/// Sum an NHWC tensor over everything but the last axis.
pub(crate) fn sum_channels<F: Real>(t: &[F], channels: usize) -> Vec<F> {
    let mut out = vec![F::zero(); channels];
    for (i, &v) in t.iter().enumerate() {
        out[i % channels] = out[i % channels] + v;
    }
    out
}
