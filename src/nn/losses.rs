//! Keras losses by name, recorded on the tape. The kernels and their gradients live in
//! ops/loss.rs; this maps Keras's names and options onto them.

use crate::error::Result;
use crate::graph::Var;
use crate::ops::loss as op;
use crate::tensor::Tensor;
use crate::{bail, ensure};

/// A Keras loss `compile` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// `sparse_categorical_crossentropy`: integer class labels.
    SparseCategoricalCrossentropy {
        /// The predictions are logits (no softmax / sigmoid applied yet).
        from_logits: bool,
    },
    /// `categorical_crossentropy`: one-hot (or soft) targets.
    CategoricalCrossentropy {
        /// The predictions are logits (no softmax / sigmoid applied yet).
        from_logits: bool,
    },
    /// `binary_crossentropy`: a probability (or logit) per element.
    BinaryCrossentropy {
        /// The predictions are logits (no softmax / sigmoid applied yet).
        from_logits: bool,
    },
    /// Regression losses: the mean over every element of (pred - target)² or |pred - target|.
    MeanSquaredError,
    /// Mean of |pred - target|.
    MeanAbsoluteError,
}

/// What "accuracy" means for this loss, as Keras picks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accuracy {
    /// `sparse_categorical_accuracy`.
    Sparse,
    /// `categorical_accuracy`.
    Categorical,
    /// `binary_accuracy` (threshold 0.5).
    Binary,
}

impl Loss {
    /// Keras's function or class name ("mse", "BinaryCrossentropy", ...).
    pub fn parse(name: &str, from_logits: bool) -> Result<Loss> {
        Ok(match name {
            "sparse_categorical_crossentropy" | "SparseCategoricalCrossentropy" => {
                Loss::SparseCategoricalCrossentropy { from_logits }
            }
            "categorical_crossentropy" | "CategoricalCrossentropy" => Loss::CategoricalCrossentropy { from_logits },
            "binary_crossentropy" | "BinaryCrossentropy" => Loss::BinaryCrossentropy { from_logits },
            "mean_squared_error" | "mse" | "MeanSquaredError" => Loss::MeanSquaredError,
            "mean_absolute_error" | "mae" | "MeanAbsoluteError" => Loss::MeanAbsoluteError,
            other => bail!(
                "unknown loss '{other}': use sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy, mean_squared_error (mse) or mean_absolute_error (mae)"
            ),
        })
    }

