//! Keras `Dropout`: in training, zero each value with probability `rate` and scale the
//! rest by 1 / (1 - rate); the identity otherwise.

use std::any::Any;

use serde_json::{json, Value};

use super::{Forward, KerasLayer, LayerKind, Shape};
use crate::ensure;
use crate::error::Result;
use crate::graph::Var;
use crate::options::Options;
use crate::tensor::Tensor;

pub const SIGNATURE: &[&str] = &["rate", "noise_shape", "seed"];

#[derive(Debug)]
pub struct Dropout {
    pub rate: f64,
}

pub fn from_config(o: &Options) -> Result<LayerKind> {
    let rate = o.f64("rate", f64::NAN)?;
    ensure!((0.0..1.0).contains(&rate), "Dropout: rate must be in [0, 1), got {rate}");
    ensure!(!o.has("noise_shape"), "Dropout: noise_shape is not supported");
    // Masks come from the run's random stream; a per-layer seed is not kept.
    o.accept(&["seed"]);
    Ok(LayerKind::new(Dropout { rate }))
}

impl KerasLayer for Dropout {
    fn class_name(&self) -> &'static str {
        "Dropout"
    }

    fn output_shape(&self, inputs: &[Shape], _layer: &str) -> Result<Shape> {
        Ok(inputs[0].clone())
    }

    fn forward(&self, inputs: &[Var], _w: &[Var], fwd: &mut Forward, _layer: &str) -> Result<Var> {
        let x = &inputs[0];
        if !fwd.training || self.rate <= 0.0 {
            return Ok(x.clone());
        }
        use rand::Rng;
        let keep = 1.0 - self.rate;
        let mask: Vec<f32> =
            (0..x.value().numel()).map(|_| if fwd.rng.random::<f64>() < keep { (1.0 / keep) as f32 } else { 0.0 }).collect();
        let mask = Tensor::from_f32(x.value().device(), mask, x.shape())?;
        x.mul(&Var::constant(&mask))
    }

    fn get_config(&self) -> Value {
        json!({"rate": self.rate})
    }

    /// Dropout has no state to freeze: it drops in training even inside a frozen model.
    fn frozen_runs_in_inference(&self) -> bool {
        false
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
    fn config_round_trip_and_shape() {
        let k = round_trip("Dropout", json!({"rate": 0.25, "seed": 3}));
        assert_eq!(output_shape(&k, &[&[None, Some(3)]]).unwrap(), vec![None, Some(3)]);
    }

    #[test]
    fn rate_is_checked() {
        assert!(error("Dropout", json!({"rate": 1.0})).contains("rate must be in [0, 1)"));
        assert!(error("Dropout", json!({})).contains("rate must be in [0, 1)"));
    }
}
