//! Host code of shaders/batch_norm.wgsl: its uniform block and its launches.

use crate::error::Result;
use super::ChannelChunks;
use crate::gpu::params::uniform_block;
use crate::gpu::{grid_1d, GpuBuffer, GpuContext, Stem, WG_1D};
use crate::tensor::{DType, Tensor};
use crate::Device;

uniform_block! {
    /// shaders/batch_norm.wgsl `struct Params`.
    pub(crate) struct BatchNormParams {
        pub rows: u32,
        pub channels: u32,
        pub epsilon: f32,
        pub training: u32,
        pub tile_c: u32,
        pub chunk: u32,
        pub chunks: u32,
        pub momentum: f32,
        pub relu: u32,
        pub _pad0: u32,
        pub _pad1: u32,
        pub _pad2: u32,
    }
}

fn params(rows: usize, channels: usize, epsilon: f32, training: bool) -> BatchNormParams {
    let split = ChannelChunks::of(channels, rows);
    BatchNormParams {
        rows: rows as u32,
        channels: channels as u32,
        epsilon,
        training: training as u32,
        tile_c: split.tile_c,
        chunk: split.chunk,
        chunks: split.chunks,
        momentum: 0.0,
        ..Default::default()
    }
}

/// Per-channel sums in two passes: `partial` leaves [chunks][2][C] sums, `finish` adds
/// them into `out` ([2, C]); `inputs` are the first pass's storage bindings.
fn channel_sums(
    ctx: &GpuContext,
    (partial, finish): (&'static str, &'static str),
    p: &BatchNormParams,
    inputs: &[(u32, &GpuBuffer)],
    finish_inputs: &[(u32, &GpuBuffer)],
    out: &GpuBuffer,
) -> Result<()> {
    let channels = p.channels as usize;
    let split = ChannelChunks { tile_c: p.tile_c, chunk: p.chunk, chunks: p.chunks };
    let partials = ctx.alloc((split.chunks as usize * 2 * channels * 4) as u64, "batch_norm partial sums")?;
    let mut first = inputs.to_vec();
    first.push((5, &partials));
    ctx.launch(Stem::BatchNorm, partial, &[], p, &first, grid_1d(split.groups(channels), 1))?;
    let mut second = finish_inputs.to_vec();
    second.extend([(9, &partials), (5, out)]);
    ctx.launch(Stem::BatchNorm, finish, &[], p, &second, grid_1d(2 * channels, WG_1D))
}

/// Per-channel (mean, biased variance) as one [2, C] tensor.
pub(crate) fn moments(ctx: &GpuContext, device: &Device, x: &Tensor, rows: usize, channels: usize) -> Result<Tensor> {
    let out = ctx.alloc((2 * channels * 4) as u64, "batch_norm")?;
    let x = x.gpu_buffer()?;
    channel_sums(ctx, ("moments_partial", "moments_finish"), &params(rows, channels, 0.0, true), &[(1, x)], &[(1, x)], &out)?;
    Ok(Tensor::from_gpu_buffer(device, out, &[2, channels], DType::F32))
}

/// A training batch's statistics and the moving ones after it.
pub(crate) struct MomentsUpdate {
    /// [mean; biased variance], [2, C].
    pub stats: Tensor,
    pub moving_mean: Tensor,
    pub moving_variance: Tensor,
}

/// `moments`, with the moving statistics moved in the same launches.
pub(crate) fn moments_update(
    ctx: &GpuContext,
    device: &Device,
    x: &Tensor,
    (rows, channels): (usize, usize),
    moving_mean: &Tensor,
    moving_variance: &Tensor,
    momentum: f32,
) -> Result<MomentsUpdate> {
    let out = ctx.alloc((2 * channels * 4) as u64, "batch_norm")?;
    let mean_out = ctx.alloc((channels * 4) as u64, "batch_norm moving mean")?;
    let variance_out = ctx.alloc((channels * 4) as u64, "batch_norm moving variance")?;
    let x = x.gpu_buffer()?;
    let p = BatchNormParams { momentum, ..params(rows, channels, 0.0, true) };
    let finish = [
        (1, x),
        (10, moving_mean.gpu_buffer()?),
        (11, moving_variance.gpu_buffer()?),
        (12, &mean_out),
        (13, &variance_out),
    ];
    channel_sums(ctx, ("moments_partial", "moments_finish_update"), &p, &[(1, x)], &finish, &out)?;
    let c = [channels];
    Ok(MomentsUpdate {
        stats: Tensor::from_gpu_buffer(device, out, &[2, channels], DType::F32),
        moving_mean: Tensor::from_gpu_buffer(device, mean_out, &c, DType::F32),
        moving_variance: Tensor::from_gpu_buffer(device, variance_out, &c, DType::F32),
    })
}

