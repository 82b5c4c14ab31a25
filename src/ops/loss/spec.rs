//! Crossentropy vocabulary: the three Keras crossentropies and Keras's epsilon.
//! Both devices consume it; it depends on neither.

/// Keras `backend.epsilon()`.
pub const EPSILON: f64 = 1e-7;

/// The three Keras crossentropies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Crossentropy {
    /// Integer labels of shape `pred.shape[:-1]` (`sparse_categorical_crossentropy`).
    Sparse,
    /// One-hot or soft targets of pred's shape (`categorical_crossentropy`).
    Categorical,
    /// Per-element targets of pred's shape (`binary_crossentropy`).
    Binary,
}

impl Crossentropy {
    /// The Keras function name.
    pub fn name(self) -> &'static str {
        match self {
            Crossentropy::Sparse => "sparse_categorical_crossentropy",
            Crossentropy::Categorical => "categorical_crossentropy",
            Crossentropy::Binary => "binary_crossentropy",
        }
    }
}
