//! 2-D max and average pooling on NHWC tensors, forward and input gradient: the same
//! windows, visiting order and tie rule as `reference::pool2d` (so the results agree to
//! the bit), with the channel loop innermost over contiguous memory and no allocation
//! per window.

use crate::error::Result;
use crate::ops::geometry::Window2d;
use crate::ops::pool2d::spec::{Pool2dSpec, PoolKind};

/// Input offsets (channel 0) of one window's in-bounds pixels, in row-major window
/// order, written into `pixels`.
fn window(s: &Pool2dSpec, g: &Window2d, n: usize, oy: usize, ox: usize, pixels: &mut Vec<usize>) {
    pixels.clear();
    for ky in 0..s.pool[0] {
        let Some(iy) = g.h.input_of(oy, ky) else { continue };
        for kx in 0..s.pool[1] {
            if let Some(ix) = g.w.input_of(ox, kx) {
                pixels.push(((n * s.in_h + iy) * s.in_w + ix) * s.channels);
            }
        }
    }
}

/// Call `f(output_offset, window_pixels)` for every output pixel, in output order.
fn for_each_window(s: &Pool2dSpec, g: &Window2d, mut f: impl FnMut(usize, &[usize])) {
    let mut pixels = Vec::with_capacity(s.pool[0] * s.pool[1]);
    for n in 0..s.batch {
        for oy in 0..g.h.output {
            for ox in 0..g.w.output {
                window(s, g, n, oy, ox, &mut pixels);
                f(((n * g.h.output + oy) * g.w.output + ox) * s.channels, &pixels);
            }
        }
    }
}

/// Forward pooling, shape [`Pool2dSpec::output_shape`].
pub fn forward(x: &[f32], s: &Pool2dSpec) -> Result<Vec<f32>> {
    let g = s.window()?;
    let ch = s.channels;
    let mut y = vec![0.0f32; s.batch * g.h.output * g.w.output * ch];
    for_each_window(s, &g, |yo, pixels| {
        let out = &mut y[yo..yo + ch];
        out.copy_from_slice(&x[pixels[0]..pixels[0] + ch]);
        for &p in &pixels[1..] {
            let row = &x[p..p + ch];
            match s.kind {
                // `>` keeps the earlier value on ties and NaN, as the reference's scan does.
                PoolKind::Max => out.iter_mut().zip(row).for_each(|(o, &v)| *o = if v > *o { v } else { *o }),
                PoolKind::Average => out.iter_mut().zip(row).for_each(|(o, &v)| *o += v),
            }
        }
        if s.kind == PoolKind::Average {
            let count = pixels.len() as f32;
            out.iter_mut().for_each(|o| *o /= count);
        }
    });
    Ok(y)
}

/// Gradient with respect to the input, shape `(N, H, W, C)`; `x` is the forward input.
/// Max pooling sends each output's gradient to the first maximum of its window.
pub fn grad_input(x: &[f32], dy: &[f32], s: &Pool2dSpec) -> Result<Vec<f32>> {
    let g = s.window()?;
    let ch = s.channels;
    let mut dx = vec![0.0f32; x.len()];
    // Per channel: the window's maximum, and all ones until its gradient has been routed.
    let mut best = vec![0.0f32; ch];
    let mut pending = vec![0u32; ch];
    for_each_window(s, &g, |yo, pixels| {
        let dyw = &dy[yo..yo + ch];
        match s.kind {
            PoolKind::Max => {
                // The maximum as the forward pass finds it, then a second scan hands each
                // channel's gradient to the first pixel equal to it, with bit masks
                // rather than branches or bool selects, the form LLVM vectorizes.
                best.copy_from_slice(&x[pixels[0]..pixels[0] + ch]);
                for &p in &pixels[1..] {
                    best.iter_mut().zip(&x[p..p + ch]).for_each(|(b, &v)| *b = if v > *b { v } else { *b });
                }
                pending.fill(u32::MAX);
                for &p in pixels {
                    let (out, xs) = (&mut dx[p..p + ch], &x[p..p + ch]);
                    for i in 0..ch {
                        let hit = ((xs[i] == best[i]) as u32).wrapping_neg() & pending[i];
                        // Adding +0 where it misses leaves the sum as it was.
                        out[i] += f32::from_bits(dyw[i].to_bits() & hit);
                        pending[i] &= !hit;
                    }
                }
                // A NaN first pixel is the maximum no other pixel equals: as in the
                // reference, its gradient goes to that first pixel.
                for (c, (&left, &d)) in pending.iter().zip(dyw).enumerate() {
                    if left != 0 {
                        dx[pixels[0] + c] += d;
                    }
                }
            }
            PoolKind::Average => {
                let count = pixels.len() as f32;
                for &p in pixels {
                    for (o, &d) in dx[p..p + ch].iter_mut().zip(dyw) {
                        *o += d / count;
                    }
                }
            }
        }
    });
    Ok(dx)
}
