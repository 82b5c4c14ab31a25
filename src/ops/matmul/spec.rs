//! Matmul vocabulary: dimensions and layout of one batched product.
//! Both devices consume it; it depends on neither.

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
