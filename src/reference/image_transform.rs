//! Per-image projective resampling (TensorFlow's ImageProjectiveTransformV3), see
//! shaders/image_transform.wgsl for the formula.

use super::{c, Real};
use crate::error::Result;
use crate::ops::image_transform::spec::{FillMode, Interpolation, TransformSpec};

fn map_coordinate<F: Real>(v: F, len: usize, mode: FillMode) -> F {
    let n: F = c(len as f64);
    let one = F::one();
    let mut v = v;
    match mode {
        FillMode::Reflect => {
            if v < F::zero() {
                if len <= 1 {
                    v = F::zero();
                } else {
                    let sz2 = n + n;
                    if v < -sz2 {
                        v = sz2 * (-v / sz2).trunc() + v;
                    }
                    v = if v < -n { v + sz2 } else { -v - one };
                }
            } else if v > n - one {
                if len <= 1 {
                    v = F::zero();
                } else {
                    let sz2 = n + n;
                    v = v - sz2 * (v / sz2).trunc();
                    if v >= n {
                        v = sz2 - v - one;
                    }
                }
            }
            v.max(F::zero()).min(n - one)
        }
        FillMode::Wrap => {
            if v < F::zero() {
                if len <= 1 {
                    v = F::zero();
                } else {
                    let sz = n - one;
                    v = v + n * ((-v / sz).trunc() + one);
                }
            } else if v > n - one {
                if len <= 1 {
                    v = F::zero();
                } else {
                    let sz = n - one;
                    v = v - n * (v / sz).trunc();
                }
            }
            v.max(F::zero()).min(n - one)
        }
        FillMode::Nearest => v.max(F::zero()).min(n - one),
        FillMode::Constant => v,
    }
}

pub fn transform<F: Real>(images: &[F], transforms: &[F], s: &TransformSpec) -> Result<Vec<F>> {
    let (h, w, ch) = (s.height, s.width, s.channels);
    let fill: F = c(s.fill_value);
    let read = |n: usize, y: F, x: F, k: usize| -> F {
        if y < F::zero() || x < F::zero() || y > c::<F>(h as f64) - F::one() || x > c::<F>(w as f64) - F::one() {
            return fill;
        }
        let (yi, xi) = (y.to_usize().unwrap_or(0), x.to_usize().unwrap_or(0));
        images[((n * h + yi) * w + xi) * ch + k]
    };
    let mut out = Vec::with_capacity(images.len());
    for n in 0..s.batch {
        let t = &transforms[n * 8..n * 8 + 8];
        for oy in 0..h {
            for ox in 0..w {
                let (fx, fy): (F, F) = (c(ox as f64), c(oy as f64));
                let k = t[6] * fx + t[7] * fy + F::one();
                for ci in 0..ch {
                    if k == F::zero() {
                        out.push(fill);
                        continue;
                    }
                    let x = map_coordinate((t[0] * fx + t[1] * fy + t[2]) / k, w, s.fill_mode);
                    let y = map_coordinate((t[3] * fx + t[4] * fy + t[5]) / k, h, s.fill_mode);
                    let v = match s.interpolation {
                        Interpolation::Nearest => read(n, y.round(), x.round(), ci),
                        Interpolation::Bilinear => {
                            let (y0, x0) = (y.floor(), x.floor());
                            let (y1, x1) = (y0 + F::one(), x0 + F::one());
                            let top = (x1 - x) * read(n, y0, x0, ci) + (x - x0) * read(n, y0, x1, ci);
                            let bottom = (x1 - x) * read(n, y1, x0, ci) + (x - x0) * read(n, y1, x1, ci);
                            (y1 - y) * top + (y - y0) * bottom
                        }
                    };
                    out.push(v);
                }
            }
        }
    }
    Ok(out)
}
