//! Depthwise 2-D convolution (Keras `DepthwiseConv2D`): NHWC input, kernel
//! `(kh, kw, in, depth_multiplier)`, output channel `c·multiplier + m`, strides,
//! dilation, "valid"/"same" padding, optional bias; forward and the gradients with
//! respect to input, kernel and bias.
//!
//! ```text
//! y[n, oy, ox, c·M + m] = bias[c·M + m] + Σ_{ky, kx} x[n, iy, ix, c] · w[ky, kx, c, m]
//!     iy = oy·stride_h + ky·dilation_h - pad_top,  ix = ox·stride_w + kx·dilation_w - pad_left
//! ```
//! Unlike Keras's `Conv2D`, Keras's `DepthwiseConv2D` accepts strides > 1 together with
//! dilation > 1 (the TensorFlow backend decomposes it); the formula above covers it.

use super::conv2d::sum_channels;
use super::{check_len, Real};
use crate::error::Result;
use crate::ops::depthwise_conv2d::spec::DepthwiseConv2dSpec;


/// Forward depthwise convolution; returns `y` with shape
/// [`DepthwiseConv2dSpec::output_shape`].
pub fn depthwise_conv2d<F: Real>(x: &[F], kernel: &[F], bias: Option<&[F]>, s: &DepthwiseConv2dSpec) -> Result<Vec<F>> {
    let g = s.window()?;
    check_len("depthwise_conv2d", "input", x.len(), &s.input_shape())?;
    check_len("depthwise_conv2d", "kernel", kernel.len(), &s.kernel_shape())?;
    if let Some(b) = bias {
        check_len("depthwise_conv2d", "bias", b.len(), &[s.out_channels()])?;
    }
    let (c_n, m_n, co_n) = (s.in_channels, s.depth_multiplier, s.out_channels());
    let mut y = vec![F::zero(); s.batch * g.h.output * g.w.output * co_n];
    g.for_each_tap(s.batch, |n, th, tw| {
        let xo = ((n * s.in_h + th.input) * s.in_w + tw.input) * c_n;
        let yo = ((n * g.h.output + th.out) * g.w.output + tw.out) * co_n;
        let wo = (th.k * s.kernel[1] + tw.k) * co_n;
        for c in 0..c_n {
            for m in 0..m_n {
                let o = c * m_n + m;
                y[yo + o] = y[yo + o] + x[xo + c] * kernel[wo + o];
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
pub fn depthwise_conv2d_grad_input<F: Real>(dy: &[F], kernel: &[F], s: &DepthwiseConv2dSpec) -> Result<Vec<F>> {
    let g = s.window()?;
    check_len("depthwise_conv2d_grad_input", "output gradient", dy.len(), &s.output_shape()?)?;
    check_len("depthwise_conv2d_grad_input", "kernel", kernel.len(), &s.kernel_shape())?;
    let (c_n, m_n, co_n) = (s.in_channels, s.depth_multiplier, s.out_channels());
    let mut dx = vec![F::zero(); s.input_shape().iter().product()];
    g.for_each_tap(s.batch, |n, th, tw| {
        let xo = ((n * s.in_h + th.input) * s.in_w + tw.input) * c_n;
        let yo = ((n * g.h.output + th.out) * g.w.output + tw.out) * co_n;
        let wo = (th.k * s.kernel[1] + tw.k) * co_n;
        for c in 0..c_n {
            for m in 0..m_n {
                let o = c * m_n + m;
                dx[xo + c] = dx[xo + c] + dy[yo + o] * kernel[wo + o];
            }
        }
    });
    Ok(dx)
}

/// Gradient with respect to the kernel, shape `(kh, kw, in, depth_multiplier)`.
pub fn depthwise_conv2d_grad_kernel<F: Real>(x: &[F], dy: &[F], s: &DepthwiseConv2dSpec) -> Result<Vec<F>> {
    let g = s.window()?;
    check_len("depthwise_conv2d_grad_kernel", "input", x.len(), &s.input_shape())?;
    check_len("depthwise_conv2d_grad_kernel", "output gradient", dy.len(), &s.output_shape()?)?;
    let (c_n, m_n, co_n) = (s.in_channels, s.depth_multiplier, s.out_channels());
    let mut dw = vec![F::zero(); s.kernel_shape().iter().product()];
    g.for_each_tap(s.batch, |n, th, tw| {
        let xo = ((n * s.in_h + th.input) * s.in_w + tw.input) * c_n;
        let yo = ((n * g.h.output + th.out) * g.w.output + tw.out) * co_n;
        let wo = (th.k * s.kernel[1] + tw.k) * co_n;
        for c in 0..c_n {
            for m in 0..m_n {
                let o = c * m_n + m;
                dw[wo + o] = dw[wo + o] + x[xo + c] * dy[yo + o];
            }
        }
    });
    Ok(dw)
}

/// Gradient with respect to the bias, shape `(in · depth_multiplier,)`.
// Only the finite-difference tests in reference/tests.rs use this oracle.
#[cfg_attr(not(test), allow(dead_code))]
pub fn depthwise_conv2d_grad_bias<F: Real>(dy: &[F], s: &DepthwiseConv2dSpec) -> Result<Vec<F>> {
    check_len("depthwise_conv2d_grad_bias", "output gradient", dy.len(), &s.output_shape()?)?;
    Ok(sum_channels(dy, s.out_channels()))
}
