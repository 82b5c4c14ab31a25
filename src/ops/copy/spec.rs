//! Copy vocabulary: how a strided gather reads its source.
//! Both devices consume it; it depends on neither.

/// How `gather` reads its source: see shaders/copy.wgsl.
#[derive(Clone, Debug)]
pub struct GatherSpec {
    pub out_dims: Vec<usize>,
    pub src_dims: Vec<usize>,
    pub src_strides: Vec<usize>,
    pub pad_lo: Vec<i64>,
    pub base: usize,
}
