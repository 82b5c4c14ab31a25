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
    /// The batch's [mean; biased variance] per channel, [2, C]: the backward pass reads
    /// them instead of computing them again.
    pub batch_stats: Tensor,
    /// Moving mean after this batch's update.
    pub moving_mean: Tensor,
    /// Moving variance after this batch's update.
    pub moving_variance: Tensor,
}

impl BatchNormTrainOutput {
    /// The batch's mean per channel.
    pub fn batch_mean(&self) -> Result<Tensor> {
        self.batch_stats.slice(&[0, 0], &[1, self.batch_stats.shape()[1]])?.reshape(&[-1])
    }

    /// The batch's (biased) variance per channel.
    pub fn batch_variance(&self) -> Result<Tensor> {
        self.batch_stats.slice(&[1, 0], &[1, self.batch_stats.shape()[1]])?.reshape(&[-1])
    }
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

/// Keras's ReLU after the normalization, on the CPU reference's output.
fn relu_in_place<F: CpuFloat>(y: &mut [F]) {
    for v in y.iter_mut() {
        *v = v.max(F::zero());
    }
}

/// dy where the fused ReLU's output is positive, zero elsewhere (TensorFlow's ReluGrad).
fn relu_masked<'a, F: CpuFloat>(dy: &'a [F], y_relu: Option<&Tensor>) -> Result<std::borrow::Cow<'a, [F]>> {
    let Some(y) = y_relu else { return Ok(std::borrow::Cow::Borrowed(dy)) };
    let y = F::slice(y, OP)?;
    Ok(std::borrow::Cow::Owned(dy.iter().zip(y).map(|(&g, &v)| if v > F::zero() { g } else { F::zero() }).collect()))
}

fn check_relu_output(x: &Tensor, y_relu: Option<&Tensor>) -> Result<()> {
    if let Some(y) = y_relu {
        ensure!(y.shape() == x.shape(), "{OP}: ReLU output {} does not match input {}", y.describe(), x.describe());
    }
    Ok(())
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
    batch_norm_train_fused(x, gamma, beta, moving_mean, moving_variance, epsilon, momentum, false)
}

/// `batch_norm_train`, then a ReLU when `relu` (Keras BatchNormalization followed by
/// Activation("relu")) in the same pass over the data.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_train_fused(
    x: &Tensor,
    gamma: Option<&Tensor>,
    beta: Option<&Tensor>,
    moving_mean: &Tensor,
    moving_variance: &Tensor,
    epsilon: f64,
    momentum: f64,
    relu: bool,
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
            let stats = [o.batch_mean, o.batch_variance].concat();
            let mut y = o.y;
            if relu {
                relu_in_place(&mut y);
            }
            Ok(BatchNormTrainOutput {
                y: Tensor::from_cpu(x.shape(), F::wrap(y)),
                batch_stats: Tensor::from_cpu(&[2, s.channels], F::wrap(stats)),
                moving_mean: Tensor::from_cpu(&c, F::wrap(o.moving_mean)),
                moving_variance: Tensor::from_cpu(&c, F::wrap(o.moving_variance)),
            })
        },
        gpu(ctx) => {
            let m = gpu::moments_update(ctx, device, x, (s.rows, s.channels), moving_mean, moving_variance, momentum as f32)?;
            let gamma = or_fill(gamma, x, 1.0, s.channels)?;
            let beta = or_fill(beta, x, 0.0, s.channels)?;
            let y = gpu::scale_shift(ctx, device, x, &m.stats, &gamma, &beta, epsilon as f32, relu)?;
            Ok(BatchNormTrainOutput { y, batch_stats: m.stats, moving_mean: m.moving_mean, moving_variance: m.moving_variance })
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
    batch_norm_inference_fused(x, gamma, beta, moving_mean, moving_variance, epsilon, false)
}

/// `batch_norm_inference`, then a ReLU when `relu`, in one pass.
pub fn batch_norm_inference_fused(
    x: &Tensor,
    gamma: Option<&Tensor>,
    beta: Option<&Tensor>,
    moving_mean: &Tensor,
    moving_variance: &Tensor,
    epsilon: f64,
    relu: bool,
) -> Result<Tensor> {
    let mut all = vec![x, moving_mean, moving_variance];
    all.extend(gamma);
    all.extend(beta);
    let device = common_device(OP, &all)?;
    let s = spec_for(x, &[gamma, beta, Some(moving_mean), Some(moving_variance)], epsilon, DEFAULT_MOMENTUM)?;
    on_device!(device, x.dtype(), OP,
        cpu::<F> => {
            let mut y = reference::batch_norm_inference(
                F::slice(x, OP)?,
                opt::<F>(gamma)?,
                opt::<F>(beta)?,
                F::slice(moving_mean, OP)?,
                F::slice(moving_variance, OP)?,
                &s,
            )?;
            if relu {
                relu_in_place(&mut y);
            }
            Ok(Tensor::from_cpu(x.shape(), F::wrap(y)))
        },
        gpu(ctx) => {
            let stats = stats_of(moving_mean, moving_variance)?;
            let gamma = or_fill(gamma, x, 1.0, s.channels)?;
            let beta = or_fill(beta, x, 0.0, s.channels)?;
            gpu::scale_shift(ctx, device, x, &stats, &gamma, &beta, epsilon as f32, relu)
        },
    )
}

