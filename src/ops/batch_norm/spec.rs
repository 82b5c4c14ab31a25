//! BatchNormalization's vocabulary: shape and constants of one normalization.
//! Both devices consume it; it depends on neither.

use crate::error::Result;

/// Shape and constants of one batch normalization. `rows` is the number of positions
/// normalized together per channel (N·H·W), `channels` the size of the last axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormSpec {
    /// Positions normalized together per channel (N·H·W).
    pub rows: usize,
    /// Size of the last axis.
    pub channels: usize,
    /// Added to the variance (Keras default 1e-3).
    pub epsilon: f64,
    /// Moving-statistics decay (Keras default 0.99).
    pub momentum: f64,
}

impl BatchNormSpec {
    /// Keras's defaults: epsilon 1e-3, momentum 0.99.
    pub fn keras(rows: usize, channels: usize) -> Self {
        BatchNormSpec { rows, channels, epsilon: 1e-3, momentum: 0.99 }
    }

    pub(crate) fn check(&self, op: &str, training: bool) -> Result<()> {
        crate::ensure!(self.channels > 0, "{op}: channel count must be positive (rows {}, channels 0)", self.rows);
        crate::ensure!(
            !training || self.rows > 0,
            "{op}: training mode needs at least one row to compute batch statistics (rows 0, channels {})",
            self.channels
        );
        crate::ensure!(
            self.epsilon.is_finite() && self.epsilon >= 0.0,
            "{op}: epsilon must be finite and non-negative, got {}",
            self.epsilon
        );
        crate::ensure!(self.momentum.is_finite(), "{op}: momentum must be finite, got {}", self.momentum);
        Ok(())
    }
}
