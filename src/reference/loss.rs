//! Crossentropy losses as Keras 3 computes them with its TensorFlow backend, and their
//! gradients with respect to the predictions. Plain loops over rows of `classes` values
//! (the last axis), generic over f32/f64.
//!
//! `epsilon` is Keras's `backend.epsilon()` (1e-7); probabilities are clipped to
//! `[epsilon, 1 - epsilon]` (both bounds rounded to the float type, as TF converts them),
//! and the clip passes the gradient where `epsilon <= p <= 1 - epsilon` (TF's
//! `clip_by_value` is `maximum(minimum(p, hi), lo)`, whose gradients keep ties).
//!
//! Per row `z` (logits) or `p` (probabilities), with `q = clip(p)`:
//!
//! | loss | from_logits | value | d value / d input |
//! |---|---|---|---|
//! | sparse, label `y` | true  | `lse(z) - z_y` | `softmax(z)_j - [j = y]` |
//! | sparse, label `y` | false | `log Σq - log q_y` (TF: `log q` fed to the logits kernel) | `mask_j (1/Σq - [j = y]/q_j)` |
//! | categorical, target `t` | true  | `Σ t_c (lse(z) - z_c)` | `softmax(z)_j Σt - t_j` |
//! | categorical, target `t` | false | `-Σ t_c log clip(p_c / Σp)` | chain rule through the normalization |
//! | binary, target `t` (per element) | true  | `max(z, 0) - z t + log1p(exp(-|z|))` | `sigmoid(z) - t` |
//! | binary, target `t` (per element) | false | `-(t log q + (1 - t) log(1 - q))` | `mask (-t/q + (1 - t)/(1 - q))` |
//!
//! The scalar loss is the mean of the per-row values (per-element for binary), Keras's
//! `sum_over_batch_size` reduction; an empty batch gives 0 (Keras's `divide_no_nan`).
//! Gradients returned here are of that mean, times `scale` (an upstream gradient).

use super::{c, Real};
use crate::ops::loss::spec::{Crossentropy, EPSILON};
use crate::error::Result;
use crate::{bail, ensure};


fn clip_bounds<F: Real>() -> (F, F) {
    (c(EPSILON), c(1.0 - EPSILON))
}

fn in_clip<F: Real>(p: F, lo: F, hi: F) -> bool {
    p >= lo && p <= hi
}

/// log(sum(exp(z))) of a row, shifted by its maximum.
fn log_sum_exp<F: Real>(z: &[F]) -> F {
    let m = z.iter().fold(F::neg_infinity(), |m, &v| m.max(v));
    if !m.is_finite() {
        return m;
    }
    let s = z.iter().fold(F::zero(), |s, &v| s + (v - m).exp());
    m + s.ln()
}

/// Check an integer label against the class count (CPU: an error, as TensorFlow's CPU
/// kernel raises; the GPU kernel writes NaN instead).
fn check_label(op: &str, label: i64, row: usize, classes: usize) -> Result<usize> {
    ensure!(
        label >= 0 && (label as u64) < classes as u64,
        "{op}: label {label} at position {row} is outside the valid range [0, {classes})"
    );
    Ok(label as usize)
}

fn check_rows<F: Real>(op: &str, pred: &[F], classes: usize, targets: usize, per_row_targets: bool) -> Result<usize> {
    ensure!(classes > 0, "{op}: predictions need at least one class on the last axis");
    ensure!(
        pred.len().is_multiple_of(classes),
        "{op}: {} prediction values do not split into rows of {classes} classes",
        pred.len()
    );
    let rows = pred.len() / classes;
    let want = if per_row_targets { rows } else { pred.len() };
    ensure!(targets == want, "{op}: {targets} targets for {want} predictions");
    Ok(rows)
}

/// Mean of per-row values, accumulated in f64; 0 for no rows (`divide_no_nan`).
fn mean<F: Real>(values: &[F]) -> F {
    if values.is_empty() {
        return F::zero();
    }
    let s: f64 = values.iter().map(|v| v.to_f64().unwrap_or(f64::NAN)).sum();
    c(s / values.len() as f64)
}

