//! Convolutions as GEMMs over im2col blocks. A [`ConvGeometry`] describes one forward
//! convolution (NHWC input, HWIO kernel); its three passes are
//!
//! ```text
//! forward       y[M × co]  = cols(x)[M × K] · w[K × co]          (+ bias)
//! input grad    dx         = col2im( dy[M × co] · wᵀ[co × K] )
//! kernel grad   dw[K × co] = cols(x)ᵀ[K × M] · dy[M × co]
//! ```
//! with M = batch·out_h·out_w output pixels and K = kh·kw·ci taps; row `r` of `cols(x)`
//! lists the input values output pixel `r` reads (zeros in the padding). The rows are
//! built a block at a time, so the scratch stays near [`BLOCK_FLOATS`] whatever the batch.
//! A transposed convolution is this same geometry read backwards (its forward pass is
//! the input gradient), so `conv_transpose2d` runs on these three as well.

use std::cell::RefCell;

use super::gemm::{gemm, Strided};
use crate::error::Result;
use crate::ops::conv2d::Conv2dSpec;
use crate::ops::conv_transpose2d::ConvTranspose2dSpec;
use crate::ops::geometry::{AxisGeometry, Window2d};

/// Target size of one block of im2col rows, in floats (4 MiB).
const BLOCK_FLOATS: usize = 1 << 20;

thread_local! {
    // The im2col block, reused across calls: a fresh one per call was zeroed by the
    // allocator only to be overwritten whole (every pass below writes each value it reads).
    static COLS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on a scratch block of `len` floats whose contents are left over from earlier
/// calls: `f` must write every value before reading it.
fn with_cols<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    COLS.with(|cols| {
        let mut cols = cols.borrow_mut();
        if cols.len() < len {
            cols.resize(len, 0.0);
        }
        f(&mut cols[..len])
    })
}

/// One forward convolution: `x` is `(batch, g.h.input, g.w.input, ci)`, the kernel
/// `(g.h.kernel, g.w.kernel, ci, co)`, `y` is `(batch, g.h.output, g.w.output, co)`.
#[derive(Clone, Copy, Debug)]
pub struct ConvGeometry {
    pub batch: usize,
    pub ci: usize,
    pub co: usize,
    pub g: Window2d,
}

/// For each output position and kernel tap along one axis, the input position it
/// reads, or None in the padding: `[out * kernel + k]`.
fn axis_taps(a: &AxisGeometry) -> Vec<Option<usize>> {
    (0..a.output).flat_map(|o| (0..a.kernel).map(move |k| a.input_of(o, k))).collect()
}

/// The input positions each output position's kernel taps read, per axis (see
/// [`axis_taps`]), and per output column the first input column when its kw taps are
/// consecutive and in bounds.
struct Taps {
    h: Vec<Option<usize>>,
    w: Vec<Option<usize>>,
    w_run: Vec<Option<usize>>,
}

impl ConvGeometry {
    fn rows(&self) -> usize {
        self.batch * self.g.h.output * self.g.w.output
    }

    fn taps(&self) -> usize {
        self.g.h.kernel * self.g.w.kernel * self.ci
    }

    /// A 1×1, stride-1, unpadded convolution: `cols(x)` is `x` itself.
    fn is_pointwise(&self) -> bool {
        let plain = |a: &AxisGeometry| a.kernel == 1 && a.stride == 1 && a.pad_before == 0 && a.output == a.input;
        plain(&self.g.h) && plain(&self.g.w)
    }

    /// Rows of `cols(x)` per block: a multiple of the GEMM's row tile.
    fn block_rows(&self) -> usize {
        (BLOCK_FLOATS / self.taps().max(1)).max(64).min(self.rows().max(1)).next_multiple_of(super::gemm::MR)
    }

    /// `(n, oy, ox)` of output pixels `r0..r0 + rows`, counted up pixel by pixel rather
    /// than divided out of the row index (three divisions per row, for rows as short as a
    /// single-channel window's nine taps).
    fn pixels(&self, r0: usize, rows: usize) -> impl Iterator<Item = (usize, usize, usize)> {
        let (oh, ow) = (self.g.h.output.max(1), self.g.w.output.max(1));
        let mut at = (r0 / (oh * ow), r0 / ow % oh, r0 % ow);
        (0..rows).map(move |_| {
            let here = at;
            at.2 += 1;
            if at.2 == ow {
                at.2 = 0;
                at.1 += 1;
                if at.1 == oh {
                    at.1 = 0;
                    at.0 += 1;
                }
            }
            here
        })
    }

    /// Output pixels `r0..r0 + rows` as im2col rows, into `cols` (rows × K).
    fn im2col(&self, x: &[f32], taps: &Taps, r0: usize, rows: usize, cols: &mut [f32]) {
        let (h, w) = (&self.g.h, &self.g.w);
        let (kh, kw, ci) = (h.kernel, w.kernel, self.ci);
        for ((n, oy, ox), row) in self.pixels(r0, rows).zip(cols.chunks_exact_mut(self.taps())) {
            for ky in 0..kh {
                let row_ky = &mut row[ky * kw * ci..(ky + 1) * kw * ci];
                let Some(iy) = taps.h[oy * kh + ky] else {
                    row_ky.fill(0.0);
                    continue;
                };
                let line = (n * h.input + iy) * w.input;
                // A window row wholly inside the image is one contiguous stretch of x.
                if let Some(ix) = taps.w_run[ox] {
                    row_ky.copy_from_slice(&x[(line + ix) * ci..][..kw * ci]);
                    continue;
                }
                for (kx, seg) in row_ky.chunks_exact_mut(ci).enumerate() {
                    match taps.w[ox * kw + kx] {
                        Some(ix) => seg.copy_from_slice(&x[(line + ix) * ci..][..ci]),
                        None => seg.fill(0.0),
                    }
                }
            }
        }
    }

