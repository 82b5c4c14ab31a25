//! Keras `UpSampling2D`: each image enlarged by integer factors, repeating pixels
//! ("nearest") or interpolating ("bilinear", half-pixel centres as `tf.image.resize`).

use std::any::Any;

use serde_json::{json, Value};

use super::common::channels_last;
use super::{rank4, Forward, KerasLayer, LayerKind, Shape};
use crate::error::Result;
use crate::graph::Var;
use crate::ops::resize::{ResizeMethod, ResizeSpec};
use crate::options::Options;

pub const SIGNATURE: &[&str] = &["size", "data_format", "interpolation"];

#[derive(Debug)]
pub struct UpSampling2D {
    pub size: [usize; 2],
    pub method: ResizeMethod,
}

pub fn from_config(o: &Options) -> Result<LayerKind> {
    channels_last(o)?;
    let size = o.positive_pair("size", [2, 2])?;
    let method = ResizeMethod::parse(&o.str("interpolation", "nearest")?).map_err(|e| e.context("UpSampling2D"))?;
    Ok(LayerKind::new(UpSampling2D { size, method }))
}

impl KerasLayer for UpSampling2D {
    fn class_name(&self) -> &'static str {
        "UpSampling2D"
    }

    fn output_shape(&self, inputs: &[Shape], layer: &str) -> Result<Shape> {
        let x = &inputs[0];
        rank4(x, layer)?;
        Ok(vec![x[0], x[1].map(|h| h * self.size[0]), x[2].map(|w| w * self.size[1]), x[3]])
    }

    /// Keras repeats pixels for "nearest"; with integer factors that is exactly the
    /// half-pixel nearest resize, so both methods go through the resize op.
    fn forward(&self, inputs: &[Var], _w: &[Var], _fwd: &mut Forward, _layer: &str) -> Result<Var> {
        let x = &inputs[0];
        let s = x.shape();
        crate::ensure!(s.len() == 4, "expects images (batch, height, width, channels), got shape {:?}", s);
        let size = [s[1] * self.size[0], s[2] * self.size[1]];
        x.resize(&ResizeSpec::new(s, size, self.method)?)
    }

    fn get_config(&self) -> Value {
        json!({"size": self.size, "data_format": "channels_last", "interpolation": self.method.name()})
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
        let k = round_trip("UpSampling2D", json!({}));
        assert_eq!(k.to_config(), json!({"size": [2, 2], "data_format": "channels_last", "interpolation": "nearest"}));
        assert_eq!(output_shape(&k, &[x]).unwrap(), vec![None, Some(10), Some(8), Some(3)]);
        let k = round_trip("UpSampling2D", json!({"size": [3, 1], "interpolation": "bilinear"}));
        assert_eq!(output_shape(&k, &[&[None, None, Some(4), Some(1)]]).unwrap(), vec![None, None, Some(4), Some(1)]);
        let k = round_trip("UpSampling2D", json!({"size": 4}));
        assert_eq!(k.to_config()["size"], json!([4, 4]));
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(error("UpSampling2D", json!({"size": [0, 2]})).contains("size must be positive"));
        assert!(error("UpSampling2D", json!({"interpolation": "lanczos3"})).contains("\"lanczos3\" is not supported"));
        assert!(error("UpSampling2D", json!({"data_format": "channels_first"})).contains("channels_last"));
        assert!(error("UpSampling2D", json!({"sise": 2})).contains("did you mean \"size\""));
    }
}
