//! Batched matrix multiply with optional transposes, as the WGSL kernel computes it.

use super::Real;

/// Dimensions and layout of one batched product `C[b] = op(A[b]) op(B[b])`.
#[derive(Clone, Copy, Debug)]
pub struct MatmulSpec {
    pub batch: usize,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub trans_a: bool,
    pub trans_b: bool,
    /// Elements between consecutive batches of A/B (0 broadcasts one matrix).
    pub a_batch_stride: usize,
    pub b_batch_stride: usize,
}

pub fn matmul<F: Real>(a: &[F], b: &[F], s: &MatmulSpec) -> Vec<F> {
    let mut c = vec![F::zero(); s.batch * s.m * s.n];
    for bt in 0..s.batch {
        let ab = bt * s.a_batch_stride;
        let bb = bt * s.b_batch_stride;
        let cb = bt * s.m * s.n;
        for i in 0..s.m {
            for p in 0..s.k {
                let av = if s.trans_a { a[ab + p * s.m + i] } else { a[ab + i * s.k + p] };
                for j in 0..s.n {
                    let bv = if s.trans_b { b[bb + j * s.k + p] } else { b[bb + p * s.n + j] };
                    c[cb + i * s.n + j] = c[cb + i * s.n + j] + av * bv;
                }
            }
        }
    }
    c
}