/// Gradients of the training-mode pass (through the batch statistics).
pub fn batch_norm_train_grad(x: &Tensor, gamma: Option<&Tensor>, dy: &Tensor, epsilon: f64) -> Result<BatchNormGrads> {
    train_grad(x, None, gamma, dy, None, epsilon)
}

/// `batch_norm_train_grad` given the forward pass's `batch_stats`, which the GPU then
/// does not compute again (the CPU reference recomputes them: they are a function of x),
/// and, after a fused ReLU, its output `y_relu`, which masks dy.
pub fn batch_norm_train_grad_with_stats(
    x: &Tensor,
    batch_stats: &Tensor,
    gamma: Option<&Tensor>,
    dy: &Tensor,
    y_relu: Option<&Tensor>,
    epsilon: f64,
) -> Result<BatchNormGrads> {
    train_grad(x, Some(batch_stats), gamma, dy, y_relu, epsilon)
}

fn train_grad(
    x: &Tensor,
    stats: Option<&Tensor>,
    gamma: Option<&Tensor>,
    dy: &Tensor,
    y_relu: Option<&Tensor>,
    epsilon: f64,
) -> Result<BatchNormGrads> {
    let mut all = vec![x, dy];
    all.extend(gamma);
    all.extend(stats);
    all.extend(y_relu);
    check_relu_output(x, y_relu)?;
    let device = common_device(OP, &all)?;
    ensure!(dy.shape() == x.shape(), "{OP}: gradient {} does not match input {}", dy.describe(), x.describe());
    let s = spec_for(x, &[gamma], epsilon, DEFAULT_MOMENTUM)?;
    if let Some(t) = stats {
        ensure!(
            t.shape() == [2, s.channels],
            "{OP}: batch statistics {} do not match the {} channels of input {}",
            t.describe(),
            s.channels,
            x.describe()
        );
    }
    on_device!(device, x.dtype(), OP,
        cpu::<F> => {
            let dy = relu_masked(F::slice(dy, OP)?, y_relu)?;
            let o = reference::batch_norm_train_grad(F::slice(x, OP)?, opt::<F>(gamma)?, &dy, &s)?;
            Ok(grads_from_cpu::<F>(x, s.channels, o))
        },
        gpu(ctx) => {
            let stats = match stats {
                Some(t) => t.clone(),
                None => gpu::moments(ctx, device, x, s.rows, s.channels)?,
            };
            gpu_grads(ctx, device, x, &stats, gamma, (dy, y_relu), &s, true)
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
    batch_norm_inference_grad_fused(x, gamma, moving_mean, moving_variance, dy, None, epsilon)
}

/// `batch_norm_inference_grad` after a fused ReLU whose output `y_relu` masks dy.
pub fn batch_norm_inference_grad_fused(
    x: &Tensor,
    gamma: Option<&Tensor>,
    moving_mean: &Tensor,
    moving_variance: &Tensor,
    dy: &Tensor,
    y_relu: Option<&Tensor>,
    epsilon: f64,
) -> Result<BatchNormGrads> {
    let mut all = vec![x, dy, moving_mean, moving_variance];
    all.extend(gamma);
    all.extend(y_relu);
    check_relu_output(x, y_relu)?;
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
                &relu_masked(F::slice(dy, OP)?, y_relu)?,
                &s,
            )?;
            Ok(grads_from_cpu::<F>(x, s.channels, o))
        },
        gpu(ctx) => {
            let stats = stats_of(moving_mean, moving_variance)?;
            gpu_grads(ctx, device, x, &stats, gamma, (dy, y_relu), &s, false)
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
    (dy, y_relu): (&Tensor, Option<&Tensor>),
    s: &BatchNormSpec,
    training: bool,
) -> Result<BatchNormGrads> {
    let eps = s.epsilon as f32;
    let gamma = or_fill(gamma, x, 1.0, s.channels)?;
    let (beta, gamma_grad) = gpu::grad_sums(ctx, device, x, stats, dy, y_relu, eps)?;
    let input = gpu::grad_input(ctx, device, x, stats, &gamma, dy, (&beta, &gamma_grad), y_relu, eps, training)?;
    Ok(BatchNormGrads { input, beta, gamma: gamma_grad })
}
