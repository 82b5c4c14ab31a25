//! Crossentropy losses with Keras 3 semantics (TensorFlow backend): the scalar mean loss
//! (Keras's default reduction "sum_over_batch_size") and its gradient w.r.t. the
//! predictions, on the GPU (shaders/loss.wgsl) or the CPU (reference/loss.rs, which
//! documents every formula).
//!
//! * `sparse_categorical_crossentropy(pred (..., C), labels)`: labels have shape
//!   `pred.shape[:-1]` (per pixel for segmentation, e.g. (N, H, W) against (N, H, W, C)),
//!   or that with a trailing 1, which Keras squeezes. Labels may be int32, uint8 or
//!   float32 (truncated toward zero, as `tf.cast`); on the CPU also float64. A label
//!   outside `[0, C)` is an error on the CPU (as TensorFlow's CPU kernel raises) and
//!   makes that row's loss and gradient NaN on the GPU (as TensorFlow's GPU kernel does;
//!   checking would need a readback). Callers holding host labels can check them first.
//! * `categorical_crossentropy(pred, targets)`: one-hot or soft targets of pred's shape.
//! * `binary_crossentropy(pred, targets)`: per-element targets of pred's shape, averaged
//!   over every element.
//!
//! Dense targets may be float32, int32 or uint8 (Keras casts `y_true` to pred's dtype),
//! and their shape may differ from pred's by a trailing 1 (Keras's
//! `squeeze_or_expand_to_same_rank`). The gradient always has pred's shape.
//!
//! From probabilities (`from_logits = false`) Keras clips to `[1e-7, 1 - 1e-7]`; the
//! TensorFlow backend then normalizes differently per loss: sparse feeds `log(clip(p))`
//! to its logits kernel (so rows are renormalized *after* clipping), categorical divides
//! by the row sum *before* clipping, binary does not normalize. (Keras's JAX/NumPy
//! backends normalize before clipping in the sparse case too; they agree whenever rows
//! sum to 1 and no value is clipped.)
//!
//! **The logits shortcut.** With the TensorFlow backend, when `pred` comes straight out
//! of a softmax (categorical losses) or sigmoid (binary) — a Keras activation tags its
//! output with `_keras_logits` — Keras silently ignores `from_logits = false` and
//! computes the loss from those logits. So `Dense(10, activation="softmax")` followed by
//! `sparse_categorical_crossentropy` never clips, and its gradient is
//! `softmax(z) - onehot`. Callers reproduce this by passing the pre-activation with
//! `from_logits = true` (the fused, numerically stable path); the gradient is then with
//! respect to the logits.
//!
//! Categorical from logits: the gradient is the derivative of the loss,
//! `softmax(z) Σt - t`; TensorFlow's fused kernel returns `softmax(z) - t`, the same
//! whenever each target row sums to 1 (one-hot, label smoothing, any distribution).
//!
//! An empty batch has loss 0 (Keras's `divide_no_nan`) and an empty gradient.

pub(crate) mod spec;
pub use spec::{Crossentropy, EPSILON};

use super::{common_device, on_device, require_float, CpuFloat};
use crate::error::Result;
use crate::gpu::kernels::loss as gpu;
use crate::reference::c;
use crate::reference::loss as reference;
use crate::shape::fmt_shape;
use crate::tensor::{CpuData, DType, Tensor};
use crate::{bail, ensure};

/// The scalar mean loss (shape `[]`) and its gradient w.r.t. the predictions.
#[derive(Clone, Debug)]
pub struct LossOutput {
    /// The mean loss, shape `[]`.
    pub value: Tensor,
    /// Its gradient with respect to the predictions.
    pub grad: Tensor,
}

/// Loss, gradient, or both in one pass.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Value,
    Grad,
    Both,
}

/// What the shapes and dtypes resolve to.
struct Plan {
    /// Number of loss values the mean divides by (rows; elements for binary).
    rows: usize,
    /// Length of the class axis (1 for binary).
    classes: usize,
}

/// Keras's `squeeze_or_expand_to_same_rank(y_true, y_pred)`: shapes that differ by a
/// trailing 1 are brought to the same rank. Returns (target, pred) as the loss sees them.
fn keras_align(t: &[usize], p: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let (mut t, mut p) = (t.to_vec(), p.to_vec());
    if t.len() == p.len() + 1 && t.last() == Some(&1) {
        if p.len() == 1 {
            p.push(1);
        } else {
            t.pop();
        }
    } else if p.len() == t.len() + 1 && p.last() == Some(&1) {
        if t.len() == 1 {
            t.push(1);
        } else {
            p.pop();
        }
    }
    (t, p)
}

