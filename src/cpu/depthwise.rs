//! Depthwise convolution on f32: the reference's walk over the taps, with each tap's
//! work written as one pass over a pixel's contiguous channels (slices zipped, no
//! bounds checks in the loop), which LLVM turns into SIMD. There is no reduction over
//! channels to hand to a GEMM, so this is the fast form.

use crate::error::Result;
use crate::ops::depthwise_conv2d::DepthwiseConv2dSpec;

/// `acc[c·M + m] += a[c] · b[c·M + m]` over one pixel's channels (M the multiplier).
#[inline(always)]
fn spread(acc: &mut [f32], a: &[f32], b: &[f32], multiplier: usize) {
    if multiplier == 1 {
        for ((o, x), w) in acc.iter_mut().zip(a).zip(b) {
            *o += x * w;
        }
    } else {
        for ((o, x), w) in acc.chunks_exact_mut(multiplier).zip(a).zip(b.chunks_exact(multiplier)) {
            for (o, w) in o.iter_mut().zip(w) {
                *o += x * w;
            }
        }
    }
}

/// Offsets of one tap's input pixel, output pixel and kernel row.
fn walk(s: &DepthwiseConv2dSpec, mut f: impl FnMut(usize, usize, usize)) -> Result<()> {
    let g = s.window()?;
    let co = s.out_channels();
    g.for_each_tap(s.batch, |n, th, tw| {
        let xo = ((n * s.in_h + th.input) * s.in_w + tw.input) * s.in_channels;
        let yo = ((n * g.h.output + th.out) * g.w.output + tw.out) * co;
        let wo = (th.k * s.kernel[1] + tw.k) * co;
        f(xo, yo, wo)
    });
    Ok(())
}

/// Forward pass, shape `(N, out_h, out_w, in·multiplier)`.
pub fn forward(x: &[f32], w: &[f32], bias: Option<&[f32]>, s: &DepthwiseConv2dSpec) -> Result<Vec<f32>> {
    let (ci, co, m) = (s.in_channels, s.out_channels(), s.depth_multiplier);
    let mut y = vec![0.0f32; s.output_shape()?.iter().product()];
    if let Some(b) = bias {
        for px in y.chunks_exact_mut(co) {
            px.copy_from_slice(b);
        }
    }
    walk(s, |xo, yo, wo| spread(&mut y[yo..yo + co], &x[xo..xo + ci], &w[wo..wo + co], m))?;
    Ok(y)
}

/// Gradient with respect to the input, shape `(N, H, W, in)`.
pub fn grad_input(dy: &[f32], w: &[f32], s: &DepthwiseConv2dSpec) -> Result<Vec<f32>> {
    let (ci, co, m) = (s.in_channels, s.out_channels(), s.depth_multiplier);
    let mut dx = vec![0.0f32; s.input_shape().iter().product()];
    walk(s, |xo, yo, wo| {
        let (dxp, dyp, wp) = (&mut dx[xo..xo + ci], &dy[yo..yo + co], &w[wo..wo + co]);
        if m == 1 {
            for ((o, g), k) in dxp.iter_mut().zip(dyp).zip(wp) {
                *o += g * k;
            }
        } else {
            for ((o, g), k) in dxp.iter_mut().zip(dyp.chunks_exact(m)).zip(wp.chunks_exact(m)) {
                *o += g.iter().zip(k).map(|(g, k)| g * k).sum::<f32>();
            }
        }
    })?;
    Ok(dx)
}

/// Gradient with respect to the kernel, shape `(kh, kw, in, multiplier)`.
pub fn grad_kernel(x: &[f32], dy: &[f32], s: &DepthwiseConv2dSpec) -> Result<Vec<f32>> {
    let (ci, co, m) = (s.in_channels, s.out_channels(), s.depth_multiplier);
    let mut dw = vec![0.0f32; s.kernel_shape().iter().product()];
    walk(s, |xo, yo, wo| spread(&mut dw[wo..wo + co], &x[xo..xo + ci], &dy[yo..yo + co], m))?;
    Ok(dw)
}
