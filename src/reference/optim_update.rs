//! Optimizer updates on the CPU: Keras 3's `update_step` of SGD, RMSprop and Adam
//! (keras/src/optimizers/{sgd,rmsprop,adam}.py), written in the same operation order so
//! f32 results track Keras's float32 ones. shaders/optim_update.wgsl is the GPU twin.
//!
//! ```text
//! SGD      momentum == 0:  p -= lr g
//!          momentum != 0:  m = m momentum - g lr
//!                          p += m                      (nesterov: p += m momentum - g lr)
//! RMSprop  v = rho v + (1 - rho) g²
//!          centered:       a = rho a + (1 - rho) g;  d = v - a² + eps     else d = v + eps
//!          inc = lr g / sqrt(d)                         (epsilon inside the square root)
//!          momentum > 0:   s = momentum s + inc;  p -= s                  else p -= inc
//! Adam     t = step (Keras's iterations + 1, so the first update has t = 1)
//!          alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
//!          m += (g - m)(1 - beta_1);  v += (g² - v)(1 - beta_2)
//!          amsgrad:        vh = max(vh, v), used in place of v
//!          p -= m alpha / (sqrt(v) + eps)               (epsilon outside the square root)
//! ```
//! Slots, in Keras's order (each shaped like the parameter, starting at zero): SGD
//! `[momentum]` only when momentum != 0; RMSprop `[velocity, momentum (momentum > 0),
//! average_gradient (centered)]`; Adam `[momentum, velocity, velocity_hat (amsgrad)]`.

use super::{c, Real};
use crate::ops::optim_update::spec::{adam_alpha, OptimizerConfig};
use crate::error::Result;
use crate::ensure;


/// One update: returns the new parameter values and updates `slots` (exactly
/// `config.slot_count()` vectors shaped like `param`, zeros before the first step).
pub fn update<F: Real>(
    config: &OptimizerConfig,
    param: &[F],
    grad: &[F],
    slots: &mut [Vec<F>],
    step: usize,
) -> Result<Vec<F>> {
    let what = config.keras_class();
    config.validate()?;
    let n = param.len();
    ensure!(grad.len() == n, "{what}: {} gradient values for {n} parameters", grad.len());
    ensure!(
        slots.len() == config.slot_count(),
        "{what}: {} slot variables given, {} expected ({:?})",
        slots.len(),
        config.slot_count(),
        config.slot_names()
    );
    for (s, name) in slots.iter().zip(config.slot_names()) {
        ensure!(s.len() == n, "{what}: slot {name} has {} values for {n} parameters", s.len());
    }
    let mut out = Vec::with_capacity(n);
    match *config {
        OptimizerConfig::Sgd { learning_rate, momentum, nesterov } => {
            let lr: F = c(learning_rate);
            let mo: F = c(momentum);
            for i in 0..n {
                let g = grad[i];
                if slots.is_empty() {
                    out.push(param[i] - g * lr);
                    continue;
                }
                let m = slots[0][i] * mo - g * lr;
                slots[0][i] = m;
                out.push(if nesterov { param[i] + (m * mo - g * lr) } else { param[i] + m });
            }
        }
        OptimizerConfig::RmsProp { learning_rate, rho, momentum, epsilon, centered } => {
            let lr: F = c(learning_rate);
            let (r, one_minus_r): (F, F) = (c(rho), c(1.0 - rho));
            let mo: F = c(momentum);
            let eps: F = c(epsilon);
            let has_momentum = momentum > 0.0;
            let avg_slot = if has_momentum { 2 } else { 1 };
            for i in 0..n {
                let g = grad[i];
                let v = r * slots[0][i] + one_minus_r * (g * g);
                slots[0][i] = v;
                let d = if centered {
                    let a = r * slots[avg_slot][i] + one_minus_r * g;
                    slots[avg_slot][i] = a;
                    v - a * a + eps
                } else {
                    v + eps
                };
                let inc = lr * g / d.sqrt();
                if has_momentum {
                    let s = mo * slots[1][i] + inc;
                    slots[1][i] = s;
                    out.push(param[i] - s);
                } else {
                    out.push(param[i] - inc);
                }
            }
        }
        OptimizerConfig::Adam { learning_rate, beta_1, beta_2, epsilon, amsgrad } => {
            ensure!(step >= 1, "{what}: steps count from 1 (Keras's iterations + 1), got {step}");
            let alpha: F = c(adam_alpha(learning_rate, beta_1, beta_2, step));
            let (one_minus_b1, one_minus_b2): (F, F) = (c(1.0 - beta_1), c(1.0 - beta_2));
            let eps: F = c(epsilon);
            for i in 0..n {
                let g = grad[i];
                let m = slots[0][i] + (g - slots[0][i]) * one_minus_b1;
                let mut v = slots[1][i] + (g * g - slots[1][i]) * one_minus_b2;
                slots[0][i] = m;
                slots[1][i] = v;
                if amsgrad {
                    v = slots[2][i].max(v);
                    slots[2][i] = v;
                }
                out.push(param[i] - m * alpha / (v.sqrt() + eps));
            }
        }
    }
    Ok(out)
}
