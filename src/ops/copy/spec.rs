//! Copy vocabulary: how a strided gather reads its source.
//! Both devices consume it; it depends on neither.

/// How `gather` reads its source: see shaders/copy.wgsl.
#[derive(Clone, Debug)]
pub struct GatherSpec {
    pub(crate) out_dims: Vec<usize>,
    pub(crate) src_dims: Vec<usize>,
    pub(crate) src_strides: Vec<usize>,
    pub(crate) pad_lo: Vec<i64>,
    /// Source element read for the output's first element.
    pub base: usize,
}
