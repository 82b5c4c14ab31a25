//! Keras `MaxPooling2D`, `AveragePooling2D` (windows over height and width) and
//! `GlobalAveragePooling2D` (the mean over height and width).

use std::any::Any;

use serde_json::{json, Value};

use super::common::{channels_last, padding};
use super::{rank4, window_len, Forward, KerasLayer, LayerKind, Shape};
use crate::ensure;
use crate::error::Result;
use crate::graph::Var;
use crate::ops::pool2d::pool2d_spec;
use crate::options::Options;
use crate::ops::geometry::Padding;
use crate::ops::pool2d::PoolKind;

pub const SIGNATURE: &[&str] = &["pool_size", "strides", "padding", "data_format"];
pub const GLOBAL_SIGNATURE: &[&str] = &["data_format", "keepdims"];

#[derive(Debug)]
pub struct Pooling2D {
    pub kind: PoolKind,
    pub pool: [usize; 2],
    /// None: the pool size, as Keras.
    pub strides: Option<[usize; 2]>,
    pub padding: Padding,
}

fn pooling(o: &Options, kind: PoolKind) -> Result<LayerKind> {
    channels_last(o)?;
    Ok(LayerKind::new(Pooling2D {
        kind,
        pool: o.positive_pair("pool_size", [2, 2])?,
        strides: o.pair("strides")?,
        padding: padding(o)?,
    }))
}

pub fn max_from_config(o: &Options) -> Result<LayerKind> {
    pooling(o, PoolKind::Max)
}

pub fn average_from_config(o: &Options) -> Result<LayerKind> {
    pooling(o, PoolKind::Average)
}

impl KerasLayer for Pooling2D {
    fn class_name(&self) -> &'static str {
        match self.kind {
            PoolKind::Max => "MaxPooling2D",
            PoolKind::Average => "AveragePooling2D",
        }
    }

    fn output_shape(&self, inputs: &[Shape], layer: &str) -> Result<Shape> {
        let x = &inputs[0];
        rank4(x, layer)?;
        let (p, s) = (self.pool, self.strides.unwrap_or(self.pool));
        Ok(vec![x[0], window_len(x[1], p[0], s[0], 1, self.padding)?, window_len(x[2], p[1], s[1], 1, self.padding)?, x[3]])
    }

    fn forward(&self, inputs: &[Var], _w: &[Var], _fwd: &mut Forward, _layer: &str) -> Result<Var> {
        let x = &inputs[0];
        let spec = pool2d_spec(x.value(), self.kind, self.pool, self.strides, self.padding)?;
        x.pool2d(&spec)
    }

    fn get_config(&self) -> Value {
        json!({
            "pool_size": self.pool,
            "strides": self.strides.unwrap_or(self.pool),
            "padding": self.padding.name(),
            "data_format": "channels_last",
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[derive(Debug)]
pub struct GlobalAveragePooling2D;

pub fn global_average_from_config(o: &Options) -> Result<LayerKind> {
    channels_last(o)?;
    ensure!(!o.bool("keepdims", false)?, "GlobalAveragePooling2D: keepdims=True is not supported");
    Ok(LayerKind::new(GlobalAveragePooling2D))
}

impl KerasLayer for GlobalAveragePooling2D {
    fn class_name(&self) -> &'static str {
        "GlobalAveragePooling2D"
    }

    fn output_shape(&self, inputs: &[Shape], layer: &str) -> Result<Shape> {
        let x = &inputs[0];
        rank4(x, layer)?;
        Ok(vec![x[0], x[3]])
    }

    fn forward(&self, inputs: &[Var], _w: &[Var], _fwd: &mut Forward, _layer: &str) -> Result<Var> {
        inputs[0].mean(&[1, 2], false)
    }

    fn get_config(&self) -> Value {
        json!({"data_format": "channels_last", "keepdims": false})
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
        let x: &[Option<usize>] = &[None, Some(7), Some(7), Some(3)];
        let k = round_trip("MaxPooling2D", json!({"pool_size": 2}));
        assert_eq!(output_shape(&k, &[x]).unwrap(), vec![None, Some(3), Some(3), Some(3)]);
        let k = round_trip("AvgPool2D", json!({"pool_size": 3, "strides": 2, "padding": "same"}));
        assert_eq!(k.class_name(), "AveragePooling2D");
        assert_eq!(output_shape(&k, &[x]).unwrap(), vec![None, Some(4), Some(4), Some(3)]);
        let k = round_trip("GlobalAvgPool2D", json!({}));
        assert_eq!(output_shape(&k, &[x]).unwrap(), vec![None, Some(3)]);
    }

    #[test]
    fn unsupported_values_are_errors() {
        assert!(error("GlobalAveragePooling2D", json!({"keepdims": true})).contains("keepdims=True is not supported"));
        assert!(error("MaxPooling2D", json!({"pool_size": 0})).contains("pool_size must be positive"));
        let k = round_trip("MaxPooling2D", json!({}));
        assert!(output_shape(&k, &[&[None, Some(3)]]).unwrap_err().to_string().contains("4-D input"));
    }
}
