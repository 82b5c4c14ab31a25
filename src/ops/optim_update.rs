//! Fused optimizer updates with Keras 3's formulas and defaults (SGD, RMSprop, Adam):
//! one kernel reads a parameter, its gradient and its slot variables and writes the new
//! parameter and new slots as fresh tensors (tensors are immutable). The formulas, slot
//! order and defaults are documented in reference/optim_update.rs; the GPU kernels are
//! shaders/optim_update.wgsl.
//!
//! Slots start at zero, as Keras creates them: pass no slots (or `None`) on the first
//! step. Adam's `step` is the 1-based update count (Keras's `iterations + 1` at the time
//! of the update). Learning-rate schedules, weight decay, gradient clipping and EMA are
//! the caller's business (none is on by default in Keras).

pub(crate) mod spec;
pub use spec::{adam_alpha, OptimizerConfig};

use super::{common_device, on_device, require_float, CpuFloat};
use crate::error::Result;
use crate::gpu::kernels::optim_update as gpu;
use crate::ops::elementwise::fill;
use crate::reference::optim_update as reference;
use crate::tensor::{DType, Tensor};
use crate::{bail, ensure};

impl OptimizerConfig {
    /// Zero slot variables for `param`, in Keras's order (see `slot_names`). Passing
    /// these or no slots at all to `update` is the same.
    pub fn new_slots(&self, param: &Tensor) -> Result<Vec<Tensor>> {
        (0..self.slot_count())
            .map(|_| match param.dtype() {
                DType::F64 => Tensor::from_f64(param.device(), vec![0.0; param.numel()], param.shape()),
                _ => fill(param.device(), param.shape(), 0.0),
            })
            .collect()
    }
}

/// One update of `param` by `grad`. `slots` is either empty (the first step: all slots
/// zero) or exactly `config.slot_count()` tensors in Keras's order; `step` counts from 1
/// (only Adam uses it). Returns the new parameter and the new slots.
pub fn update(
    param: &Tensor,
    grad: &Tensor,
    slots: &[Tensor],
    config: &OptimizerConfig,
    step: usize,
) -> Result<(Tensor, Vec<Tensor>)> {
    let slots: Vec<Option<&Tensor>> =
        if slots.is_empty() { vec![None; config.slot_count()] } else { slots.iter().map(Some).collect() };
    update_with(param, grad, &slots, config, step)
}

/// `update` with each slot given or absent (absent = zero, Keras's initial value).
pub fn update_with(
    param: &Tensor,
    grad: &Tensor,
    slots: &[Option<&Tensor>],
    config: &OptimizerConfig,
    step: usize,
) -> Result<(Tensor, Vec<Tensor>)> {
    let op = config.keras_class();
    config.validate()?;
    require_float(op, param)?;
    ensure!(
        grad.shape() == param.shape() && grad.dtype() == param.dtype(),
        "{op}: gradient {} does not match parameter {}",
        grad.describe(),
        param.describe()
    );
    let names = config.slot_names();
    ensure!(
        slots.len() == names.len(),
        "{op}: {} slot variables given for parameter {}, {} expected ({})",
        slots.len(),
        param.describe(),
        names.len(),
        names.join(", ")
    );
    for (s, name) in slots.iter().zip(&names) {
        if let Some(s) = s {
            ensure!(
                s.shape() == param.shape() && s.dtype() == param.dtype(),
                "{op}: slot {name} {} does not match parameter {}",
                s.describe(),
                param.describe()
            );
        }
    }
    if let OptimizerConfig::Adam { .. } = config {
        ensure!(step >= 1, "{op}: steps count from 1 (Keras's iterations + 1), got {step}");
    }
    let mut all = vec![param, grad];
    all.extend(slots.iter().filter_map(|s| *s));
    let device = common_device(op, &all)?;
    on_device!(device, param.dtype(), op,
        cpu::<F> => cpu::<F>(param, grad, slots, config, step),
        gpu(ctx) => gpu::update(ctx, device, param, grad, slots, config, step),
    )
}

