//! Single-precision matrix product `C (+)= A·B` on strided operands, blocked for the
//! caches the way BLIS does it: a KC×NC panel of B and an MC×KC block of A are copied
//! ("packed") into contiguous micro-panels, and a register-tiled MR×NR micro-kernel
//! ([`micro`]) sweeps them, so the innermost loop reads memory in order and keeps its
//! MR×NR accumulators in vector registers. Edges are packed with zeros and written
//! back partially, so any m, n, k works.

mod micro;

use std::cell::RefCell;

pub use micro::{MR, NR};

/// Largest depth of one packed panel: MR×KC of A and KC×NR of B (15 KiB) stay in L1.
/// Depths are split into equal panels (a 288-deep 3×3×32 convolution is one panel, not
/// 256 + 32), so no panel is left too shallow to pay for its write-back.
const KC: usize = 320;
/// Rows of A per block (160 KiB at KC): sized for L2.
const MC: usize = 128;
/// Columns of B per packed panel (1.25 MiB at KC): sized for L3.
const NC: usize = 1024;

/// A read-only matrix view: element `(i, j)` is `data[i * rs + j * cs]`, so one type
/// covers row-major, column-major (a transpose) and sub-blocks.
#[derive(Clone, Copy, Debug)]
pub struct Strided<'a> {
    pub data: &'a [f32],
    pub rs: usize,
    pub cs: usize,
}

impl<'a> Strided<'a> {
    /// A row-major matrix with `cols` columns.
    pub fn rows(data: &'a [f32], cols: usize) -> Self {
        Strided { data, rs: cols, cs: 1 }
    }

    /// The transpose of a row-major matrix with `cols` columns.
    pub fn transposed(data: &'a [f32], cols: usize) -> Self {
        Strided { data, rs: 1, cs: cols }
    }

    #[inline(always)]
    fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.rs + j * self.cs]
    }
}

thread_local! {
    // Packing buffers, reused across calls (convolutions call once per block of rows).
    static PACKED: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// `c[i * ldc + j] = Σ_p a(i, p)·b(p, j)` for `i < m`, `j < n`, `p < k`; with
/// `accumulate` the product is added to what `c` holds instead. A row-major A
/// (`a.cs == 1`) is read in place; any other layout is packed first.
pub fn gemm(m: usize, n: usize, k: usize, a: Strided, b: Strided, c: &mut [f32], ldc: usize, accumulate: bool) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(c.len() >= (m - 1) * ldc + n, "gemm: C too short");
    if !accumulate {
        for row in c.chunks_mut(ldc).take(m) {
            row[..n].fill(0.0);
        }
    }
    if k == 0 {
        return;
    }
    // The micro-kernel reads A and B through raw pointers: every element it may touch
    // must lie inside the slices.
    assert!(a.data.len() > (m - 1) * a.rs + (k - 1) * a.cs, "gemm: A too short");
    assert!(b.data.len() > (k - 1) * b.rs + (n - 1) * b.cs, "gemm: B too short");
    let panels = k.div_ceil(KC);
    let kc_max = k.div_ceil(panels);
    let in_place = a.cs == 1;
    PACKED.with(|packed| {
        let (pa, pb) = &mut *packed.borrow_mut();
        if !in_place {
            // Whole MR-row panels: the last one of a block may run past MC rows.
            pa.resize(MC.min(m).next_multiple_of(MR) * kc_max, 0.0);
        }
        pb.resize(NC.min(n.next_multiple_of(NR)) * kc_max, 0.0);
        for jc in (0..n).step_by(NC) {
            let nc = NC.min(n - jc);
            for pc in (0..k).step_by(kc_max) {
                let kc = kc_max.min(k - pc);
                pack_b(pb, &b, pc, kc, jc, nc);
                for ic in (0..m).step_by(MC) {
                    let mc = MC.min(m - ic);
                    let rows = if in_place {
                        Rows::InPlace { a: &a, ic, pc }
                    } else {
                        pack_a(pa, &a, ic, mc, pc, kc);
                        Rows::Packed(pa)
                    };
                    block(rows, pb, mc, nc, kc, &mut c[ic * ldc + jc..], ldc);
                }
            }
        }
    });
}

/// Where a block's rows of A come from.
enum Rows<'a> {
    /// MR-row micro-panels from [`pack_a`].
    Packed(&'a [f32]),
    /// Row-major A itself, from row `ic`, column `pc`.
    InPlace { a: &'a Strided<'a>, ic: usize, pc: usize },
}

