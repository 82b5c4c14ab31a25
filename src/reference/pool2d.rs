//! 2-D pooling (Keras `MaxPooling2D`, `AveragePooling2D`, `GlobalAveragePooling2D`) on
//! NHWC tensors, forward and input gradient.
//!
//! Windows follow TensorFlow's "valid"/"same" geometry (see `ops::geometry`) with
//! dilation 1; strides default to the pool size, as in Keras. Padded pixels take no
//! part:
//! * max pooling takes the maximum over the window's in-bounds pixels; its gradient goes
//!   entirely to the first maximum in row-major window order (top-to-bottom, then
//!   left-to-right), which is what TensorFlow's `MaxPoolGrad` does on ties (checked
//!   against Keras 3 / TensorFlow 2.21 on CPU, with and without oneDNN);
//! * average pooling divides by the number of in-bounds pixels of the window (TensorFlow
//!   SAME semantics, not by the full pool area), and spreads the gradient evenly over
//!   them.
//!
//! With TensorFlow's padding every window holds at least one in-bounds pixel.

use super::{c, check_len, Real};
use crate::error::Result;
use crate::ops::geometry::Window2d;
use crate::ops::pool2d::spec::{GlobalPool2dSpec, Pool2dSpec, PoolKind};


/// Flat input indices of the in-bounds pixels of one window (channel 0), in row-major
/// window order.
fn window_pixels(s: &Pool2dSpec, g: &Window2d, n: usize, oy: usize, ox: usize) -> Vec<usize> {
    let mut pixels = Vec::with_capacity(s.pool[0] * s.pool[1]);
    for ky in 0..s.pool[0] {
        for kx in 0..s.pool[1] {
            if let (Some(iy), Some(ix)) = (g.h.input_of(oy, ky), g.w.input_of(ox, kx)) {
                pixels.push(((n * s.in_h + iy) * s.in_w + ix) * s.channels);
            }
        }
    }
    pixels
}

/// Call `f(output_offset, window_pixels)` for every output pixel (channel 0).
fn for_each_window(s: &Pool2dSpec, g: &Window2d, mut f: impl FnMut(usize, &[usize])) {
    for n in 0..s.batch {
        for oy in 0..g.h.output {
            for ox in 0..g.w.output {
                let yo = ((n * g.h.output + oy) * g.w.output + ox) * s.channels;
                f(yo, &window_pixels(s, g, n, oy, ox));
            }
        }
    }
}

/// Index (into `pixels`) of the first maximum of channel `ch` over the window.
fn first_max<F: Real>(x: &[F], pixels: &[usize], ch: usize) -> usize {
    let mut best = 0;
    for (j, &p) in pixels.iter().enumerate().skip(1) {
        if x[p + ch] > x[pixels[best] + ch] {
            best = j;
        }
    }
    best
}

/// Forward pooling; returns `y` with shape [`Pool2dSpec::output_shape`].
pub fn pool2d<F: Real>(x: &[F], s: &Pool2dSpec) -> Result<Vec<F>> {
    let g = s.window()?;
    check_len("pool2d", "input", x.len(), &s.input_shape())?;
    let mut y = vec![F::zero(); s.batch * g.h.output * g.w.output * s.channels];
    for_each_window(s, &g, |yo, pixels| {
        for ch in 0..s.channels {
            y[yo + ch] = match s.kind {
                PoolKind::Max => x[pixels[first_max(x, pixels, ch)] + ch],
                PoolKind::Average => {
                    let sum = pixels.iter().fold(F::zero(), |acc, &p| acc + x[p + ch]);
                    sum / c(pixels.len() as f64)
                }
            };
        }
    });
    Ok(y)
}