fn cpu<F: CpuFloat>(
    param: &Tensor,
    grad: &Tensor,
    slots: &[Option<&Tensor>],
    config: &OptimizerConfig,
    step: usize,
) -> Result<(Tensor, Vec<Tensor>)> {
    let op = config.keras_class();
    let n = param.numel();
    let mut s: Vec<Vec<F>> = slots
        .iter()
        .map(|t| match t {
            Some(t) => F::slice(t, op).map(<[F]>::to_vec),
            None => Ok(vec![F::zero(); n]),
        })
        .collect::<Result<_>>()?;
    let out = reference::update(config, F::slice(param, op)?, F::slice(grad, op)?, &mut s, step)?;
    let shape = param.shape();
    Ok((Tensor::from_cpu(shape, F::wrap(out)), s.into_iter().map(|v| Tensor::from_cpu(shape, F::wrap(v))).collect()))
}

/// Keras SGD. `velocity` is the momentum slot (None on the first step); it is returned
/// when momentum != 0 (Keras keeps no slot otherwise).
pub fn sgd_update(
    param: &Tensor,
    grad: &Tensor,
    velocity: Option<&Tensor>,
    learning_rate: f64,
    momentum: f64,
    nesterov: bool,
) -> Result<(Tensor, Option<Tensor>)> {
    let config = OptimizerConfig::Sgd { learning_rate, momentum, nesterov };
    let slots: Vec<Option<&Tensor>> = if config.slot_count() == 1 { vec![velocity] } else { vec![] };
    let (p, mut s) = update_with(param, grad, &slots, &config, 1)?;
    Ok((p, s.pop()))
}

/// New parameter and slots of one RMSprop step.
#[derive(Clone, Debug)]
pub struct RmsPropUpdate {
    /// The updated parameter.
    pub param: Tensor,
    /// The updated moving mean of squared gradients.
    pub velocity: Tensor,
    /// Present when momentum > 0.
    pub momentum: Option<Tensor>,
    /// Present when centered.
    pub average_gradient: Option<Tensor>,
}

/// Keras RMSprop. Slots that are None start at zero; `momentum_slot` is used when
/// momentum > 0 and `average_gradient` when centered.
#[allow(clippy::too_many_arguments)]
pub fn rmsprop_update(
    param: &Tensor,
    grad: &Tensor,
    velocity: Option<&Tensor>,
    momentum_slot: Option<&Tensor>,
    average_gradient: Option<&Tensor>,
    learning_rate: f64,
    rho: f64,
    momentum: f64,
    epsilon: f64,
    centered: bool,
) -> Result<RmsPropUpdate> {
    let config = OptimizerConfig::RmsProp { learning_rate, rho, momentum, epsilon, centered };
    let mut slots = vec![velocity];
    if momentum > 0.0 {
        slots.push(momentum_slot);
    }
    if centered {
        slots.push(average_gradient);
    }
    let (param, s) = update_with(param, grad, &slots, &config, 1)?;
    let mut s = s.into_iter();
    let velocity = s.next().ok_or_else(|| crate::Error::new("RMSprop: internal: no velocity slot"))?;
    let momentum = if momentum > 0.0 { s.next() } else { None };
    let average_gradient = if centered { s.next() } else { None };
    Ok(RmsPropUpdate { param, velocity, momentum, average_gradient })
}

/// Keras Adam (amsgrad false; use `update` with `OptimizerConfig::Adam { amsgrad: true,
/// .. }` for AMSGrad). `m`, `v` None start at zero; `step` counts from 1. Returns the
/// new (param, m, v).
#[allow(clippy::too_many_arguments)]
pub fn adam_update(
    param: &Tensor,
    grad: &Tensor,
    m: Option<&Tensor>,
    v: Option<&Tensor>,
    step: usize,
    learning_rate: f64,
    beta_1: f64,
    beta_2: f64,
    epsilon: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    let config = OptimizerConfig::Adam { learning_rate, beta_1, beta_2, epsilon, amsgrad: false };
    let (p, s) = update_with(param, grad, &[m, v], &config, step)?;
    match <[Tensor; 2]>::try_from(s) {
        Ok([m, v]) => Ok((p, m, v)),
        Err(_) => bail!("Adam: internal: expected two slots"),
    }
}
