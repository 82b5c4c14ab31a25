//! Keras losses by name, recorded on the tape. The kernels and their gradients live in
//! ops/loss.rs; this maps Keras's names and options onto them.

use crate::error::Result;
use crate::graph::Var;
use crate::ops::loss as op;
use crate::tensor::Tensor;
use crate::{bail, ensure};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    SparseCategoricalCrossentropy { from_logits: bool },
    CategoricalCrossentropy { from_logits: bool },
    BinaryCrossentropy { from_logits: bool },
}

/// What "accuracy" means for this loss, as Keras picks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accuracy {
    Sparse,
    Categorical,
    Binary,
}

impl Loss {
    pub fn parse(name: &str, from_logits: bool) -> Result<Loss> {
        Ok(match name {
            "sparse_categorical_crossentropy" | "SparseCategoricalCrossentropy" => {
                Loss::SparseCategoricalCrossentropy { from_logits }
            }
            "categorical_crossentropy" | "CategoricalCrossentropy" => Loss::CategoricalCrossentropy { from_logits },
            "binary_crossentropy" | "BinaryCrossentropy" => Loss::BinaryCrossentropy { from_logits },
            other => bail!(
                "unknown loss '{other}': use sparse_categorical_crossentropy, categorical_crossentropy or binary_crossentropy"
            ),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Loss::SparseCategoricalCrossentropy { .. } => "sparse_categorical_crossentropy",
            Loss::CategoricalCrossentropy { .. } => "categorical_crossentropy",
            Loss::BinaryCrossentropy { .. } => "binary_crossentropy",
        }
    }

    pub fn accuracy(self) -> Accuracy {
        match self {
            Loss::SparseCategoricalCrossentropy { .. } => Accuracy::Sparse,
            Loss::CategoricalCrossentropy { .. } => Accuracy::Categorical,
            Loss::BinaryCrossentropy { .. } => Accuracy::Binary,
        }
    }

    fn run(self, pred: &Tensor, target: &Tensor, from_logits: bool) -> Result<op::LossOutput> {
        match self {
            Loss::SparseCategoricalCrossentropy { .. } => op::sparse_categorical_crossentropy(pred, target, from_logits),
            Loss::CategoricalCrossentropy { .. } => op::categorical_crossentropy(pred, target, from_logits),
            Loss::BinaryCrossentropy { .. } => op::binary_crossentropy(pred, target, from_logits),
        }
        .map_err(|e| e.context(self.name()))
    }

    pub fn from_logits(self) -> bool {
        match self {
            Loss::SparseCategoricalCrossentropy { from_logits }
            | Loss::CategoricalCrossentropy { from_logits }
            | Loss::BinaryCrossentropy { from_logits } => from_logits,
        }
    }

    /// Mean loss over the batch (and pixels), a scalar.
    pub fn value(self, pred: &Tensor, target: &Tensor) -> Result<Tensor> {
        Ok(self.run(pred, target, self.from_logits())?.value)
    }

    /// The loss of `pred` against `target`, recorded so gradients reach the model. When
    /// `pred` came out of a softmax/sigmoid, its logits are used, as Keras does.
    pub fn apply(self, pred: &Var, target: &Tensor) -> Result<Var> {
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