fn plan(kind: Crossentropy, pred: &Tensor, target: &Tensor) -> Result<Plan> {
    let op = kind.name();
    require_float(op, pred)?;
    let mismatch = || {
        format!(
            "{op}: targets {} do not fit predictions {}{}",
            target.describe(),
            pred.describe(),
            match kind {
                Crossentropy::Sparse => " (labels need the predictions' shape without the class axis)",
                _ => " (they need the same shape)",
            }
        )
    };
    match kind {
        Crossentropy::Sparse => {
            ensure!(pred.rank() >= 1, "{op}: predictions need a class axis, got {}", pred.describe());
            let lead = &pred.shape()[..pred.rank() - 1];
            let t = target.shape();
            let fits = t == lead || (t.len() == pred.rank() && &t[..lead.len()] == lead && t.last() == Some(&1));
            if !fits {
                bail!("{}", mismatch());
            }
            ensure!(
                matches!(target.dtype(), DType::I32 | DType::U8 | DType::F32 | DType::F64),
                "{op}: labels {} must be int32, uint8 or float (predictions {})",
                target.describe(),
                pred.describe()
            );
            let classes = pred.shape()[pred.rank() - 1];
            ensure!(classes > 0 || pred.numel() == 0, "{op}: predictions {} have no classes", pred.describe());
            Ok(Plan { rows: lead.iter().product(), classes })
        }
        Crossentropy::Categorical | Crossentropy::Binary => {
            let (t, p) = keras_align(target.shape(), pred.shape());
            if t != p {
                bail!("{}", mismatch());
            }
            ensure!(!p.is_empty(), "{op}: predictions need at least one axis, got {}", pred.describe());
            ensure!(
                target.dtype() != DType::F64 || pred.dtype() == DType::F64,
                "{op}: float64 targets {} need float64 predictions, got {}",
                target.describe(),
                pred.describe()
            );
            if kind == Crossentropy::Binary {
                Ok(Plan { rows: pred.numel(), classes: 1 })
            } else {
                let classes = p[p.len() - 1];
                ensure!(classes > 0 || pred.numel() == 0, "{op}: predictions {} have no classes", pred.describe());
                Ok(Plan { rows: pred.numel() / classes.max(1), classes })
            }
        }
    }
}

fn check_dy(op: &str, dy: Option<&Tensor>) -> Result<()> {
    if let Some(dy) = dy {
        require_float(op, dy)?;
        ensure!(dy.numel() == 1, "{op}: the upstream gradient must be a scalar, got {}", dy.describe());
    }
    Ok(())
}

fn run(
    kind: Crossentropy,
    pred: &Tensor,
    target: &Tensor,
    from_logits: bool,
    dy: Option<&Tensor>,
    want: Want,
) -> Result<(Option<Tensor>, Option<Tensor>)> {
    let op = kind.name();
    let plan = plan(kind, pred, target)?;
    check_dy(op, dy)?;
    let mut all = vec![pred, target];
    all.extend(dy);
    let device = common_device(op, &all)?;
    on_device!(device, pred.dtype(), op,
        cpu::<F> => {
            let scale = match dy {
                Some(d) => d.cpu_data()?.to_f64()[0],
                None => 1.0,
            };
            cpu::<F>(kind, pred, target, &plan, from_logits, scale, want)
        },
        gpu(ctx) => gpu::crossentropy(
            ctx,
            device,
            kind,
            pred,
            target,
            (plan.rows, plan.classes),
            from_logits,
            dy,
            (want != Want::Grad, want != Want::Value),
        ),
    )
}

fn sparse_labels(op: &str, target: &Tensor) -> Result<Vec<i64>> {
    Ok(match target.cpu_data()? {
        CpuData::I32(v) => v.iter().map(|&l| l as i64).collect(),
        CpuData::U8(v) => v.iter().map(|&l| l as i64).collect(),
        other => reference::labels_from_f64(op, &other.to_f64())?,
    })
}

fn cpu<F: CpuFloat>(
    kind: Crossentropy,
    pred: &Tensor,
    target: &Tensor,
    plan: &Plan,
    from_logits: bool,
    scale: f64,
    want: Want,
) -> Result<(Option<Tensor>, Option<Tensor>)> {
    let op = kind.name();
    let p = F::slice(pred, op)?;
    let classes = plan.classes;
    let value = |v: F| Tensor::from_cpu(&[], F::wrap(vec![v]));
    let grad = |g: Vec<F>| Tensor::from_cpu(pred.shape(), F::wrap(g));
    let scale: F = c(scale);
    let need_value = want != Want::Grad;
    let need_grad = want != Want::Value;
    match kind {
        Crossentropy::Sparse => {
            let labels = sparse_labels(op, target)?;
            let v = if need_value {
                Some(value(reference::sparse_categorical_crossentropy(p, &labels, classes, from_logits)?))
            } else {
                None
            };
            let g = if need_grad {
                Some(grad(reference::sparse_categorical_crossentropy_grad(p, &labels, classes, from_logits, scale)?))
            } else {
                None
            };
            Ok((v, g))
        }
        Crossentropy::Categorical | Crossentropy::Binary => {
            let t: Vec<F> = target.cpu_data()?.to_f64().into_iter().map(c::<F>).collect();
            let binary = kind == Crossentropy::Binary;
            let v = if !need_value {
                None
            } else if binary {
                Some(value(reference::binary_crossentropy(p, &t, from_logits)?))
            } else {
                Some(value(reference::categorical_crossentropy(p, &t, classes, from_logits)?))
            };
            let g = if !need_grad {
                None
            } else if binary {
                Some(grad(reference::binary_crossentropy_grad(p, &t, from_logits, scale)?))
            } else {
                Some(grad(reference::categorical_crossentropy_grad(p, &t, classes, from_logits, scale)?))
            };
            Ok((v, g))
        }
    }
}