/// (x - mean) / sqrt(var + eps) * gamma + beta with `stats` = [mean; var].
pub(crate) fn scale_shift(
    ctx: &GpuContext,
    device: &Device,
    x: &Tensor,
    stats: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    epsilon: f32,
    relu: bool,
) -> Result<Tensor> {
    let channels = gamma.numel();
    let rows = x.numel() / channels.max(1);
    let out = ctx.alloc_tensor("batch_norm output", x.shape(), DType::F32)?;
    ctx.launch(
        Stem::BatchNorm,
        "scale_shift",
        &[],
        &BatchNormParams { relu: relu as u32, ..params(rows, channels, epsilon, true) },
        &[(1, x.gpu_buffer()?), (2, stats.gpu_buffer()?), (3, gamma.gpu_buffer()?), (4, beta.gpu_buffer()?), (6, &out)],
        grid_1d(x.numel(), WG_1D),
    )?;
    Ok(Tensor::from_gpu_buffer(device, out, x.shape(), DType::F32))
}

/// (sum(dy), sum(dy * xhat)) per channel: the beta and gamma gradients. `y_relu`: the
/// output of a fused ReLU, which masks dy.
pub(crate) fn grad_sums(
    ctx: &GpuContext,
    device: &Device,
    x: &Tensor,
    stats: &Tensor,
    dy: &Tensor,
    y_relu: Option<&Tensor>,
    epsilon: f32,
) -> Result<(Tensor, Tensor)> {
    let channels = stats.numel() / 2;
    let rows = x.numel() / channels.max(1);
    let sum_dy = ctx.alloc((channels * 4) as u64, "batch_norm beta gradient")?;
    let sum_dy_xhat = ctx.alloc((channels * 4) as u64, "batch_norm gamma gradient")?;
    let dy_buf = dy.gpu_buffer()?;
    // Without a ReLU, dy stands in for the unread binding.
    let y_buf = y_relu.map(|y| y.gpu_buffer()).transpose()?.unwrap_or(dy_buf);
    channel_sums(
        ctx,
        ("grad_sums_partial", "grad_sums_finish"),
        &BatchNormParams { relu: y_relu.is_some() as u32, ..params(rows, channels, epsilon, true) },
        &[(1, x.gpu_buffer()?), (2, stats.gpu_buffer()?), (7, dy_buf), (15, y_buf)],
        &[(6, &sum_dy_xhat)],
        &sum_dy,
    )?;
    let c = [channels];
    Ok((
        Tensor::from_gpu_buffer(device, sum_dy, &c, DType::F32),
        Tensor::from_gpu_buffer(device, sum_dy_xhat, &c, DType::F32),
    ))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn grad_input(
    ctx: &GpuContext,
    device: &Device,
    x: &Tensor,
    stats: &Tensor,
    gamma: &Tensor,
    dy: &Tensor,
    (sum_dy, sum_dy_xhat): (&Tensor, &Tensor),
    y_relu: Option<&Tensor>,
    epsilon: f32,
    training: bool,
) -> Result<Tensor> {
    let channels = gamma.numel();
    let rows = x.numel() / channels.max(1);
    let out = ctx.alloc_tensor("batch_norm input gradient", x.shape(), DType::F32)?;
    let dy_buf = dy.gpu_buffer()?;
    let y_buf = y_relu.map(|y| y.gpu_buffer()).transpose()?.unwrap_or(dy_buf);
    ctx.launch(
        Stem::BatchNorm,
        "grad_input",
        &[],
        &BatchNormParams { relu: y_relu.is_some() as u32, ..params(rows, channels, epsilon, training) },
        &[
            (1, x.gpu_buffer()?),
            (2, stats.gpu_buffer()?),
            (3, gamma.gpu_buffer()?),
            (7, dy_buf),
            (15, y_buf),
            (8, sum_dy.gpu_buffer()?),
            (14, sum_dy_xhat.gpu_buffer()?),
            (6, &out),
        ],
        grid_1d(x.numel(), WG_1D),
    )?;
    Ok(Tensor::from_gpu_buffer(device, out, x.shape(), DType::F32))
}
