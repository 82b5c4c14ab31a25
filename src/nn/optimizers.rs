//! Keras optimizers: per-weight slot tensors and the fused update kernels of
//! ops/optim_update.rs. Weights are replaced by their updated values each step.

use std::collections::HashMap;
use std::rc::Rc;

use crate::error::Result;
use crate::nn::layer::{Weight, WeightRef};
use crate::ops::optim_update::{update, OptimizerConfig};
use crate::tensor::Tensor;

pub struct Optimizer {
    pub config: OptimizerConfig,
    slots: HashMap<*const Weight, Vec<Tensor>>,
    /// Steps taken (Keras `optimizer.iterations`).
    pub iterations: usize,
}

impl Optimizer {
    pub fn new(config: OptimizerConfig) -> Optimizer {
        Optimizer { config, slots: HashMap::new(), iterations: 0 }
    }

    /// "adam", "rmsprop" or "sgd" with Keras's defaults.
    pub fn from_name(name: &str) -> Result<Optimizer> {
        Ok(Optimizer::new(OptimizerConfig::from_keras_name(name)?))
    }

    pub fn apply(&mut self, weights: &[WeightRef], grads: &[Option<Tensor>]) -> Result<()> {
        self.iterations += 1;
        for (w, g) in weights.iter().zip(grads) {
            let Some(g) = g else { continue };
            let p = w.value();
            let slots = match self.slots.remove(&Rc::as_ptr(w)) {
                Some(s) => s,
                None => self.config.new_slots(&p)?,
            };
            let (new_param, new_slots) = update(&p, g, &slots, &self.config, self.iterations)
                .map_err(|e| e.context(format!("updating {}", w.path)))?;
            self.slots.insert(Rc::as_ptr(w), new_slots);
            w.set(new_param)?;
        }
        Ok(())
    }
}