fn both(kind: Crossentropy, pred: &Tensor, target: &Tensor, from_logits: bool) -> Result<LossOutput> {
    match run(kind, pred, target, from_logits, None, Want::Both)? {
        (Some(value), Some(grad)) => Ok(LossOutput { value, grad }),
        _ => bail!("{}: internal: missing output", kind.name()),
    }
}

/// The mean loss and its gradient w.r.t. `pred`, in one pass.
pub fn crossentropy(kind: Crossentropy, pred: &Tensor, target: &Tensor, from_logits: bool) -> Result<LossOutput> {
    both(kind, pred, target, from_logits)
}

/// The mean loss alone, a scalar (shape `[]`).
pub fn crossentropy_value(kind: Crossentropy, pred: &Tensor, target: &Tensor, from_logits: bool) -> Result<Tensor> {
    match run(kind, pred, target, from_logits, None, Want::Value)? {
        (Some(v), _) => Ok(v),
        _ => bail!("{}: internal: missing output", kind.name()),
    }
}

/// The backward rule: gradient of the mean loss w.r.t. `pred`, times the scalar
/// upstream gradient `dy` when given (fused into the kernel).
pub fn crossentropy_grad(
    kind: Crossentropy,
    pred: &Tensor,
    target: &Tensor,
    from_logits: bool,
    dy: Option<&Tensor>,
) -> Result<Tensor> {
    match run(kind, pred, target, from_logits, dy, Want::Grad)? {
        (_, Some(g)) => Ok(g),
        _ => bail!("{}: internal: missing output", kind.name()),
    }
}

/// Integer labels of shape `pred.shape[:-1]` (e.g. per pixel); loss and gradient.
pub fn sparse_categorical_crossentropy(pred: &Tensor, labels: &Tensor, from_logits: bool) -> Result<LossOutput> {
    both(Crossentropy::Sparse, pred, labels, from_logits)
}

/// The mean sparse categorical crossentropy alone.
pub fn sparse_categorical_crossentropy_value(pred: &Tensor, labels: &Tensor, from_logits: bool) -> Result<Tensor> {
    crossentropy_value(Crossentropy::Sparse, pred, labels, from_logits)
}

/// The gradient of the mean sparse categorical crossentropy alone.
pub fn sparse_categorical_crossentropy_grad(pred: &Tensor, labels: &Tensor, from_logits: bool) -> Result<Tensor> {
    crossentropy_grad(Crossentropy::Sparse, pred, labels, from_logits, None)
}

/// One-hot (or soft) targets shaped like the predictions; loss and gradient.
pub fn categorical_crossentropy(pred: &Tensor, targets: &Tensor, from_logits: bool) -> Result<LossOutput> {
    both(Crossentropy::Categorical, pred, targets, from_logits)
}

/// The mean categorical crossentropy alone.
pub fn categorical_crossentropy_value(pred: &Tensor, targets: &Tensor, from_logits: bool) -> Result<Tensor> {
    crossentropy_value(Crossentropy::Categorical, pred, targets, from_logits)
}

/// The gradient of the mean categorical crossentropy alone.
pub fn categorical_crossentropy_grad(pred: &Tensor, targets: &Tensor, from_logits: bool) -> Result<Tensor> {
    crossentropy_grad(Crossentropy::Categorical, pred, targets, from_logits, None)
}

/// Targets in [0, 1] shaped like the predictions; loss and gradient.
pub fn binary_crossentropy(pred: &Tensor, targets: &Tensor, from_logits: bool) -> Result<LossOutput> {
    both(Crossentropy::Binary, pred, targets, from_logits)
}

/// The mean binary crossentropy alone.
pub fn binary_crossentropy_value(pred: &Tensor, targets: &Tensor, from_logits: bool) -> Result<Tensor> {
    crossentropy_value(Crossentropy::Binary, pred, targets, from_logits)
}

/// The gradient of the mean binary crossentropy alone.
pub fn binary_crossentropy_grad(pred: &Tensor, targets: &Tensor, from_logits: bool) -> Result<Tensor> {
    crossentropy_grad(Crossentropy::Binary, pred, targets, from_logits, None)
}

/// Shape of the labels `sparse_categorical_crossentropy` expects for `pred`.
pub fn sparse_label_shape(pred: &Tensor) -> Result<Vec<usize>> {
    ensure!(
        pred.rank() >= 1,
        "sparse_categorical_crossentropy: predictions need a class axis, got {}",
        fmt_shape(pred.shape())
    );
    Ok(pred.shape()[..pred.rank() - 1].to_vec())
}