    /// Adjoint of [`im2col`](Self::im2col): add each row's values back onto the input
    /// pixels they were read from.
    fn col2im_add(&self, cols: &[f32], taps: &Taps, r0: usize, rows: usize, dx: &mut [f32]) {
        let (h, w) = (&self.g.h, &self.g.w);
        let (kh, kw, ci) = (h.kernel, w.kernel, self.ci);
        for ((n, oy, ox), row) in self.pixels(r0, rows).zip(cols.chunks_exact(self.taps())) {
            for ky in 0..kh {
                let Some(iy) = taps.h[oy * kh + ky] else { continue };
                for (kx, seg) in row[ky * kw * ci..(ky + 1) * kw * ci].chunks_exact(ci).enumerate() {
                    if let Some(ix) = taps.w[ox * kw + kx] {
                        let out = &mut dx[((n * h.input + iy) * w.input + ix) * ci..][..ci];
                        for (o, v) in out.iter_mut().zip(seg) {
                            *o += v;
                        }
                    }
                }
            }
        }
    }

    fn axis_taps(&self) -> Taps {
        let (h, w) = (axis_taps(&self.g.h), axis_taps(&self.g.w));
        let kw = self.g.w.kernel;
        let w_run = w
            .chunks_exact(kw.max(1))
            .map(|t| match t[0] {
                Some(ix0) if t.iter().enumerate().all(|(k, &ix)| ix == Some(ix0 + k)) => Some(ix0),
                _ => None,
            })
            .collect();
        Taps { h, w, w_run }
    }

    /// `y = conv(x, w) + bias`, shape `(batch, out_h, out_w, co)`.
    pub fn forward(&self, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
        let (m, k, co) = (self.rows(), self.taps(), self.co);
        // The GEMM adds onto y: it starts as the bias (or zeros), written once.
        let mut y = Vec::with_capacity(m * co);
        match bias {
            Some(b) => (0..m).for_each(|_| y.extend_from_slice(b)),
            None => y.resize(m * co, 0.0),
        }
        let wk = Strided::rows(w, co);
        if self.is_pointwise() {
            gemm(m, co, k, Strided::rows(x, k), wk, &mut y, co, true);
            return y;
        }
        let taps = self.axis_taps();
        let block = self.block_rows();
        with_cols(block.min(m) * k, |cols| {
            for r0 in (0..m).step_by(block) {
                let rows = block.min(m - r0);
                self.im2col(x, &taps, r0, rows, &mut cols[..rows * k]);
                gemm(rows, co, k, Strided::rows(cols, k), wk, &mut y[r0 * co..], co, true);
            }
        });
        y
    }

    /// Gradient with respect to the input, shape `(batch, in_h, in_w, ci)`.
    pub fn grad_input(&self, dy: &[f32], w: &[f32]) -> Vec<f32> {
        let (m, k, co) = (self.rows(), self.taps(), self.co);
        let mut dx = vec![0.0f32; self.batch * self.g.h.input * self.g.w.input * self.ci];
        let wt = Strided::transposed(w, co);
        if self.is_pointwise() {
            gemm(m, k, co, Strided::rows(dy, co), wt, &mut dx, k, false);
            return dx;
        }
        let taps = self.axis_taps();
        let block = self.block_rows();
        with_cols(block.min(m) * k, |cols| {
            for r0 in (0..m).step_by(block) {
                let rows = block.min(m - r0);
                gemm(rows, k, co, Strided::rows(&dy[r0 * co..], co), wt, cols, k, false);
                self.col2im_add(&cols[..rows * k], &taps, r0, rows, &mut dx);
            }
        });
        dx
    }

    /// Gradient with respect to the kernel, shape `(kh, kw, ci, co)`.
    pub fn grad_kernel(&self, x: &[f32], dy: &[f32]) -> Vec<f32> {
        let (m, k, co) = (self.rows(), self.taps(), self.co);
        let mut dw = vec![0.0f32; k * co];
        if self.is_pointwise() {
            gemm(k, co, m, Strided::transposed(x, k), Strided::rows(dy, co), &mut dw, co, false);
            return dw;
        }
        let taps = self.axis_taps();
        let block = self.block_rows();
        with_cols(block.min(m) * k, |cols| {
            for r0 in (0..m).step_by(block) {
                let rows = block.min(m - r0);
                self.im2col(x, &taps, r0, rows, &mut cols[..rows * k]);
                let dyb = Strided::rows(&dy[r0 * co..], co);
                gemm(k, co, rows, Strided::transposed(cols, k), dyb, &mut dw, co, true);
            }
        });
        dw
    }
}

impl ConvGeometry {
    /// The convolution a `conv2d` spec describes.
    pub fn of_conv2d(s: &Conv2dSpec) -> Result<Self> {
        Ok(ConvGeometry { batch: s.batch, ci: s.in_channels, co: s.out_channels, g: s.window()? })
    }

    /// The forward convolution a `conv_transpose2d` spec transposes: it maps the
    /// transposed op's output (`out_channels`) back to its input (`in_channels`), and the
    /// transposed kernel `(kh, kw, out, in)` is its HWIO kernel.
    pub fn of_conv_transpose2d(s: &ConvTranspose2dSpec) -> Result<Self> {
        Ok(ConvGeometry { batch: s.batch, ci: s.out_channels, co: s.in_channels, g: s.window()? })
    }
}

/// Add a per-channel bias to every pixel of an NHWC tensor.
pub fn add_bias(y: &mut [f32], bias: &[f32]) {
    for px in y.chunks_exact_mut(bias.len()) {
        for (v, b) in px.iter_mut().zip(bias) {
            *v += b;
        }
    }
}
