//! Keras `InputLayer`: the placeholder `keras.Input` creates. It computes nothing; a
//! model's inputs are fed in its place. Created by `keras.Input` and by model files'
//! input entries, not through the registry.

use std::any::Any;

use serde_json::{json, Value};

use super::{Forward, KerasLayer, Shape};
use crate::error::Result;
use crate::graph::Var;

#[derive(Debug)]
pub struct InputLayer {
    /// Batch axis included (unknown).
    pub shape: Shape,
}

impl KerasLayer for InputLayer {
    fn class_name(&self) -> &'static str {
        "InputLayer"
    }

    fn arity(&self) -> Option<usize> {
        Some(0)
    }

    fn output_shape(&self, _inputs: &[Shape], _layer: &str) -> Result<Shape> {
        Ok(self.shape.clone())
    }

    fn forward(&self, inputs: &[Var], _w: &[Var], _fwd: &mut Forward, layer: &str) -> Result<Var> {
        inputs.first().cloned().ok_or_else(|| crate::Error::new(format!("{layer}: an input layer is fed, not run")))
    }

    fn get_config(&self) -> Value {
        json!({"batch_input_shape": self.shape, "dtype": "float32"})
    }

    fn is_input(&self) -> bool {
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::super::LayerKind;
    use super::*;

    #[test]
    fn shape_and_config_carry_the_batch_axis() {
        let k = LayerKind::new(InputLayer { shape: vec![None, Some(4)] });
        assert!(k.is_input());
        assert_eq!(k.output_shape(&[], "in").unwrap(), vec![None, Some(4)]);
        assert_eq!(k.to_config(), json!({"batch_input_shape": [null, 4], "dtype": "float32"}));
    }
}
