//! Keras merge layers over a list of inputs: `Add` (elementwise sum) and `Concatenate`
//! (along one axis).

use std::any::Any;

use serde_json::{json, Value};

use super::{fmt_dims, Forward, KerasLayer, LayerKind, Shape};
use crate::ensure;
use crate::error::Result;
use crate::graph::Var;
use crate::options::Options;

pub const ADD_SIGNATURE: &[&str] = &[];
pub const CONCATENATE_SIGNATURE: &[&str] = &["axis"];

#[derive(Debug)]
pub struct Add;

#[derive(Debug)]
pub struct Concatenate {
    pub axis: isize,
}

pub fn add_from_config(_o: &Options) -> Result<LayerKind> {
    Ok(LayerKind::new(Add))
}

pub fn concatenate_from_config(o: &Options) -> Result<LayerKind> {
    Ok(LayerKind::new(Concatenate { axis: o.i64("axis")?.unwrap_or(-1) as isize }))
}

/// Shapes must agree except along `axis`, which (for Concatenate) adds up.
fn merged_shape(inputs: &[Shape], axis: Option<isize>, layer: &str) -> Result<Shape> {
    ensure!(inputs.len() >= 2, "{layer}: needs at least 2 inputs, got {}", inputs.len());
    let first = &inputs[0];
    let axis = axis.map(|a| crate::shape::normalize_axis(a, first.len())).transpose()?;
    let mut out = first.clone();
    for s in &inputs[1..] {
        let compatible = s.len() == first.len()
            && (0..s.len()).all(|d| Some(d) == axis || s[d] == first[d] || s[d].is_none() || first[d].is_none());
        ensure!(compatible, "{layer}: input shapes {} and {} are incompatible", fmt_dims(first), fmt_dims(s));
        if let Some(a) = axis {
            out[a] = match (out[a], s[a]) {
                (Some(p), Some(q)) => Some(p + q),
                _ => None,
            };
        }
    }
    Ok(out)
}

impl KerasLayer for Add {
    fn class_name(&self) -> &'static str {
        "Add"
    }

    fn arity(&self) -> Option<usize> {
        None
    }

    fn output_shape(&self, inputs: &[Shape], layer: &str) -> Result<Shape> {
        merged_shape(inputs, None, layer)
    }

    fn forward(&self, inputs: &[Var], _w: &[Var], _fwd: &mut Forward, _layer: &str) -> Result<Var> {
        let mut acc = inputs[0].clone();
        for other in &inputs[1..] {
            acc = acc.add(other)?;
        }
        Ok(acc)
    }

    fn get_config(&self) -> Value {
        json!({})
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl KerasLayer for Concatenate {
    fn class_name(&self) -> &'static str {
        "Concatenate"
    }

    fn arity(&self) -> Option<usize> {
        None
    }

    fn output_shape(&self, inputs: &[Shape], layer: &str) -> Result<Shape> {
        merged_shape(inputs, Some(self.axis), layer)
    }

    fn forward(&self, inputs: &[Var], _w: &[Var], _fwd: &mut Forward, _layer: &str) -> Result<Var> {
        Var::concat(&inputs.iter().collect::<Vec<_>>(), self.axis)
    }

    fn get_config(&self) -> Value {
        json!({"axis": self.axis})
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
    fn configs_round_trip_with_keras_shapes() {
        let (a, b): (&[Option<usize>], &[Option<usize>]) = (&[None, Some(2), Some(3)], &[None, Some(2), Some(5)]);
        let k = round_trip("Concatenate", json!({"axis": -1}));
        assert_eq!(output_shape(&k, &[a, b]).unwrap(), vec![None, Some(2), Some(8)]);
        let k = round_trip("Add", json!({}));
        assert!(output_shape(&k, &[a, b]).unwrap_err().to_string().contains("incompatible"));
        assert!(output_shape(&k, &[a]).unwrap_err().to_string().contains("at least 2 inputs"));
    }

    #[test]
    fn add_takes_no_options() {
        assert!(error("Add", json!({"axis": 1})).contains("unrecognized keyword argument \"axis\""));
    }
}
