//! Keras `Flatten` (everything after the batch axis into one) and `ZeroPadding2D`.

use std::any::Any;

use serde_json::{json, Value};

use super::common::channels_last;
use super::{rank4, Forward, KerasLayer, LayerKind, Shape};
use crate::error::Result;
use crate::graph::Var;
use crate::options::Options;

pub const FLATTEN_SIGNATURE: &[&str] = &["data_format"];
pub const ZERO_PADDING_SIGNATURE: &[&str] = &["padding", "data_format"];

#[derive(Debug)]
pub struct Flatten;

pub fn flatten_from_config(o: &Options) -> Result<LayerKind> {
    channels_last(o)?;
    Ok(LayerKind::new(Flatten))
}

impl KerasLayer for Flatten {
    fn class_name(&self) -> &'static str {
        "Flatten"
    }

    fn output_shape(&self, inputs: &[Shape], layer: &str) -> Result<Shape> {
        let x = &inputs[0];
        crate::ensure!(!x.is_empty(), "{layer}: expects an input with a batch axis, got a scalar");
        let mut rest = Some(1usize);
        for d in &x[1..] {
            rest = match (rest, d) {
                (Some(acc), Some(v)) => Some(acc.checked_mul(*v).ok_or_else(|| {
                    crate::Error::new(format!("{layer}: flattening {} overflows", super::fmt_dims(x)))
                })?),
                _ => None,
            };
        }
        Ok(vec![x[0], rest])
    }

    fn forward(&self, inputs: &[Var], _w: &[Var], _fwd: &mut Forward, _layer: &str) -> Result<Var> {
        let x = &inputs[0];
        x.reshape(&[x.shape()[0] as isize, -1])
    }

    fn get_config(&self) -> Value {
        json!({"data_format": "channels_last"})
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Zeros added around height and width: [[top, bottom], [left, right]].
#[derive(Debug)]
pub struct ZeroPadding2D {
    pub padding: [[usize; 2]; 2],
}

pub fn zero_padding_from_config(o: &Options) -> Result<LayerKind> {
    channels_last(o)?;
    let given = o.get("padding");
    let bad = || crate::Error::new(format!("ZeroPadding2D: bad padding {given:?}"));
    let n = |v: &Value| v.as_u64().map(|x| x as usize).ok_or_else(bad);
    // Keras: an int, (symmetric_height, symmetric_width), or ((top, bottom), (left, right)).
    let padding = match given {
        None => [[1, 1], [1, 1]],
        Some(v @ Value::Number(_)) => {
            let p = n(v)?;
            [[p, p], [p, p]]
        }
        Some(Value::Array(a)) if a.len() == 2 => match (&a[0], &a[1]) {
            (Value::Array(h), Value::Array(w)) if h.len() == 2 && w.len() == 2 => [[n(&h[0])?, n(&h[1])?], [n(&w[0])?, n(&w[1])?]],
            (h, w) => [[n(h)?, n(h)?], [n(w)?, n(w)?]],
        },
        Some(_) => return Err(bad()),
    };
    Ok(LayerKind::new(ZeroPadding2D { padding }))
}

impl KerasLayer for ZeroPadding2D {
    fn class_name(&self) -> &'static str {
        "ZeroPadding2D"
    }

    fn output_shape(&self, inputs: &[Shape], layer: &str) -> Result<Shape> {
        let (x, p) = (&inputs[0], self.padding);
        rank4(x, layer)?;
        Ok(vec![x[0], x[1].map(|h| h + p[0][0] + p[0][1]), x[2].map(|w| w + p[1][0] + p[1][1]), x[3]])
    }

    fn forward(&self, inputs: &[Var], _w: &[Var], _fwd: &mut Forward, _layer: &str) -> Result<Var> {
        let p = self.padding;
        inputs[0].pad(&[(0, 0), (p[0][0], p[0][1]), (p[1][0], p[1][1]), (0, 0)], 0.0)
    }

    fn get_config(&self) -> Value {
        json!({"padding": self.padding, "data_format": "channels_last"})
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
        let x: &[Option<usize>] = &[None, Some(4), Some(5), Some(3)];
        let k = round_trip("Flatten", json!({}));
        assert_eq!(output_shape(&k, &[x]).unwrap(), vec![None, Some(60)]);
        let k = round_trip("ZeroPadding2D", json!({"padding": [[1, 2], [0, 3]]}));
        assert_eq!(output_shape(&k, &[x]).unwrap(), vec![None, Some(7), Some(8), Some(3)]);
        let k = round_trip("ZeroPadding2D", json!({"padding": [1, 2]}));
        assert_eq!(output_shape(&k, &[x]).unwrap(), vec![None, Some(6), Some(9), Some(3)]);
    }

    #[test]
    fn bad_padding_is_an_error() {
        assert!(error("ZeroPadding2D", json!({"padding": "same"})).contains("bad padding"));
    }
}
