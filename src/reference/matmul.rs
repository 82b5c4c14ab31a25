//! Batched matrix multiply with optional transposes, as the WGSL kernel computes it.

use super::Real;
use crate::ops::matmul::spec::MatmulSpec;


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