/// Per-row loss values (Keras's reduction "none"): one per label.
pub fn sparse_categorical_crossentropy_values<F: Real>(
    pred: &[F],
    labels: &[i64],
    classes: usize,
    from_logits: bool,
) -> Result<Vec<F>> {
    let op = Crossentropy::Sparse.name();
    let rows = check_rows(op, pred, classes, labels.len(), true)?;
    let (lo, hi) = clip_bounds::<F>();
    let mut out = Vec::with_capacity(rows);
    for (r, &label) in labels.iter().enumerate() {
        let y = check_label(op, label, r, classes)?;
        let row = &pred[r * classes..(r + 1) * classes];
        let v = if from_logits {
            log_sum_exp(row) - row[y]
        } else {
            let q: Vec<F> = row.iter().map(|&p| p.max(lo).min(hi)).collect();
            let s = q.iter().fold(F::zero(), |s, &v| s + v);
            s.ln() - q[y].ln()
        };
        out.push(v);
    }
    Ok(out)
}

pub fn sparse_categorical_crossentropy<F: Real>(
    pred: &[F],
    labels: &[i64],
    classes: usize,
    from_logits: bool,
) -> Result<F> {
    Ok(mean(&sparse_categorical_crossentropy_values(pred, labels, classes, from_logits)?))
}

/// Gradient of the mean loss with respect to `pred`, times `scale`.
pub fn sparse_categorical_crossentropy_grad<F: Real>(
    pred: &[F],
    labels: &[i64],
    classes: usize,
    from_logits: bool,
    scale: F,
) -> Result<Vec<F>> {
    let op = Crossentropy::Sparse.name();
    let rows = check_rows(op, pred, classes, labels.len(), true)?;
    let k = scale / c(rows.max(1) as f64);
    let (lo, hi) = clip_bounds::<F>();
    let mut out = vec![F::zero(); pred.len()];
    for (r, &label) in labels.iter().enumerate() {
        let y = check_label(op, label, r, classes)?;
        let row = &pred[r * classes..(r + 1) * classes];
        let g = &mut out[r * classes..(r + 1) * classes];
        if from_logits {
            let lse = log_sum_exp(row);
            for j in 0..classes {
                let one = if j == y { F::one() } else { F::zero() };
                g[j] = ((row[j] - lse).exp() - one) * k;
            }
        } else {
            let s = row.iter().fold(F::zero(), |s, &p| s + p.max(lo).min(hi));
            for j in 0..classes {
                let p = row[j];
                if !in_clip(p, lo, hi) {
                    continue;
                }
                let own = if j == y { F::one() / p } else { F::zero() };
                g[j] = (F::one() / s - own) * k;
            }
        }
    }
    Ok(out)
}

pub fn categorical_crossentropy_values<F: Real>(
    pred: &[F],
    targets: &[F],
    classes: usize,
    from_logits: bool,
) -> Result<Vec<F>> {
    let op = Crossentropy::Categorical.name();
    let rows = check_rows(op, pred, classes, targets.len(), false)?;
    let (lo, hi) = clip_bounds::<F>();
    let mut out = Vec::with_capacity(rows);
    for r in 0..rows {
        let row = &pred[r * classes..(r + 1) * classes];
        let t = &targets[r * classes..(r + 1) * classes];
        let v = if from_logits {
            let lse = log_sum_exp(row);
            (0..classes).fold(F::zero(), |s, j| s + t[j] * (lse - row[j]))
        } else {
            let sum = row.iter().fold(F::zero(), |s, &p| s + p);
            -(0..classes).fold(F::zero(), |s, j| s + t[j] * (row[j] / sum).max(lo).min(hi).ln())
        };
        out.push(v);
    }
    Ok(out)
}

pub fn categorical_crossentropy<F: Real>(pred: &[F], targets: &[F], classes: usize, from_logits: bool) -> Result<F> {
    Ok(mean(&categorical_crossentropy_values(pred, targets, classes, from_logits)?))
}

