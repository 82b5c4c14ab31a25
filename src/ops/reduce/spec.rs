//! Reduction vocabulary: what a reduction computes.
//! Both devices consume it; it depends on neither.

/// What a reduction computes over its axes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    /// `keras.ops.sum`.
    Sum = 0,
    /// `keras.ops.mean`.
    Mean = 1,
    /// `keras.ops.max`.
    Max = 2,
    /// `keras.ops.min`.
    Min = 3,
}

impl ReduceOp {
    /// The `keras.ops` name, used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Mean => "mean",
            ReduceOp::Max => "max",
            ReduceOp::Min => "min",
        }
    }
}
