//! Keras `GlobalMaxPooling2D` (alias `GlobalMaxPool2D`): the maximum over height and
//! width of each channel; `keepdims` keeps them as 1×1.

use std::any::Any;

use serde_json::{json, Value};

use super::common::channels_last;
use super::{rank4, Forward, KerasLayer, LayerKind, Shape};
use crate::error::Result;
use crate::graph::Var;
use crate::ops::reduce::ReduceOp;
use crate::options::Options;

pub const SIGNATURE: &[&str] = &["data_format", "keepdims"];

#[derive(Debug)]
pub struct GlobalMaxPooling2D {
    pub keepdims: bool,
}

pub fn from_config(o: &Options) -> Result<LayerKind> {
    channels_last(o)?;
    Ok(LayerKind::new(GlobalMaxPooling2D { keepdims: o.bool("keepdims", false)? }))
}

impl KerasLayer for GlobalMaxPooling2D {
    fn class_name(&self) -> &'static str {
        "GlobalMaxPooling2D"
    }

    fn output_shape(&self, inputs: &[Shape], layer: &str) -> Result<Shape> {
        let x = &inputs[0];
        rank4(x, layer)?;
        Ok(if self.keepdims { vec![x[0], Some(1), Some(1), x[3]] } else { vec![x[0], x[3]] })
    }

    /// A max reduction on the tape; its backward splits the gradient evenly between
    /// tied maxima, as JAX and TensorFlow's reduce_max do.
    fn forward(&self, inputs: &[Var], _w: &[Var], _fwd: &mut Forward, _layer: &str) -> Result<Var> {
        inputs[0].reduce(&[1, 2], self.keepdims, ReduceOp::Max)
    }

    fn get_config(&self) -> Value {
        json!({"data_format": "channels_last", "keepdims": self.keepdims})
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
    fn config_round_trip_with_keras_shapes() {
        let x: &[Option<usize>] = &[None, Some(5), Some(4), Some(3)];
        let k = round_trip("GlobalMaxPooling2D", json!({}));
        assert_eq!(output_shape(&k, &[x]).unwrap(), vec![None, Some(3)]);
        let k = round_trip("GlobalMaxPool2D", json!({"keepdims": true, "data_format": "channels_last"}));
        assert_eq!(k.class_name(), "GlobalMaxPooling2D");
        assert_eq!(output_shape(&k, &[x]).unwrap(), vec![None, Some(1), Some(1), Some(3)]);
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(error("GlobalMaxPooling2D", json!({"data_format": "channels_first"})).contains("channels_last"));
        assert!(error("GlobalMaxPooling2D", json!({"keep_dims": true})).contains("did you mean \"keepdims\""));
        let k = round_trip("GlobalMaxPooling2D", json!({}));
        assert!(output_shape(&k, &[&[None, Some(3)]]).unwrap_err().to_string().contains("4-D input"));
    }
}
