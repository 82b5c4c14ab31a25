//! Host code of shaders/optim_update.wgsl: its uniform block and its launches.

use crate::error::Result;
use crate::gpu::params::uniform_block;
use crate::gpu::{grid_1d, GpuBuffer, GpuContext, Stem, WG_1D};
use crate::ops::optim_update::spec::{adam_alpha, OptimizerConfig};
use crate::tensor::{DType, Tensor};
use crate::{bail, ensure, Device};

uniform_block! {
    /// shaders/optim_update.wgsl `struct Params`.
    pub(crate) struct OptimUpdateParams {
        pub n: u32,
        pub missing: u32,
        pub nesterov: u32,
        pub _pad: u32,
        pub lr: f32,
        pub momentum: f32,
        pub rho: f32,
        pub one_minus_rho: f32,
        pub epsilon: f32,
        pub one_minus_beta_1: f32,
        pub one_minus_beta_2: f32,
        pub alpha: f32,
    }
}

/// The kernel and the roles (a/b/c = 0/1/2) of the config's slots, in order.
fn kernel(config: &OptimizerConfig) -> (&'static str, Vec<usize>) {
    match *config {
        OptimizerConfig::Sgd { momentum, .. } => {
            if momentum != 0.0 {
                ("sgd_momentum", vec![0])
            } else {
                ("sgd", vec![])
            }
        }
        OptimizerConfig::RmsProp { momentum, centered, .. } => match (momentum > 0.0, centered) {
            (false, false) => ("rmsprop", vec![0]),
            (true, false) => ("rmsprop_momentum", vec![0, 1]),
            (false, true) => ("rmsprop_centered", vec![0, 2]),
            (true, true) => ("rmsprop_centered_momentum", vec![0, 1, 2]),
        },
        OptimizerConfig::Adam { amsgrad, .. } => {
            if amsgrad {
                ("adam_amsgrad", vec![0, 1, 2])
            } else {
                ("adam", vec![0, 1])
            }
        }
    }
}

/// One optimizer step on the GPU: the new parameter and the slots the kernel writes.
pub(crate) fn update(
    ctx: &GpuContext,
    device: &Device,
    param: &Tensor,
    grad: &Tensor,
    slots: &[Option<&Tensor>],
    config: &OptimizerConfig,
    step: usize,
) -> Result<(Tensor, Vec<Tensor>)> {
    let op = config.keras_class();
    ensure!(param.dtype() == DType::F32, "{op}: GPU parameters are float32, got {}", param.describe());
    let n = param.numel();
    let (entry, roles) = kernel(config);
    if roles.len() != slots.len() {
        bail!("{op}: internal: {} slots for kernel {entry}", slots.len());
    }
    // (lr, momentum, rho, epsilon, beta_1, beta_2, alpha, nesterov)
    let (lr, momentum, rho, epsilon, b1, b2, alpha, nesterov) = match *config {
        OptimizerConfig::Sgd { learning_rate, momentum, nesterov } => {
            (learning_rate, momentum, 0.0, 0.0, 0.0, 0.0, 0.0, nesterov)
        }
        OptimizerConfig::RmsProp { learning_rate, rho, momentum, epsilon, .. } => {
            (learning_rate, momentum, rho, epsilon, 0.0, 0.0, 0.0, false)
        }
        OptimizerConfig::Adam { learning_rate, beta_1, beta_2, epsilon, .. } => {
            let alpha = adam_alpha(learning_rate, beta_1, beta_2, step);
            (learning_rate, 0.0, 0.0, epsilon, beta_1, beta_2, alpha, false)
        }
    };
    let mut missing = 0usize;
    for (s, &role) in slots.iter().zip(&roles) {
        if s.is_none() {
            missing |= 1 << role;
        }
    }
    let params = OptimUpdateParams {
        n: n as u32,
        missing: missing as u32,
        nesterov: nesterov as u32,
        _pad: 0,
        lr: lr as f32,
        momentum: momentum as f32,
        rho: rho as f32,
        one_minus_rho: (1.0 - rho) as f32,
        epsilon: epsilon as f32,
        one_minus_beta_1: (1.0 - b1) as f32,
        one_minus_beta_2: (1.0 - b2) as f32,
        alpha: alpha as f32,
    };
    let g = grad.gpu_buffer()?;
    let param_out = ctx.alloc((n * 4) as u64, op)?;
    let slot_out: Vec<GpuBuffer> = roles.iter().map(|_| ctx.alloc((n * 4) as u64, op)).collect::<Result<_>>()?;
    let mut bindings: Vec<(u32, &GpuBuffer)> = vec![(1, param.gpu_buffer()?), (2, g), (6, &param_out)];
    for ((s, &role), out) in slots.iter().zip(&roles).zip(&slot_out) {
        // A missing slot reads as zero; the gradient stands in for its binding.
        let input = match s {
            Some(t) => t.gpu_buffer()?,
            None => g,
        };
        bindings.push((3 + role as u32, input));
        bindings.push((7 + role as u32, out));
    }
    ctx.launch(Stem::OptimUpdate, entry, &[], &params, &bindings, grid_1d(n, WG_1D))?;
    let shape = param.shape();
    Ok((
        Tensor::from_gpu_buffer(device, param_out, shape, DType::F32),
        slot_out.into_iter().map(|b| Tensor::from_gpu_buffer(device, b, shape, DType::F32)).collect(),
    ))
}
