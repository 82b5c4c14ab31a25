//! Keras `Activation` (a named activation function) and `ReLU` (max(x, 0), capped at
//! `max_value` when given: ReLU6 in MobileNet).

use std::any::Any;

use serde_json::{json, Value};

use super::common::activation;
use super::{Forward, KerasLayer, LayerKind, Shape};
use crate::ensure;
use crate::error::Result;
use crate::graph::Var;
use crate::nn::activation::Activation as Function;
use crate::ops::elementwise::UnaryOp;
use crate::options::Options;

pub const ACTIVATION_SIGNATURE: &[&str] = &["activation"];
pub const RELU_SIGNATURE: &[&str] = &["max_value", "negative_slope", "threshold"];

#[derive(Debug)]
pub struct Activation(pub Function);

pub fn activation_from_config(o: &Options) -> Result<LayerKind> {
    Ok(LayerKind::new(Activation(activation(o)?)))
}

impl KerasLayer for Activation {
    fn class_name(&self) -> &'static str {
        "Activation"
    }

    fn output_shape(&self, inputs: &[Shape], _layer: &str) -> Result<Shape> {
        Ok(inputs[0].clone())
    }

    fn forward(&self, inputs: &[Var], _w: &[Var], _fwd: &mut Forward, _layer: &str) -> Result<Var> {
        self.0.apply(&inputs[0])
    }

    fn get_config(&self) -> Value {
        json!({"activation": self.0.name()})
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[derive(Debug)]
pub struct ReLU {
    pub max_value: Option<f64>,
}

pub fn relu_from_config(o: &Options) -> Result<LayerKind> {
    ensure!(
        o.f64("negative_slope", 0.0)? == 0.0 && o.f64("threshold", 0.0)? == 0.0,
        "ReLU: only negative_slope=0 and threshold=0 are supported"
    );
    Ok(LayerKind::new(ReLU { max_value: o.opt_f64("max_value")? }))
}

impl KerasLayer for ReLU {
    fn class_name(&self) -> &'static str {
        "ReLU"
    }

    fn output_shape(&self, inputs: &[Shape], _layer: &str) -> Result<Shape> {
        Ok(inputs[0].clone())
    }

    fn forward(&self, inputs: &[Var], _w: &[Var], _fwd: &mut Forward, _layer: &str) -> Result<Var> {
        match self.max_value {
            None => inputs[0].unary(UnaryOp::Relu),
            Some(m) => inputs[0].unary(UnaryOp::Clamp(0.0, m)),
        }
    }

    fn get_config(&self) -> Value {
        json!({"max_value": self.max_value, "negative_slope": 0.0, "threshold": 0.0})
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
    fn configs_round_trip_and_shapes() {
        let k = round_trip("Activation", json!({"activation": "softmax"}));
        assert_eq!(output_shape(&k, &[&[None, Some(3)]]).unwrap(), vec![None, Some(3)]);
        let k = round_trip("ReLU", json!({"max_value": 6.0}));
        assert_eq!(format!("{k:?}"), "ReLU { max_value: Some(6.0) }");
        round_trip("ReLU", json!({}));
    }

    #[test]
    fn unsupported_values_are_errors() {
        assert!(error("Activation", json!({"activation": "gelu"})).contains("unknown activation 'gelu'"));
        assert!(error("ReLU", json!({"negative_slope": 0.1})).contains("only negative_slope=0"));
    }
}