/// Gradient of the mean loss with respect to `pred`, times `scale`. From logits this is
/// the true derivative `softmax(z) Σt - t`; TensorFlow's fused kernel returns
/// `softmax(z) - t`, the same whenever each target row sums to 1.
pub fn categorical_crossentropy_grad<F: Real>(
    pred: &[F],
    targets: &[F],
    classes: usize,
    from_logits: bool,
    scale: F,
) -> Result<Vec<F>> {
    let op = Crossentropy::Categorical.name();
    let rows = check_rows(op, pred, classes, targets.len(), false)?;
    let k = scale / c(rows.max(1) as f64);
    let (lo, hi) = clip_bounds::<F>();
    let mut out = vec![F::zero(); pred.len()];
    for r in 0..rows {
        let row = &pred[r * classes..(r + 1) * classes];
        let t = &targets[r * classes..(r + 1) * classes];
        let g = &mut out[r * classes..(r + 1) * classes];
        let t_sum = t.iter().fold(F::zero(), |s, &v| s + v);
        if from_logits {
            let lse = log_sum_exp(row);
            for j in 0..classes {
                g[j] = ((row[j] - lse).exp() * t_sum - t[j]) * k;
            }
        } else {
            // d/dp'_c = -t_c / p'_c where p' = p / Σp is inside the clip, then through
            // the normalization: d/dp_j = (d_j - Σ_c d_c p'_c) / Σp.
            let sum = row.iter().fold(F::zero(), |s, &p| s + p);
            let d: Vec<F> = (0..classes)
                .map(|j| {
                    let pn = row[j] / sum;
                    if in_clip(pn, lo, hi) {
                        -t[j] / pn
                    } else {
                        F::zero()
                    }
                })
                .collect();
            let dot = (0..classes).fold(F::zero(), |s, j| s + d[j] * (row[j] / sum));
            for j in 0..classes {
                g[j] = (d[j] - dot) / sum * k;
            }
        }
    }
    Ok(out)
}

/// Per-element loss values (Keras averages them over the last axis, then the batch;
/// with equal row lengths that is the mean over every element).
pub fn binary_crossentropy_values<F: Real>(pred: &[F], targets: &[F], from_logits: bool) -> Result<Vec<F>> {
    let op = Crossentropy::Binary.name();
    ensure!(pred.len() == targets.len(), "{op}: {} targets for {} predictions", targets.len(), pred.len());
    let (lo, hi) = clip_bounds::<F>();
    Ok(pred
        .iter()
        .zip(targets)
        .map(|(&z, &t)| {
            if from_logits {
                z.max(F::zero()) - z * t + (-z.abs()).exp().ln_1p()
            } else {
                let q = z.max(lo).min(hi);
                -(t * q.ln() + (F::one() - t) * (F::one() - q).ln())
            }
        })
        .collect())
}

pub fn binary_crossentropy<F: Real>(pred: &[F], targets: &[F], from_logits: bool) -> Result<F> {
    Ok(mean(&binary_crossentropy_values(pred, targets, from_logits)?))
}

pub fn binary_crossentropy_grad<F: Real>(pred: &[F], targets: &[F], from_logits: bool, scale: F) -> Result<Vec<F>> {
    let op = Crossentropy::Binary.name();
    ensure!(pred.len() == targets.len(), "{op}: {} targets for {} predictions", targets.len(), pred.len());
    let k = scale / c(pred.len().max(1) as f64);
    let (lo, hi) = clip_bounds::<F>();
    Ok(pred
        .iter()
        .zip(targets)
        .map(|(&z, &t)| {
            if from_logits {
                (sigmoid(z) - t) * k
            } else if in_clip(z, lo, hi) {
                (-t / z + (F::one() - t) / (F::one() - z)) * k
            } else {
                F::zero()
            }
        })
        .collect())
}

fn sigmoid<F: Real>(z: F) -> F {
    if z >= F::zero() {
        F::one() / (F::one() + (-z).exp())
    } else {
        let e = z.exp();
        e / (F::one() + e)
    }
}

/// Labels as integers: int32 and uint8 as they are, floats truncated toward zero (as
/// `tf.cast` does); a non-finite float label is an error.
pub fn labels_from_f64(op: &str, values: &[f64]) -> Result<Vec<i64>> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if !v.is_finite() {
                bail!("{op}: label {v} at position {i} is not a class index");
            }
            Ok(v.trunc() as i64)
        })
        .collect()
}
