//! Matmul vocabulary: dimensions and layout of one batched product.
//! Both devices consume it; it depends on neither.

/// Dimensions and layout of one batched product `C[b] = op(A[b]) op(B[b])`.
#[derive(Clone, Copy, Debug)]
pub struct MatmulSpec {
    /// Number of products.
    pub batch: usize,
    /// Rows of C.
    pub m: usize,
    /// Columns of C.
    pub n: usize,
    /// The summed dimension.
    pub k: usize,
    pub(crate) trans_a: bool,
    pub(crate) trans_b: bool,
    /// Elements between consecutive batches of A/B (0 broadcasts one matrix).
    pub(crate) a_batch_stride: usize,
    pub(crate) b_batch_stride: usize,
}
