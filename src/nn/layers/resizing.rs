//! Keras `Resizing`: images resized to (height, width), bilinear or nearest, optionally
//! after a centred crop or pad to the target's aspect ratio.

use std::any::Any;

use serde_json::{json, Value};

use super::common::channels_last;
use super::{rank4, Forward, KerasLayer, LayerKind, Shape};
use crate::error::Result;
use crate::graph::Var;
use crate::ops::resize::spec::read_resize_options;
use crate::ops::resize::{aspect_crop, aspect_pad, Aspect, ResizeMethod, ResizeSpec};
use crate::options::Options;
use crate::ensure;

pub const SIGNATURE: &[&str] = &[
    "height",
    "width",
    "interpolation",
    "crop_to_aspect_ratio",
    "pad_to_aspect_ratio",
    "fill_mode",
    "fill_value",
    "antialias",
    "data_format",
];

#[derive(Debug)]
pub struct Resizing {
    pub height: usize,
    pub width: usize,
    pub method: ResizeMethod,
    pub aspect: Aspect,
}

pub fn from_config(o: &Options) -> Result<LayerKind> {
    channels_last(o)?;
    let height = o.required_usize("height")?;
    let width = o.required_usize("width")?;
    ensure!(height > 0 && width > 0, "Resizing: height and width must be positive, got {height} and {width}");
    let (method, aspect) = read_resize_options(o, false)?;
    Ok(LayerKind::new(Resizing { height, width, method, aspect }))
}

/// Resize a batch on the tape, cropping or padding first as `aspect` says (the tape
/// twin of `ops::resize::resize_images`).
fn resize_images(x: &Var, size: [usize; 2], method: ResizeMethod, aspect: Aspect) -> Result<Var> {
    let s = x.shape().to_vec();
    // Checks the images' shape before any crop or pad arithmetic.
    let spec = ResizeSpec::new(&s, size, method)?;
    let x = match aspect {
        Aspect::Stretch => return x.resize(&spec),
        Aspect::Crop => {
            let (top, left, h, w) = aspect_crop(s[1], s[2], size);
            x.slice(&[0, top, left, 0], &[s[0], h, w, s[3]])?
        }
        Aspect::Pad(fill) => {
            let (rows, cols) = aspect_pad(s[1], s[2], size);
            x.pad(&[(0, 0), rows, cols, (0, 0)], fill)?
        }
    };
    x.resize(&ResizeSpec::new(x.shape(), size, method)?)
}

impl KerasLayer for Resizing {
    fn class_name(&self) -> &'static str {
        "Resizing"
    }

    fn output_shape(&self, inputs: &[Shape], layer: &str) -> Result<Shape> {
        let x = &inputs[0];
        rank4(x, layer)?;
        Ok(vec![x[0], Some(self.height), Some(self.width), x[3]])
    }

    fn forward(&self, inputs: &[Var], _w: &[Var], _fwd: &mut Forward, _layer: &str) -> Result<Var> {
        resize_images(&inputs[0], [self.height, self.width], self.method, self.aspect)
    }

    fn get_config(&self) -> Value {
        let fill_value = match self.aspect {
            Aspect::Pad(v) => v,
            _ => 0.0,
        };
        json!({
            "height": self.height,
            "width": self.width,
            "interpolation": self.method.name(),
            "crop_to_aspect_ratio": self.aspect == Aspect::Crop,
            "pad_to_aspect_ratio": matches!(self.aspect, Aspect::Pad(_)),
            "fill_mode": "constant",
            "fill_value": fill_value,
            "antialias": false,
            "data_format": "channels_last",
        })
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
        let k = round_trip("Resizing", json!({"height": 8, "width": 6}));
        assert_eq!(output_shape(&k, &[x]).unwrap(), vec![None, Some(8), Some(6), Some(3)]);
        assert_eq!(k.to_config()["interpolation"], "bilinear");
        let k = round_trip("Resizing", json!({"height": 2, "width": 3, "interpolation": "nearest", "crop_to_aspect_ratio": true}));
        assert_eq!(k.to_config()["crop_to_aspect_ratio"], true);
        let k = round_trip("Resizing", json!({"height": 2, "width": 3, "padToAspectRatio": true, "fillValue": 0.5}));
        assert_eq!(k.to_config()["fill_value"], 0.5);
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(error("Resizing", json!({"height": 2})).contains("width"));
        assert!(error("Resizing", json!({"height": 2, "width": 2, "interpolation": "bicubic"})).contains("\"bicubic\" is not supported"));
        assert!(error("Resizing", json!({"height": 2, "width": 2, "antialias": true})).contains("antialias"));
        let both = json!({"height": 2, "width": 2, "crop_to_aspect_ratio": true, "pad_to_aspect_ratio": true});
        assert!(error("Resizing", both).contains("only one of"));
        assert!(error("Resizing", json!({"height": 0, "width": 2})).contains("positive"));
        let k = round_trip("Resizing", json!({"height": 2, "width": 2}));
        assert!(output_shape(&k, &[&[None, Some(3)]]).unwrap_err().to_string().contains("4-D input"));
    }
}
