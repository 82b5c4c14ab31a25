//! Batch normalization over the last axis (Keras BatchNormalization(axis=-1)): training
//! mode with batch statistics and moving-statistic updates, inference mode with the
//! moving statistics, and the gradients of both.

pub(crate) mod spec;
pub use spec::BatchNormSpec;

use super::{common_device, on_device, require_float, CpuFloat};
use crate::ensure;
use crate::error::Result;
use crate::gpu::kernels::batch_norm as gpu;
use crate::ops::copy::concat;
use crate::ops::elementwise::fill;
use crate::reference::batch_norm as reference;
use crate::tensor::Tensor;

const OP: &str = "batch_normalization";

/// Keras defaults.
pub const DEFAULT_EPSILON: f64 = 1e-3;
pub(crate) const DEFAULT_MOMENTUM: f64 = 0.99;

/// Result of a training-mode pass.
pub struct BatchNormTrainOutput {
    /// The normalized output.
    pub y: Tensor,
    /// The batch's mean per channel.
    pub batch_mean: Tensor,
    /// The batch's (biased) variance per channel.
    pub batch_variance: Tensor,
    /// Moving mean after this batch's update.
    pub moving_mean: Tensor,
    /// Moving variance after this batch's update.
    pub moving_variance: Tensor,
}

/// Gradients of a batch normalization pass.
pub struct BatchNormGrads {
    /// With respect to the input.
    pub input: Tensor,
    /// With respect to the scale.
    pub gamma: Tensor,
    /// With respect to the offset.
    pub beta: Tensor,
}

fn spec_for(x: &Tensor, per_channel: &[Option<&Tensor>], epsilon: f64, momentum: f64) -> Result<BatchNormSpec> {
    require_float(OP, x)?;
    ensure!(x.rank() >= 1, "{OP}: needs at least one axis, got a scalar");
    let channels = x.shape()[x.rank() - 1];
    for t in per_channel.iter().flatten() {
        ensure!(
            t.shape() == [channels],
            "{OP}: per-channel tensor {} does not match the {channels} channels of input {}",
            t.describe(),
            x.describe()
        );
    }
    Ok(BatchNormSpec { rows: x.numel() / channels.max(1), channels, epsilon, momentum })
}

fn opt<'a, F: CpuFloat>(t: Option<&'a Tensor>) -> Result<Option<&'a [F]>> {
    t.map(|t| F::slice(t, OP)).transpose()
}

fn stats_of(mean: &Tensor, variance: &Tensor) -> Result<Tensor> {
    concat(&[mean, variance], 0)
}

/// gamma/beta tensors for the GPU kernels, which always read both.
fn or_fill(t: Option<&Tensor>, like: &Tensor, value: f32, channels: usize) -> Result<Tensor> {
    match t {
        Some(t) => Ok(t.clone()),
        None => fill(like.device(), &[channels], value),
    }
}

/// Training-mode pass: normalize with the batch's statistics and update the moving ones
/// (Keras `BatchNormalization(training=True)`).
pub fn batch_norm_train(
    x: &Tensor,
    gamma: Option<&Tensor>,
    beta: Option<&Tensor>,
    moving_mean: &Tensor,
    moving_variance: &Tensor,
    epsilon: f64,
    momentum: f64,
) -> Result<BatchNormTrainOutput> {
    let mut all = vec![x, moving_mean, moving_variance];
    all.extend(gamma);
    all.extend(beta);
    let device = common_device(OP, &all)?;
    let s = spec_for(x, &[gamma, beta, Some(moving_mean), Some(moving_variance)], epsilon, momentum)?;
    on_device!(device, x.dtype(), OP,
        cpu::<F> => {
            let o = reference::batch_norm_train(
                F::slice(x, OP)?,
                opt::<F>(gamma)?,
                opt::<F>(beta)?,
                F::slice(moving_mean, OP)?,
                F::slice(moving_variance, OP)?,
                &s,
            )?;
            let c = [s.channels];
            Ok(BatchNormTrainOutput {
                y: Tensor::from_cpu(x.shape(), F::wrap(o.y)),
                batch_mean: Tensor::from_cpu(&c, F::wrap(o.batch_mean)),
                batch_variance: Tensor::from_cpu(&c, F::wrap(o.batch_variance)),
                moving_mean: Tensor::from_cpu(&c, F::wrap(o.moving_mean)),
                moving_variance: Tensor::from_cpu(&c, F::wrap(o.moving_variance)),
            })
        },
        gpu(ctx) => {
            let stats = gpu::moments(ctx, device, x, s.rows, s.channels)?;
            let gamma = or_fill(gamma, x, 1.0, s.channels)?;
            let beta = or_fill(beta, x, 0.0, s.channels)?;
            let y = gpu::scale_shift(ctx, device, x, &stats, &gamma, &beta, epsilon as f32)?;
            let c = [s.channels];
            let batch_mean = stats.slice(&[0, 0], &[1, s.channels])?.reshape(&[-1])?;
            let batch_variance = stats.slice(&[1, 0], &[1, s.channels])?.reshape(&[-1])?;
            let update = |moving: &Tensor, batch: &Tensor| -> Result<Tensor> {
                moving.affine(momentum, 0.0)?.add(&batch.affine(1.0 - momentum, 0.0)?)?.reshape(&[c[0] as isize])
            };
            Ok(BatchNormTrainOutput {
                moving_mean: update(moving_mean, &batch_mean)?,
                moving_variance: update(moving_variance, &batch_variance)?,
                y,
                batch_mean,
                batch_variance,
            })
        },
    )
}

