//! Batch normalization over the last axis (Keras `BatchNormalization(axis=-1)`), for a
//! tensor viewed as `(rows, channels)` where `rows` is the product of the leading axes
//! (N·H·W for NHWC images). Forward in training mode (batch statistics, moving-statistic
//! update) and inference mode (moving statistics), and the gradients with respect to
//! input, gamma and beta in both modes.
//!
//! ```text
//! y = (x - mean) / sqrt(var + epsilon) · gamma + beta
//! ```
//! * training: `mean`, `var` are the batch mean and the *biased* batch variance
//!   (divided by `rows`) of each channel; the moving statistics become
//!   `moving = moving · momentum + batch · (1 - momentum)`, the variance term being that
//!   same biased variance (Keras 3 uses `ops.moments`; checked against Keras 3.15 /
//!   TensorFlow 2.21: unlike the fused TF 1 / Keras 2 kernel there is no Bessel correction);
//! * inference: `mean`, `var` are the moving statistics.
//!
//! `gamma` None means Keras `scale=False` (gamma ≡ 1) and `beta` None `center=False`
//! (beta ≡ 0); the gradients with respect to gamma and beta are returned either way.

use super::{c, check_len, Real};
use crate::ops::batch_norm::spec::BatchNormSpec;
use crate::error::Result;


/// Check the lengths of the input and of gamma and beta against the spec.
fn check_args<F: Real>(s: &BatchNormSpec, op: &str, x: &[F], gamma: Option<&[F]>, beta: Option<&[F]>) -> Result<()> {
    check_len(op, "input", x.len(), &[s.rows, s.channels])?;
    if let Some(g) = gamma {
        check_len(op, "gamma", g.len(), &[s.channels])?;
    }
    if let Some(b) = beta {
        check_len(op, "beta", b.len(), &[s.channels])?;
    }
    Ok(())
}

/// Result of a training-mode forward pass.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNormTrainOutput<F> {
    /// Normalized output, `(rows, channels)`.
    pub y: Vec<F>,
    /// Batch mean per channel.
    pub batch_mean: Vec<F>,
    /// Biased batch variance per channel (the one used to normalize).
    pub batch_variance: Vec<F>,
    /// Updated moving mean.
    pub moving_mean: Vec<F>,
    /// Updated moving variance.
    pub moving_variance: Vec<F>,
}

/// Gradients of a batch normalization.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNormGrads<F> {
    /// `(rows, channels)`.
    pub input: Vec<F>,
    /// Per channel (computed even when gamma is absent: the gradient at gamma = 1).
    pub gamma: Vec<F>,
    /// Per channel.
    pub beta: Vec<F>,
}

/// Per-channel batch mean and biased variance.
pub fn batch_moments<F: Real>(x: &[F], s: &BatchNormSpec) -> Result<(Vec<F>, Vec<F>)> {
    s.check("batch_moments", true)?;
    check_len("batch_moments", "input", x.len(), &[s.rows, s.channels])?;
    let count = c::<F>(s.rows as f64);
    let mut mean = vec![F::zero(); s.channels];
    for (i, &v) in x.iter().enumerate() {
        mean[i % s.channels] = mean[i % s.channels] + v;
    }
    for m in &mut mean {
        *m = *m / count;
    }
    let mut var = vec![F::zero(); s.channels];
    for (i, &v) in x.iter().enumerate() {
        let d = v - mean[i % s.channels];
        var[i % s.channels] = var[i % s.channels] + d * d;
    }
    for v in &mut var {
        *v = *v / count;
    }
    Ok((mean, var))
}

fn normalize<F: Real>(
    x: &[F],
    gamma: Option<&[F]>,
    beta: Option<&[F]>,
    mean: &[F],
    var: &[F],
    s: &BatchNormSpec,
) -> Vec<F> {
    let eps = c::<F>(s.epsilon);
    x.iter()
        .enumerate()
        .map(|(i, &v)| {
            let ch = i % s.channels;
            let g = gamma.map_or(F::one(), |g| g[ch]);
            let b = beta.map_or(F::zero(), |b| b[ch]);
            (v - mean[ch]) / (var[ch] + eps).sqrt() * g + b
        })
        .collect()
}

/// Training-mode forward pass: normalize with batch statistics and update the moving
/// statistics.
pub fn batch_norm_train<F: Real>(
    x: &[F],
    gamma: Option<&[F]>,
    beta: Option<&[F]>,
    moving_mean: &[F],
    moving_variance: &[F],
    s: &BatchNormSpec,
) -> Result<BatchNormTrainOutput<F>> {
    let op = "batch_norm_train";
    s.check(op, true)?;
    check_args(s, op, x, gamma, beta)?;
    check_len(op, "moving_mean", moving_mean.len(), &[s.channels])?;
    check_len(op, "moving_variance", moving_variance.len(), &[s.channels])?;
    let (mean, var) = batch_moments(x, s)?;
    let y = normalize(x, gamma, beta, &mean, &var, s);
    let mom = c::<F>(s.momentum);
    let update = |moving: &[F], batch: &[F]| -> Vec<F> {
        moving.iter().zip(batch).map(|(&m, &b)| m * mom + b * (F::one() - mom)).collect()
    };
    Ok(BatchNormTrainOutput {
        y,
        moving_mean: update(moving_mean, &mean),
        moving_variance: update(moving_variance, &var),
        batch_mean: mean,
        batch_variance: var,
    })
}