/// One block of A (mc rows) against one packed panel of B, into C at its corner.
fn block(rows: Rows, pb: &[f32], mc: usize, nc: usize, kc: usize, c: &mut [f32], ldc: usize) {
    assert!(pb.len() >= nc.next_multiple_of(NR) * kc && c.len() >= (mc - 1) * ldc + nc, "gemm: block bounds");
    for jr in (0..nc).step_by(NR) {
        let nr = NR.min(nc - jr);
        let bp = pb[jr * kc..].as_ptr();
        for ir in (0..mc).step_by(MR) {
            let mr = MR.min(mc - ir);
            let (starts, step) = match rows {
                Rows::Packed(pa) => {
                    assert!(pa.len() >= (ir + MR) * kc, "gemm: packed A bounds");
                    let panel = pa[ir * kc..].as_ptr();
                    // SAFETY: i < MR stays inside the panel just checked.
                    (std::array::from_fn(|i| unsafe { panel.add(i) }), MR)
                }
                Rows::InPlace { a, ic, pc } => {
                    // Rows past mr repeat the tile's first row: read, never written.
                    (std::array::from_fn(|i| a.data[(ic + ir + if i < mr { i } else { 0 }) * a.rs + pc..].as_ptr()), 1)
                }
            };
            // SAFETY: gemm checked that A holds rows ic + ir + i < m to column pc + kc ≤ k
            // (or the packed panel does), block that pb holds NR·kc floats from jr·kc and
            // that C holds the mr × nr corner at ir·ldc + jr.
            unsafe { micro::tile(starts, step, bp, kc, c[ir * ldc + jr..].as_mut_ptr(), ldc, mr, nr) };
        }
    }
}

/// Rows `ic..ic + mc`, columns `pc..pc + kc` of A as MR-row micro-panels: panel `t`
/// holds, for each p, the MR values `a(ic + t·MR + i, pc + p)` (zeros past row mc).
fn pack_a(dst: &mut [f32], a: &Strided, ic: usize, mc: usize, pc: usize, kc: usize) {
    for (t, panel) in dst.chunks_exact_mut(MR * kc).take(mc.div_ceil(MR)).enumerate() {
        let row0 = t * MR;
        let rows = MR.min(mc - row0);
        if a.cs == 1 && rows == MR {
            let base: [usize; MR] = std::array::from_fn(|i| (ic + row0 + i) * a.rs + pc);
            for (p, out) in panel.chunks_exact_mut(MR).enumerate() {
                for (o, b) in out.iter_mut().zip(base) {
                    *o = a.data[b + p];
                }
            }
        } else {
            for (p, out) in panel.chunks_exact_mut(MR).enumerate() {
                for (i, o) in out.iter_mut().enumerate() {
                    *o = if i < rows { a.at(ic + row0 + i, pc + p) } else { 0.0 };
                }
            }
        }
    }
}

/// Rows `pc..pc + kc`, columns `jc..jc + nc` of B as NR-column micro-panels: panel `s`
/// holds, for each p, the NR values `b(pc + p, jc + s·NR + j)` (zeros past column nc).
fn pack_b(dst: &mut [f32], b: &Strided, pc: usize, kc: usize, jc: usize, nc: usize) {
    for (s, panel) in dst.chunks_exact_mut(NR * kc).take(nc.div_ceil(NR)).enumerate() {
        let col0 = jc + s * NR;
        let cols = NR.min(nc - s * NR);
        for (p, out) in panel.chunks_exact_mut(NR).enumerate() {
            let row = (pc + p) * b.rs;
            if b.cs == 1 && cols == NR {
                out.copy_from_slice(&b.data[row + col0..][..NR]);
            } else {
                for (j, o) in out.iter_mut().enumerate() {
                    *o = if j < cols { b.data[row + (col0 + j) * b.cs] } else { 0.0 };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: &Strided, b: &Strided) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a.at(i, p) as f64 * b.at(p, j) as f64).sum();
            }
        }
        c
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect()
    }

    #[test]
    fn matches_naive_product_across_block_edges_and_layouts() {
        // Sizes straddle MR, NR, KC, MC and NC; every layout of A and B.
        let sizes = [(1, 1, 1), (3, 5, 7), (4, 8, 256), (5, 9, 257), (129, 17, 300), (33, 1030, 20), (130, 8, 513)];
        for (m, n, k) in sizes {
            let (ad, bd) = (values(m * k, m as u32), values(k * n, n as u32 + 7));
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = if ta { Strided::transposed(&ad, m) } else { Strided::rows(&ad, k) };
                let b = if tb { Strided::transposed(&bd, k) } else { Strided::rows(&bd, n) };
                let want = naive(m, n, k, &a, &b);
                let ldc = n + 3;
                let mut c = vec![1.0f32; m * ldc];
                gemm(m, n, k, a, b, &mut c, ldc, true);
                for i in 0..m {
                    for j in 0..n {
                        let (got, w) = (c[i * ldc + j] as f64, 1.0 + want[i * n + j]);
                        assert!((got - w).abs() <= 1e-4 * (1.0 + w.abs()), "{m}x{n}x{k} {ta} {tb} ({i},{j}): {got} vs {w}");
                    }
                    assert!(c[i * ldc + n..(i + 1) * ldc].iter().all(|&v| v == 1.0), "wrote past column n");
                }
                gemm(m, n, k, a, b, &mut c, ldc, false);
                assert!((c[0] as f64 - want[0]).abs() <= 1e-4 * (1.0 + want[0].abs()), "overwrite");
            }
        }
    }
}