/// Inference-mode pass: normalize with the moving statistics.
pub fn batch_norm_inference(
    x: &Tensor,
    gamma: Option<&Tensor>,
    beta: Option<&Tensor>,
    moving_mean: &Tensor,
    moving_variance: &Tensor,
    epsilon: f64,
) -> Result<Tensor> {
    let mut all = vec![x, moving_mean, moving_variance];
    all.extend(gamma);
    all.extend(beta);
    let device = common_device(OP, &all)?;
    let s = spec_for(x, &[gamma, beta, Some(moving_mean), Some(moving_variance)], epsilon, DEFAULT_MOMENTUM)?;
    on_device!(device, x.dtype(), OP,
        cpu::<F> => {
            let y = reference::batch_norm_inference(
                F::slice(x, OP)?,
                opt::<F>(gamma)?,
                opt::<F>(beta)?,
                F::slice(moving_mean, OP)?,
                F::slice(moving_variance, OP)?,
                &s,
            )?;
            Ok(Tensor::from_cpu(x.shape(), F::wrap(y)))
        },
        gpu(ctx) => {
            let stats = stats_of(moving_mean, moving_variance)?;
            let gamma = or_fill(gamma, x, 1.0, s.channels)?;
            let beta = or_fill(beta, x, 0.0, s.channels)?;
            gpu::scale_shift(ctx, device, x, &stats, &gamma, &beta, epsilon as f32)
        },
    )
}

/// Gradients of the training-mode pass (through the batch statistics).
pub fn batch_norm_train_grad(x: &Tensor, gamma: Option<&Tensor>, dy: &Tensor, epsilon: f64) -> Result<BatchNormGrads> {
    let mut all = vec![x, dy];
    all.extend(gamma);
    let device = common_device(OP, &all)?;
    ensure!(dy.shape() == x.shape(), "{OP}: gradient {} does not match input {}", dy.describe(), x.describe());
    let s = spec_for(x, &[gamma], epsilon, DEFAULT_MOMENTUM)?;
    on_device!(device, x.dtype(), OP,
        cpu::<F> => {
            let o = reference::batch_norm_train_grad(F::slice(x, OP)?, opt::<F>(gamma)?, F::slice(dy, OP)?, &s)?;
            Ok(grads_from_cpu::<F>(x, s.channels, o))
        },
        gpu(ctx) => {
            let stats = gpu::moments(ctx, device, x, s.rows, s.channels)?;
            gpu_grads(ctx, device, x, &stats, gamma, dy, &s, true)
        },
    )
}

/// Gradients of the inference-mode pass (moving statistics are constants).
pub fn batch_norm_inference_grad(
    x: &Tensor,
    gamma: Option<&Tensor>,
    moving_mean: &Tensor,
    moving_variance: &Tensor,
    dy: &Tensor,
    epsilon: f64,
) -> Result<BatchNormGrads> {
    let mut all = vec![x, dy, moving_mean, moving_variance];
    all.extend(gamma);
    let device = common_device(OP, &all)?;
    ensure!(dy.shape() == x.shape(), "{OP}: gradient {} does not match input {}", dy.describe(), x.describe());
    let s = spec_for(x, &[gamma, Some(moving_mean), Some(moving_variance)], epsilon, DEFAULT_MOMENTUM)?;
    on_device!(device, x.dtype(), OP,
        cpu::<F> => {
            let o = reference::batch_norm_inference_grad(
                F::slice(x, OP)?,
                opt::<F>(gamma)?,
                F::slice(moving_mean, OP)?,
                F::slice(moving_variance, OP)?,
                F::slice(dy, OP)?,
                &s,
            )?;
            Ok(grads_from_cpu::<F>(x, s.channels, o))
        },
        gpu(ctx) => {
            let stats = stats_of(moving_mean, moving_variance)?;
            gpu_grads(ctx, device, x, &stats, gamma, dy, &s, false)
        },
    )
}

fn grads_from_cpu<F: CpuFloat>(x: &Tensor, channels: usize, o: reference::BatchNormGrads<F>) -> BatchNormGrads {
    BatchNormGrads {
        input: Tensor::from_cpu(x.shape(), F::wrap(o.input)),
        gamma: Tensor::from_cpu(&[channels], F::wrap(o.gamma)),
        beta: Tensor::from_cpu(&[channels], F::wrap(o.beta)),
    }
}

#[allow(clippy::too_many_arguments)]
fn gpu_grads(
    ctx: &crate::gpu::GpuContext,
    device: &crate::Device,
    x: &Tensor,
    stats: &Tensor,
    gamma: Option<&Tensor>,
    dy: &Tensor,
    s: &BatchNormSpec,
    training: bool,
) -> Result<BatchNormGrads> {
    let eps = s.epsilon as f32;
    let gamma = or_fill(gamma, x, 1.0, s.channels)?;
    let sums = gpu::grad_sums(ctx, device, x, stats, dy, eps)?;
    let input = gpu::grad_input(ctx, device, x, stats, &gamma, dy, &sums, eps, training)?;
    Ok(BatchNormGrads {
        input,
        beta: sums.slice(&[0, 0], &[1, s.channels])?.reshape(&[-1])?,
        gamma: sums.slice(&[1, 0], &[1, s.channels])?.reshape(&[-1])?,
    })
}
