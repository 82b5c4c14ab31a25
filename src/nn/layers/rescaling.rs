//! Keras `Rescaling`: `x * scale + offset`.

use std::any::Any;

use serde_json::{json, Value};

use super::{Forward, KerasLayer, LayerKind, Shape};
use crate::ensure;
use crate::error::Result;
use crate::graph::Var;
use crate::ops::elementwise::UnaryOp;
use crate::options::Options;

pub const SIGNATURE: &[&str] = &["scale", "offset"];

#[derive(Debug)]
pub struct Rescaling {
    pub scale: f64,
    pub offset: f64,
}

pub fn from_config(o: &Options) -> Result<LayerKind> {
    let scale = o.f64("scale", f64::NAN)?;
    ensure!(scale.is_finite(), "Rescaling: missing required argument scale");
    Ok(LayerKind::new(Rescaling { scale, offset: o.f64("offset", 0.0)? }))
}

impl KerasLayer for Rescaling {
    fn class_name(&self) -> &'static str {
        "Rescaling"
    }

    fn output_shape(&self, inputs: &[Shape], _layer: &str) -> Result<Shape> {
        Ok(inputs[0].clone())
    }

    fn forward(&self, inputs: &[Var], _w: &[Var], _fwd: &mut Forward, _layer: &str) -> Result<Var> {
        inputs[0].unary(UnaryOp::Affine(self.scale, self.offset))
    }

    fn get_config(&self) -> Value {
        json!({"scale": self.scale, "offset": self.offset})
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
        let k = round_trip("Rescaling", json!({"scale": 0.5, "offset": -1}));
        assert_eq!(output_shape(&k, &[&[None, Some(2), Some(2), Some(3)]]).unwrap(), vec![None, Some(2), Some(2), Some(3)]);
    }

    #[test]
    fn scale_is_required() {
        assert_eq!(error("Rescaling", json!({"offset": 1})), "Rescaling: missing required argument scale");
    }
}
