//! Keras `BatchNormalization` over the channel (last) axis, with moving statistics
//! updated in training mode.

use std::any::Any;

use serde_json::{json, Value};

use super::common::accept_weight_options;
use super::{known, spec, weight, Forward, KerasLayer, LayerKind, Shape, WeightSpec};
use crate::ensure;
use crate::error::Result;
use crate::graph::Var;
use crate::nn::init::Initializer::{Ones, Zeros};
use crate::options::Options;

pub const SIGNATURE: &[&str] = &["axis", "momentum", "epsilon", "center", "scale"];

#[derive(Debug)]
pub struct BatchNormalization {
    pub momentum: f64,
    pub epsilon: f64,
    pub center: bool,
    pub scale: bool,
}

pub fn from_config(o: &Options) -> Result<LayerKind> {
    let axis = o.get("axis").and_then(|a| a.as_i64().or_else(|| a.as_array().and_then(|v| v.first()?.as_i64())));
    ensure!(
        axis.is_none() || axis == Some(-1) || axis == Some(3),
        "BatchNormalization: only the last (channel) axis is supported, got axis {:?}",
        axis
    );
    ensure!(!o.bool("renorm", false)?, "BatchNormalization: renorm=True is not supported");
    // Synchronizing statistics across devices means nothing with one device.
    o.accept(&["renorm_clipping", "renorm_momentum", "synchronized"]);
    accept_weight_options(o, &["beta", "gamma"]);
    o.accept(&["moving_mean_initializer", "moving_variance_initializer"]);
    Ok(LayerKind::new(BatchNormalization {
        momentum: o.f64("momentum", 0.99)?,
        epsilon: o.f64("epsilon", 1e-3)?,
        center: o.bool("center", true)?,
        scale: o.bool("scale", true)?,
    }))
}

impl KerasLayer for BatchNormalization {
    fn class_name(&self) -> &'static str {
        "BatchNormalization"
    }

    fn output_shape(&self, inputs: &[Shape], _layer: &str) -> Result<Shape> {
        Ok(inputs[0].clone())
    }

    fn weight_specs(&self, inputs: &[Shape], layer: &str) -> Result<Vec<WeightSpec>> {
        let c = known(inputs[0].last().copied().flatten(), "channel", layer)?;
        let mut w = Vec::new();
        if self.scale {
            w.push(spec("gamma", vec![c], Ones, true));
        }
        if self.center {
            w.push(spec("beta", vec![c], Zeros, true));
        }
        w.push(spec("moving_mean", vec![c], Zeros, false));
        w.push(spec("moving_variance", vec![c], Ones, false));
        Ok(w)
    }

    fn forward(&self, inputs: &[Var], w: &[Var], fwd: &mut Forward, layer: &str) -> Result<Var> {
        // Keras order: gamma (if scale), beta (if center), moving mean, moving variance.
        let gamma = if self.scale { Some(weight(w, 0, layer)?) } else { None };
        let beta = if self.center { Some(weight(w, usize::from(self.scale), layer)?) } else { None };
        let i = usize::from(self.scale) + usize::from(self.center);
        let (mm, mv) = (weight(w, i, layer)?.value().clone(), weight(w, i + 1, layer)?.value().clone());
        let (y, moving) = inputs[0].batch_norm_fused(gamma, beta, &mm, &mv, fwd.training, self.epsilon, self.momentum, fwd.relu_after)?;
        if let Some((m, v)) = moving {
            fwd.updates.push((i, m));
            fwd.updates.push((i + 1, v));
        }
        Ok(y)
    }

    fn get_config(&self) -> Value {
        json!({"axis": -1, "momentum": self.momentum, "epsilon": self.epsilon, "center": self.center, "scale": self.scale})
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{error, output_shape, round_trip};
    use serde_json::json;

    #[test]
    fn config_round_trip_and_weights() {
        let k = round_trip("BatchNormalization", json!({"momentum": 0.9, "scale": false, "synchronized": false, "gamma_initializer": "ones"}));
        let x: &[Option<usize>] = &[None, Some(4), Some(4), Some(3)];
        assert_eq!(output_shape(&k, &[x]).unwrap(), x.to_vec());
        let names: Vec<&str> = k.weight_specs(&[x.to_vec()], "bn").unwrap().iter().map(|s| s.name).collect();
        assert_eq!(names, ["beta", "moving_mean", "moving_variance"]);
    }

    #[test]
    fn other_axes_are_refused() {
        assert!(error("BatchNormalization", json!({"axis": 1})).contains("only the last (channel) axis"));
    }
}