/// Gradient with respect to the input, shape `(N, H, W, C)`; `x` is the forward input
/// (max pooling needs it to find the maxima; average pooling ignores its values).
pub fn pool2d_grad_input<F: Real>(x: &[F], dy: &[F], s: &Pool2dSpec) -> Result<Vec<F>> {
    let g = s.window()?;
    check_len("pool2d_grad_input", "input", x.len(), &s.input_shape())?;
    check_len("pool2d_grad_input", "output gradient", dy.len(), &s.output_shape()?)?;
    let mut dx = vec![F::zero(); x.len()];
    for_each_window(s, &g, |yo, pixels| {
        for ch in 0..s.channels {
            match s.kind {
                PoolKind::Max => {
                    let p = pixels[first_max(x, pixels, ch)] + ch;
                    dx[p] = dx[p] + dy[yo + ch];
                }
                PoolKind::Average => {
                    let share = dy[yo + ch] / c(pixels.len() as f64);
                    for &p in pixels {
                        dx[p + ch] = dx[p + ch] + share;
                    }
                }
            }
        }
    });
    Ok(dx)
}


/// Max pooling that also returns, per output, the flat input index of its window's first
/// maximum (the element its gradient goes to).
pub fn max_pool2d_argmax<F: Real>(x: &[F], s: &Pool2dSpec) -> Result<(Vec<F>, Vec<i32>)> {
    let g = s.window()?;
    check_len("max_pool2d_argmax", "input", x.len(), &s.input_shape())?;
    let n_out = s.batch * g.h.output * g.w.output * s.channels;
    let (mut y, mut arg) = (vec![F::zero(); n_out], vec![0i32; n_out]);
    for_each_window(s, &g, |yo, pixels| {
        for ch in 0..s.channels {
            let p = pixels[first_max(x, pixels, ch)] + ch;
            y[yo + ch] = x[p];
            arg[yo + ch] = p as i32;
        }
    });
    Ok((y, arg))
}

/// Max pooling's input gradient from the forward's `argmax`: each output gradient added
/// at the index it names, into an input of `input_len` elements.
pub fn max_pool2d_grad_from_argmax<F: Real>(argmax: &[i32], dy: &[F], input_len: usize) -> Result<Vec<F>> {
    check_len("max_pool2d_grad_from_argmax", "output gradient", dy.len(), &[argmax.len()])?;
    let mut dx = vec![F::zero(); input_len];
    for (&p, &g) in argmax.iter().zip(dy) {
        let p = usize::try_from(p).ok().filter(|&p| p < input_len);
        let Some(p) = p else { crate::bail!("max_pool2d_grad_from_argmax: index outside the {input_len} inputs") };
        dx[p] = dx[p] + g;
    }
    Ok(dx)
}


/// Mean over H and W; returns `(N, C)`.
// Only the finite-difference tests in reference/tests.rs use this oracle.
#[cfg_attr(not(test), allow(dead_code))]
pub fn global_average_pool2d<F: Real>(x: &[F], s: &GlobalPool2dSpec) -> Result<Vec<F>> {
    s.check("global_average_pool2d")?;
    check_len("global_average_pool2d", "input", x.len(), &s.input_shape())?;
    let area = s.in_h * s.in_w;
    let mut y = vec![F::zero(); s.batch * s.channels];
    for n in 0..s.batch {
        for p in 0..area {
            for ch in 0..s.channels {
                y[n * s.channels + ch] = y[n * s.channels + ch] + x[(n * area + p) * s.channels + ch];
            }
        }
    }
    for v in &mut y {
        *v = *v / c(area as f64);
    }
    Ok(y)
}

/// Gradient with respect to the input, `(N, H, W, C)`, from `dy` of shape `(N, C)`.
// Only the finite-difference tests in reference/tests.rs use this oracle.
#[cfg_attr(not(test), allow(dead_code))]
pub fn global_average_pool2d_grad_input<F: Real>(dy: &[F], s: &GlobalPool2dSpec) -> Result<Vec<F>> {
    s.check("global_average_pool2d_grad_input")?;
    check_len("global_average_pool2d_grad_input", "output gradient", dy.len(), &[s.batch, s.channels])?;
    let area = s.in_h * s.in_w;
    let mut dx = vec![F::zero(); s.batch * area * s.channels];
    for n in 0..s.batch {
        for p in 0..area {
            for ch in 0..s.channels {
                dx[(n * area + p) * s.channels + ch] = dy[n * s.channels + ch] / c(area as f64);
            }
        }
    }
    Ok(dx)
}