    /// The Keras function name.
    pub fn name(self) -> &'static str {
        match self {
            Loss::SparseCategoricalCrossentropy { .. } => "sparse_categorical_crossentropy",
            Loss::CategoricalCrossentropy { .. } => "categorical_crossentropy",
            Loss::BinaryCrossentropy { .. } => "binary_crossentropy",
            Loss::MeanSquaredError => "mean_squared_error",
            Loss::MeanAbsoluteError => "mean_absolute_error",
        }
    }

    /// The "accuracy" Keras pairs with this loss; none for regression losses.
    pub fn accuracy(self) -> Option<Accuracy> {
        match self {
            Loss::SparseCategoricalCrossentropy { .. } => Some(Accuracy::Sparse),
            Loss::CategoricalCrossentropy { .. } => Some(Accuracy::Categorical),
            Loss::BinaryCrossentropy { .. } => Some(Accuracy::Binary),
            Loss::MeanSquaredError | Loss::MeanAbsoluteError => None,
        }
    }

    fn is_regression(self) -> bool {
        matches!(self, Loss::MeanSquaredError | Loss::MeanAbsoluteError)
    }

    /// The target as float32 in the prediction's shape: labels of shape (n,) against
    /// predictions (n, 1) are expanded, as Keras does.
    fn regression_target(self, pred: &Tensor, target: &Tensor) -> Result<Tensor> {
        let t = if target.dtype() == crate::tensor::DType::F32 { target.clone() } else { target.cast(crate::tensor::DType::F32)? };
        if t.shape() == pred.shape() {
            return Ok(t);
        }
        let expands = t.rank() + 1 == pred.rank() && pred.shape().last() == Some(&1) && t.shape() == &pred.shape()[..t.rank()];
        ensure!(expands, "{}: predictions {} and targets {} have different shapes", self.name(), pred.describe(), target.describe());
        t.reshape(&pred.shape().iter().map(|&d| d as isize).collect::<Vec<_>>())
    }

    fn pointwise(self) -> crate::ops::elementwise::UnaryOp {
        match self {
            Loss::MeanAbsoluteError => crate::ops::elementwise::UnaryOp::Abs,
            _ => crate::ops::elementwise::UnaryOp::Square,
        }
    }

    fn run(self, pred: &Tensor, target: &Tensor, from_logits: bool) -> Result<op::LossOutput> {
        match self {
            Loss::SparseCategoricalCrossentropy { .. } => op::sparse_categorical_crossentropy(pred, target, from_logits),
            Loss::CategoricalCrossentropy { .. } => op::categorical_crossentropy(pred, target, from_logits),
            Loss::BinaryCrossentropy { .. } => op::binary_crossentropy(pred, target, from_logits),
            Loss::MeanSquaredError | Loss::MeanAbsoluteError => bail!("internal: regression losses are not kernels"),
        }
        .map_err(|e| e.context(self.name()))
    }

    /// Whether predictions are logits (false for the regression losses).
    pub fn from_logits(self) -> bool {
        match self {
            Loss::SparseCategoricalCrossentropy { from_logits }
            | Loss::CategoricalCrossentropy { from_logits }
            | Loss::BinaryCrossentropy { from_logits } => from_logits,
            Loss::MeanSquaredError | Loss::MeanAbsoluteError => false,
        }
    }

    /// Mean loss over the batch (and pixels), a scalar.
    pub fn value(self, pred: &Tensor, target: &Tensor) -> Result<Tensor> {
        if self.is_regression() {
            let t = self.regression_target(pred, target)?;
            return crate::ops::elementwise::unary(&pred.sub(&t)?, self.pointwise())?.mean(&[], false);
        }
        Ok(self.run(pred, target, self.from_logits())?.value)
    }

    /// The loss of `pred` against `target`, recorded so gradients reach the model. When
    /// `pred` came out of a softmax/sigmoid, its logits are used, as Keras does.
    pub fn apply(self, pred: &Var, target: &Tensor) -> Result<Var> {
        if self.is_regression() {
            let t = Var::constant(&self.regression_target(pred.value(), target)?);
            return pred.sub(&t)?.unary(self.pointwise())?.mean(&[], false);
        }
        let (input, from_logits) = match pred.keras_logits() {
            Some(logits) => (logits, true),
            None => (pred, self.from_logits()),
        };
        let out = self.run(input.value(), target, from_logits)?;
        let grad = out.grad;
        // dy is the scalar upstream gradient (1 for the loss being minimised).
        Ok(input.record_unary(out.value, Box::new(move |dy, _: &[bool]| Ok(vec![Some(grad.mul(dy)?)]))))
    }
}

/// Keras "accuracy" for the loss's kind of labels, as the batch mean.
pub fn accuracy(kind: Accuracy, pred: &Tensor, target: &Tensor) -> Result<Tensor> {
    use crate::tensor::DType;
    let hits = match kind {
        Accuracy::Sparse => {
            ensure!(
                pred.rank() == target.rank() + 1 || (pred.rank() == target.rank() && target.shape().last() == Some(&1)),
                "accuracy: predictions {} do not fit sparse labels {}",
                pred.describe(),
                target.describe()
            );
            let labels = target.cast(DType::F32)?.reshape(&pred.shape()[..pred.rank() - 1].iter().map(|&d| d as isize).collect::<Vec<_>>())?;
            pred.argmax(-1)?.cast(DType::F32)?.equal(&labels)?
        }
        Accuracy::Categorical => pred.argmax(-1)?.cast(DType::F32)?.equal(&target.argmax(-1)?.cast(DType::F32)?)?,
        Accuracy::Binary => {
            let guess = pred.greater(&crate::ops::elementwise::fill(pred.device(), &[], 0.5)?)?;
            guess.equal(&target.cast(DType::F32)?)?
        }
    };
    hits.mean(&[], false)
}
