//! Keras optimizers: per-weight slot tensors and the fused update kernels of
//! ops/optim_update.rs. Weights are replaced by their updated values each step.

use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{json, Value};

use crate::bail;
use crate::error::Result;
use crate::nn::layer::{Weight, WeightRef};
use crate::ops::optim_update::{update, OptimizerConfig};
use crate::options::Options;
use crate::tensor::Tensor;

/// `keras.optimizers.SGD(**options)` and its siblings: `class` is an identifier ("sgd") or
/// a class name ("SGD"); absent options take Keras's defaults (`OptimizerConfig::sgd()` etc.).
/// The base-optimizer arguments Keras writes into every config are accepted at their
/// defaults and refused otherwise, since the update kernels do not implement them.
pub fn optimizer_config(class: &str, options: &Value) -> Result<OptimizerConfig> {
    let defaults = OptimizerConfig::from_keras_name(class)?;
    let o = Options::new(defaults.keras_class(), options)?;
    // Keras 2 files may call it "lr".
    let learning_rate = match o.opt_f64("learning_rate")? {
        Some(lr) => lr,
        None => o.f64("lr", defaults.learning_rate())?,
    };
    let config = match defaults {
        OptimizerConfig::Sgd { momentum, nesterov, .. } => OptimizerConfig::Sgd {
            learning_rate,
            momentum: o.f64("momentum", momentum)?,
            nesterov: o.bool("nesterov", nesterov)?,
        },
        OptimizerConfig::RmsProp { rho, momentum, epsilon, centered, .. } => OptimizerConfig::RmsProp {
            learning_rate,
            rho: o.f64("rho", rho)?,
            momentum: o.f64("momentum", momentum)?,
            epsilon: o.f64("epsilon", epsilon)?,
            centered: o.bool("centered", centered)?,
        },
        OptimizerConfig::Adam { beta_1, beta_2, epsilon, amsgrad, .. } => OptimizerConfig::Adam {
            learning_rate,
            beta_1: o.f64("beta_1", beta_1)?,
            beta_2: o.f64("beta_2", beta_2)?,
            epsilon: o.f64("epsilon", epsilon)?,
            amsgrad: o.bool("amsgrad", amsgrad)?,
        },
    };
    base_optimizer_options(&o)?;
    o.finish()?;
    config.validate()?;
    Ok(config)
}

/// Keras's `BaseOptimizer` arguments (and what older TF.js / Keras 2 files add): the name
/// and bookkeeping flags are accepted; settings that change the update only at defaults.
fn base_optimizer_options(o: &Options) -> Result<()> {
    o.opt_str("name")?;
    // Meaningful only with use_ema, or for the TF 2.11 optimizer rewrite.
    o.accept(&["ema_momentum", "ema_overwrite_frequency", "is_legacy_optimizer", "jit_compile"]);
    for key in ["weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "loss_scale_factor"] {
        o.unsupported(key, &Value::Null)?;
    }
    o.unsupported("use_ema", &json!(false))?;
    o.unsupported("gradient_accumulation_steps", &Value::Null)?;
    // Keras 3 ignores `decay` with a warning; Keras 2 meant a schedule we do not have.
    o.unsupported("decay", &json!(0.0))?;
    Ok(())
}

/// An optimizer as `compile` or a file names it: an identifier ("adam"), or a
/// `{class_name, config}` object (what `keras.optimizers.Adam({...})` and Keras's
/// `serialize` give).
pub fn optimizer_from_value(v: &Value) -> Result<OptimizerConfig> {
    match v {
        Value::String(name) => optimizer_config(name, &Value::Null),
        Value::Object(m) => {
            let Some(class) = m.get("class_name").and_then(Value::as_str) else {
                bail!("optimizer: expected a name (\"adam\") or {{class_name, config}}, got {v}")
            };
            optimizer_config(class, m.get("config").unwrap_or(&Value::Null))
        }
        other => bail!("optimizer: expected a name (\"adam\") or {{class_name, config}}, got {other}"),
    }
}