/// Inference-mode forward pass: normalize with the moving statistics.
pub fn batch_norm_inference<F: Real>(
    x: &[F],
    gamma: Option<&[F]>,
    beta: Option<&[F]>,
    moving_mean: &[F],
    moving_variance: &[F],
    s: &BatchNormSpec,
) -> Result<Vec<F>> {
    let op = "batch_norm_inference";
    s.check(op, false)?;
    check_args(s, op, x, gamma, beta)?;
    check_len(op, "moving_mean", moving_mean.len(), &[s.channels])?;
    check_len(op, "moving_variance", moving_variance.len(), &[s.channels])?;
    Ok(normalize(x, gamma, beta, moving_mean, moving_variance, s))
}

/// Gradients of the training-mode forward pass (through the batch statistics):
/// with `x̂ = (x - mean)/sqrt(var + ε)`, `M = rows`,
/// `dbeta = Σ dy`, `dgamma = Σ dy·x̂`,
/// `dx = gamma/sqrt(var + ε) · (dy - dbeta/M - x̂·dgamma/M)`.
pub fn batch_norm_train_grad<F: Real>(
    x: &[F],
    gamma: Option<&[F]>,
    dy: &[F],
    s: &BatchNormSpec,
) -> Result<BatchNormGrads<F>> {
    let op = "batch_norm_train_grad";
    s.check(op, true)?;
    check_args(s, op, x, gamma, None)?;
    check_len(op, "output gradient", dy.len(), &[s.rows, s.channels])?;
    let (mean, var) = batch_moments(x, s)?;
    let eps = c::<F>(s.epsilon);
    let inv: Vec<F> = var.iter().map(|&v| F::one() / (v + eps).sqrt()).collect();
    let xhat = |i: usize| (x[i] - mean[i % s.channels]) * inv[i % s.channels];
    let mut dgamma = vec![F::zero(); s.channels];
    let mut dbeta = vec![F::zero(); s.channels];
    for (i, &d) in dy.iter().enumerate() {
        let ch = i % s.channels;
        dbeta[ch] = dbeta[ch] + d;
        dgamma[ch] = dgamma[ch] + d * xhat(i);
    }
    let count = c::<F>(s.rows as f64);
    let input = (0..x.len())
        .map(|i| {
            let ch = i % s.channels;
            let g = gamma.map_or(F::one(), |g| g[ch]);
            g * inv[ch] * (dy[i] - dbeta[ch] / count - xhat(i) * dgamma[ch] / count)
        })
        .collect();
    Ok(BatchNormGrads { input, gamma: dgamma, beta: dbeta })
}

/// Gradients of the inference-mode forward pass (the moving statistics are constants):
/// `dx = dy·gamma/sqrt(moving_var + ε)`, `dgamma = Σ dy·x̂`, `dbeta = Σ dy`.
pub fn batch_norm_inference_grad<F: Real>(
    x: &[F],
    gamma: Option<&[F]>,
    moving_mean: &[F],
    moving_variance: &[F],
    dy: &[F],
    s: &BatchNormSpec,
) -> Result<BatchNormGrads<F>> {
    let op = "batch_norm_inference_grad";
    s.check(op, false)?;
    check_args(s, op, x, gamma, None)?;
    check_len(op, "moving_mean", moving_mean.len(), &[s.channels])?;
    check_len(op, "moving_variance", moving_variance.len(), &[s.channels])?;
    check_len(op, "output gradient", dy.len(), &[s.rows, s.channels])?;
    let eps = c::<F>(s.epsilon);
    let inv: Vec<F> = moving_variance.iter().map(|&v| F::one() / (v + eps).sqrt()).collect();
    let mut dgamma = vec![F::zero(); s.channels];
    let mut dbeta = vec![F::zero(); s.channels];
    let mut input = Vec::with_capacity(x.len());
    for i in 0..x.len() {
        let ch = i % s.channels;
        let g = gamma.map_or(F::one(), |g| g[ch]);
        dbeta[ch] = dbeta[ch] + dy[i];
        dgamma[ch] = dgamma[ch] + dy[i] * (x[i] - moving_mean[ch]) * inv[ch];
        input.push(dy[i] * g * inv[ch]);
    }
    Ok(BatchNormGrads { input, gamma: dgamma, beta: dbeta })
}
