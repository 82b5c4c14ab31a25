//! Resizing NHWC images through per-axis taps (ops/resize/spec.rs): the forward pass and
//! its input gradient, the latter as a plain scatter (the GPU gathers instead).

use super::{c, check_len, Real};
use crate::error::Result;
use crate::ops::resize::spec::{ResizeSpec, Tap};

/// Interpolate along one axis as TensorFlow does, `a + (b - a)·t`; a copy when both taps
/// are the same pixel.
fn lerp<F: Real>(tap: &Tap, a: F, b: F) -> F {
    if tap.lower == tap.upper {
        a
    } else {
        a + (b - a) * c::<F>(tap.lerp)
    }
}

pub fn resize<F: Real>(x: &[F], s: &ResizeSpec) -> Result<Vec<F>> {
    check_len("resize", "input", x.len(), &s.input_shape())?;
    let (rows, cols) = (s.rows(), s.columns());
    let ch = s.channels;
    let at = |n: usize, y: usize, xx: usize, k: usize| x[((n * s.in_h + y) * s.in_w + xx) * ch + k];
    let mut out = Vec::with_capacity(s.output_shape().iter().product());
    for n in 0..s.batch {
        for ty in &rows.taps {
            for tx in &cols.taps {
                for k in 0..ch {
                    let top = lerp(tx, at(n, ty.lower, tx.lower, k), at(n, ty.lower, tx.upper, k));
                    let bottom = lerp(tx, at(n, ty.upper, tx.lower, k), at(n, ty.upper, tx.upper, k));
                    out.push(lerp(ty, top, bottom));
                }
            }
        }
    }
    Ok(out)
}

/// Gradient with respect to the input: each output gradient spread over the pixels its
/// taps read, by the same weights.
pub fn resize_grad_input<F: Real>(dy: &[F], s: &ResizeSpec) -> Result<Vec<F>> {
    check_len("resize", "output gradient", dy.len(), &s.output_shape())?;
    let (rows, cols) = (s.rows(), s.columns());
    let ch = s.channels;
    let mut dx = vec![F::zero(); s.input_shape().iter().product()];
    let mut o = 0;
    for n in 0..s.batch {
        for ty in &rows.taps {
            for tx in &cols.taps {
                for k in 0..ch {
                    let g = dy[o];
                    o += 1;
                    let mut ys = vec![ty.lower];
                    if ty.upper != ty.lower {
                        ys.push(ty.upper);
                    }
                    let mut xs = vec![tx.lower];
                    if tx.upper != tx.lower {
                        xs.push(tx.upper);
                    }
                    for &y in &ys {
                        for &xx in &xs {
                            let w: F = c(ty.weight(y) * tx.weight(xx));
                            let j = ((n * s.in_h + y) * s.in_w + xx) * ch + k;
                            dx[j] = dx[j] + w * g;
                        }
                    }
                }
            }
        }
    }
    Ok(dx)
}