/// Every hyperparameter of `c` under Keras's names, as Keras's `get_config` lists them.
pub fn optimizer_config_json(c: &OptimizerConfig) -> Value {
    let config = match *c {
        OptimizerConfig::Sgd { learning_rate, momentum, nesterov } => {
            json!({"learning_rate": learning_rate, "momentum": momentum, "nesterov": nesterov})
        }
        OptimizerConfig::RmsProp { learning_rate, rho, momentum, epsilon, centered } => {
            json!({"learning_rate": learning_rate, "rho": rho, "momentum": momentum, "epsilon": epsilon, "centered": centered})
        }
        OptimizerConfig::Adam { learning_rate, beta_1, beta_2, epsilon, amsgrad } => {
            json!({"learning_rate": learning_rate, "beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon, "amsgrad": amsgrad})
        }
    };
    json!({"class_name": c.keras_class(), "config": config})
}

/// A Keras optimizer: its hyperparameters and the slot variables of each weight.
pub struct Optimizer {
    /// Hyperparameters (the learning rate may change between steps).
    pub config: OptimizerConfig,
    slots: HashMap<*const Weight, Vec<Tensor>>,
    /// Steps taken (Keras `optimizer.iterations`).
    pub(crate) iterations: usize,
}

impl Optimizer {
    /// An optimizer with no steps taken yet.
    pub fn new(config: OptimizerConfig) -> Optimizer {
        Optimizer { config, slots: HashMap::new(), iterations: 0 }
    }

    /// "adam", "rmsprop" or "sgd" with Keras's defaults.
    pub fn from_name(name: &str) -> Result<Optimizer> {
        Ok(Optimizer::new(OptimizerConfig::from_keras_name(name)?))
    }

    /// `compile(optimizer=...)`: a name or a `{class_name, config}` object.
    pub fn from_value(v: &Value) -> Result<Optimizer> {
        Ok(Optimizer::new(optimizer_from_value(v)?))
    }

    /// Steps taken so far (Keras `optimizer.iterations`).
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// The slot variables of `w` in Keras's order (`OptimizerConfig::slot_names`), `None`
    /// before its first update (Keras's zeros).
    pub fn slots_of(&self, w: &WeightRef) -> Option<&[Tensor]> {
        self.slots.get(&Rc::as_ptr(w)).map(Vec::as_slice)
    }

    /// Puts back a saved state: the step count and each weight's slots (a file's
    /// optimizer variables); `slots` holds `slot_count()` tensors per weight, each of
    /// the weight's shape.
    pub fn restore(&mut self, iterations: usize, slots: Vec<(WeightRef, Vec<Tensor>)>) -> Result<()> {
        let names = self.config.slot_names();
        for (w, s) in &slots {
            crate::ensure!(
                s.len() == names.len(),
                "{}: {} slot variables for weight {}, {} expected ({})",
                self.config.keras_class(),
                s.len(),
                w.path,
                names.len(),
                names.join(", ")
            );
            for (t, name) in s.iter().zip(&names) {
                crate::ensure!(
                    t.shape() == w.shape().as_slice(),
                    "{}: slot {name} of weight {} has shape {}, the weight {}",
                    self.config.keras_class(),
                    w.path,
                    crate::shape::fmt_shape(t.shape()),
                    crate::shape::fmt_shape(&w.shape())
                );
            }
        }
        self.iterations = iterations;
        self.slots = slots.into_iter().map(|(w, s)| (Rc::as_ptr(&w), s)).collect();
        Ok(())
    }

    /// One step: update every weight that has a gradient (Keras `apply_gradients`).
    pub fn apply(&mut self, weights: &[WeightRef], grads: &[Option<Tensor>]) -> Result<()> {
        self.iterations += 1;
        for (w, g) in weights.iter().zip(grads) {
            let Some(g) = g else { continue };
            let p = w.value();
            let slots = match self.slots.remove(&Rc::as_ptr(w)) {
                Some(s) => s.iter().map(|t| follow(t, &p, w)).collect::<Result<Vec<_>>>()?,
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

/// A slot on its weight's device: restored slots start on the CPU (read from a file)
/// while the weights may since have moved to the GPU.
fn follow(slot: &Tensor, param: &Tensor, w: &WeightRef) -> Result<Tensor> {
    if slot.device().same(param.device()) {
        return Ok(slot.clone());
    }
    let data = match slot.cpu_data() {
        Ok(d) => d.clone(),
        Err(_) => bail!(
            "{}: its optimizer slots are on {} but the weight is on {}: the state cannot move back synchronously",
            w.path,
            slot.device().describe(),
            param.device().describe()
        ),
    };
    Tensor::from_data(param.device(), data, slot.shape()).map_err(|e| e.context(format!("optimizer slot of {}", w.path)))
}
