//! Optimizer vocabulary: Keras optimizers' hyperparameters, their slots and Adam's step size.
//! Both devices consume it; it depends on neither.

use crate::error::Result;
use crate::{bail, ensure};

/// A Keras optimizer's hyperparameters. Field names and defaults are Keras's.
#[derive(Clone, Debug, PartialEq)]
pub enum OptimizerConfig {
    /// `keras.optimizers.SGD`.
    Sgd {
        /// Step size.
        learning_rate: f64,
        /// Momentum (0: none).
        momentum: f64,
        /// Nesterov momentum.
        nesterov: bool,
    },
    /// `keras.optimizers.RMSprop`.
    RmsProp {
        /// Step size.
        learning_rate: f64,
        /// Decay of the moving mean of squared gradients.
        rho: f64,
        /// Momentum (0: none).
        momentum: f64,
        /// Added to the denominator for stability.
        epsilon: f64,
        /// Divide by the gradient variance rather than its second moment.
        centered: bool,
    },
    /// `keras.optimizers.Adam`.
    Adam {
        /// Step size.
        learning_rate: f64,
        /// Decay of the first-moment estimate.
        beta_1: f64,
        /// Decay of the second-moment estimate.
        beta_2: f64,
        /// Added to the denominator for stability.
        epsilon: f64,
        /// Use the maximum of past second moments (AMSGrad).
        amsgrad: bool,
    },
}

impl Default for OptimizerConfig {
    /// Keras's `"rmsprop"`, the default of `model.compile`.
    fn default() -> Self {
        OptimizerConfig::rmsprop()
    }
}

impl OptimizerConfig {
    /// `keras.optimizers.SGD()`: learning_rate 0.01, momentum 0, nesterov false.
    pub fn sgd() -> Self {
        OptimizerConfig::Sgd { learning_rate: 0.01, momentum: 0.0, nesterov: false }
    }

    /// `keras.optimizers.RMSprop()`: learning_rate 0.001, rho 0.9, momentum 0,
    /// epsilon 1e-7, centered false.
    pub fn rmsprop() -> Self {
        OptimizerConfig::RmsProp { learning_rate: 0.001, rho: 0.9, momentum: 0.0, epsilon: 1e-7, centered: false }
    }

    /// `keras.optimizers.Adam()`: learning_rate 0.001, beta_1 0.9, beta_2 0.999,
    /// epsilon 1e-7, amsgrad false.
    pub fn adam() -> Self {
        OptimizerConfig::Adam { learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false }
    }

    /// Keras's string identifiers ("sgd", "rmsprop", "adam", any case) and class names
    /// ("SGD", "RMSprop", "Adam"), with Keras's defaults.
    pub fn from_keras_name(name: &str) -> Result<Self> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "sgd" => Self::sgd(),
            "rmsprop" => Self::rmsprop(),
            "adam" => Self::adam(),
            _ => bail!("unknown optimizer '{name}': use \"sgd\", \"rmsprop\" or \"adam\""),
        })
    }

    /// The Keras class name.
    pub(crate) fn keras_class(&self) -> &'static str {
        match self {
            OptimizerConfig::Sgd { .. } => "SGD",
            OptimizerConfig::RmsProp { .. } => "RMSprop",
            OptimizerConfig::Adam { .. } => "Adam",
        }
    }

    /// The current learning rate.
    pub fn learning_rate(&self) -> f64 {
        match *self {
            OptimizerConfig::Sgd { learning_rate, .. }
            | OptimizerConfig::RmsProp { learning_rate, .. }
            | OptimizerConfig::Adam { learning_rate, .. } => learning_rate,
        }
    }

    /// Change the learning rate (Keras `optimizer.learning_rate = lr`).
    pub fn set_learning_rate(&mut self, lr: f64) {
        match self {
            OptimizerConfig::Sgd { learning_rate, .. }
            | OptimizerConfig::RmsProp { learning_rate, .. }
            | OptimizerConfig::Adam { learning_rate, .. } => *learning_rate = lr,
        }
    }

    /// This config with another learning rate.
    pub fn with_learning_rate(mut self, lr: f64) -> Self {
        self.set_learning_rate(lr);
        self
    }

    /// Names of the per-parameter slot variables, in Keras's order.
    pub fn slot_names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        match *self {
            OptimizerConfig::Sgd { momentum, .. } => {
                if momentum != 0.0 {
                    names.push("momentum");
                }
            }
            OptimizerConfig::RmsProp { momentum, centered, .. } => {
                names.push("velocity");
                if momentum > 0.0 {
                    names.push("momentum");
                }
                if centered {
                    names.push("average_gradient");
                }
            }
            OptimizerConfig::Adam { amsgrad, .. } => {
                names.extend(["momentum", "velocity"]);
                if amsgrad {
                    names.push("velocity_hat");
                }
            }
        }
        names
    }

    /// Number of slot variables each parameter carries.
    pub fn slot_count(&self) -> usize {
        self.slot_names().len()
    }

    /// Hyperparameters Keras would reject, or that cannot give finite updates.
    pub(crate) fn validate(&self) -> Result<()> {
        let what = self.keras_class();
        let finite = |name: &str, v: f64| -> Result<()> {
            ensure!(v.is_finite(), "{what}: {name} must be finite, got {v}");
            Ok(())
        };
        match *self {
            OptimizerConfig::Sgd { learning_rate, momentum, .. } => {
                finite("learning_rate", learning_rate)?;
                ensure!(
                    (0.0..=1.0).contains(&momentum),
                    "{what}: momentum must be a float between [0, 1], got {momentum}"
                );
            }
            OptimizerConfig::RmsProp { learning_rate, rho, momentum, epsilon, .. } => {
                for (n, v) in
                    [("learning_rate", learning_rate), ("rho", rho), ("momentum", momentum), ("epsilon", epsilon)]
                {
                    finite(n, v)?;
                }
            }
            OptimizerConfig::Adam { learning_rate, beta_1, beta_2, epsilon, .. } => {
                for (n, v) in
                    [("learning_rate", learning_rate), ("beta_1", beta_1), ("beta_2", beta_2), ("epsilon", epsilon)]
                {
                    finite(n, v)?;
                }
                ensure!(beta_1 != 1.0, "{what}: beta_1 = 1 makes the bias correction divide by zero");
            }
        }
        Ok(())
    }
}

/// Adam's step size for update `step` (counting from 1).
pub fn adam_alpha(learning_rate: f64, beta_1: f64, beta_2: f64, step: usize) -> f64 {
    let t = step as f64;
    learning_rate * (1.0 - beta_2.powf(t)).sqrt() / (1.0 - beta_1.powf(t))
}
