//! Batched matmul on the blocked GEMM: each batch item is one product, transposes are
//! strides. A batch of A against one shared B (a Dense layer on a sequence) is a single
//! taller product.

use super::gemm::{gemm, Strided};
use crate::ops::matmul::MatmulSpec;

/// `C[b] = op(A[b])·op(B[b])`, shape `(batch, m, n)`.
pub fn matmul(a: &[f32], b: &[f32], s: &MatmulSpec) -> Vec<f32> {
    let mut c = vec![0.0f32; s.batch * s.m * s.n];
    let op_b = |data| if s.trans_b { Strided::transposed(data, s.k) } else { Strided::rows(data, s.n) };
    if s.b_batch_stride == 0 && s.a_batch_stride == s.m * s.k && !s.trans_a {
        gemm(s.batch * s.m, s.n, s.k, Strided::rows(a, s.k), op_b(b), &mut c, s.n, false);
        return c;
    }
    for bt in 0..s.batch {
        let ad = &a[bt * s.a_batch_stride..];
        let op_a = if s.trans_a { Strided::transposed(ad, s.m) } else { Strided::rows(ad, s.k) };
        let cb = &mut c[bt * s.m * s.n..];
        gemm(s.m, s.n, s.k, op_a, op_b(&b[bt * s.b_batch_stride..]), cb, s.n, false);
    }
    c
}
