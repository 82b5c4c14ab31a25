//! Keras image augmentation layers: `RandomFlip`, `RandomRotation`, `RandomZoom`.
//! In training each image gets its own random transform; otherwise they pass inputs
//! through unchanged.

use std::any::Any;

use serde_json::{json, Value};

use super::common::channels_last;
use super::{Forward, KerasLayer, LayerKind, Shape};
use crate::error::Result;
use crate::graph::Var;
use crate::options::Options;
use crate::tensor::Tensor;
use crate::{bail, ensure};

pub const FLIP_SIGNATURE: &[&str] = &["mode", "seed"];
pub const ROTATION_SIGNATURE: &[&str] = &["factor", "fill_mode", "interpolation", "seed", "fill_value"];
pub const ZOOM_SIGNATURE: &[&str] = &["height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value"];

/// Options every augmentation layer accepts but does not act on: the transforms draw
/// from the run's random stream (no per-layer seed) and always reflect with bilinear
/// sampling, as Keras's defaults.
fn accept_common(o: &Options) -> Result<()> {
    channels_last(o)?;
    o.accept(&["seed", "fill_mode", "interpolation", "fill_value"]);
    ensure!(!o.has("bounding_box_format"), "{}: bounding boxes are not supported", o.owner());
    Ok(())
}

/// A factor as a number `f` or as Keras 3 writes it, the range `[-f, f]`; the transforms
/// here draw from symmetric ranges only.
fn symmetric_factor(o: &Options, key: &str) -> Result<Option<f64>> {
    let Some(v) = o.get(key) else { return Ok(None) };
    let range = v.as_array().and_then(|a| match a.as_slice() {
        [lo, hi] => Some((lo.as_f64()?, hi.as_f64()?)),
        _ => None,
    });
    match (v.as_f64(), range) {
        (Some(f), _) => Ok(Some(f)),
        (None, Some((lo, hi))) if lo == -hi => Ok(Some(hi)),
        (None, Some((lo, hi))) => bail!("{}: {key} must be a symmetric range [-f, f], got [{lo}, {hi}]", o.owner()),
        _ => bail!("{}: {key} must be a number or a pair [-f, f], got {v}", o.owner()),
    }
}

#[derive(Debug)]
pub struct RandomFlip {
    pub horizontal: bool,
    pub vertical: bool,
}

#[derive(Debug)]
pub struct RandomRotation {
    pub factor: f64,
}

#[derive(Debug)]
pub struct RandomZoom {
    pub height_factor: f64,
    pub width_factor: Option<f64>,
}

pub fn flip_from_config(o: &Options) -> Result<LayerKind> {
    accept_common(o)?;
    let (horizontal, vertical) = match o.str("mode", "horizontal_and_vertical")?.as_str() {
        "horizontal" => (true, false),
        "vertical" => (false, true),
        "horizontal_and_vertical" => (true, true),
        other => bail!("RandomFlip: unknown mode '{other}'"),
    };
    Ok(LayerKind::new(RandomFlip { horizontal, vertical }))
}

pub fn rotation_from_config(o: &Options) -> Result<LayerKind> {
    accept_common(o)?;
    let factor = symmetric_factor(o, "factor")?.unwrap_or(f64::NAN);
    ensure!(factor.is_finite(), "RandomRotation: missing required argument factor");
    Ok(LayerKind::new(RandomRotation { factor }))
}

pub fn zoom_from_config(o: &Options) -> Result<LayerKind> {
    accept_common(o)?;
    let height_factor = symmetric_factor(o, "height_factor")?.unwrap_or(f64::NAN);
    ensure!(height_factor.is_finite(), "RandomZoom: missing required argument height_factor");
    Ok(LayerKind::new(RandomZoom { height_factor, width_factor: symmetric_factor(o, "width_factor")? }))
}

/// Apply one random affine transform per image (rows of 8 coefficients). Augmentation
/// sits on the inputs; like TensorFlow's transform op it passes no gradient back.
fn augment(x: &Var, fwd: &mut Forward, rows: impl FnOnce(&mut rand::rngs::SmallRng, usize, usize, usize) -> Vec<f32>) -> Result<Var> {
    use crate::ops::image_transform::{transform, FillMode, Interpolation};
    if !fwd.training {
        return Ok(x.clone());
    }
    let s = x.shape();
    ensure!(s.len() == 4, "expects images (batch, height, width, channels), got {:?}", s);
    let (n, h, w) = (s[0], s[1], s[2]);
    let t = Tensor::from_f32(x.value().device(), rows(fwd.rng, n, h, w), &[n, 8])?;
    Ok(Var::constant(&transform(x.value(), &t, FillMode::Reflect, Interpolation::Bilinear, 0.0)?))
}

impl KerasLayer for RandomFlip {
    fn class_name(&self) -> &'static str {
        "RandomFlip"
    }

    fn output_shape(&self, inputs: &[Shape], _layer: &str) -> Result<Shape> {
        Ok(inputs[0].clone())
    }

    fn forward(&self, inputs: &[Var], _w: &[Var], fwd: &mut Forward, _layer: &str) -> Result<Var> {
        let (hz, vt) = (self.horizontal, self.vertical);
        augment(&inputs[0], fwd, |rng, n, h, w| crate::ops::image_transform::random_flips(rng, n, h, w, hz, vt))
    }

    fn get_config(&self) -> Value {
        let mode = match (self.horizontal, self.vertical) {
            (true, false) => "horizontal",
            (false, true) => "vertical",
            _ => "horizontal_and_vertical",
        };
        json!({"mode": mode})
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl KerasLayer for RandomRotation {
    fn class_name(&self) -> &'static str {
        "RandomRotation"
    }

    fn output_shape(&self, inputs: &[Shape], _layer: &str) -> Result<Shape> {
        Ok(inputs[0].clone())
    }

    fn forward(&self, inputs: &[Var], _w: &[Var], fwd: &mut Forward, _layer: &str) -> Result<Var> {
        let factor = self.factor;
        augment(&inputs[0], fwd, |rng, n, h, w| crate::ops::image_transform::random_rotations(rng, n, h, w, factor))
    }

    fn get_config(&self) -> Value {
        json!({"factor": self.factor, "fill_mode": "reflect", "interpolation": "bilinear"})
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl KerasLayer for RandomZoom {
    fn class_name(&self) -> &'static str {
        "RandomZoom"
    }

    fn output_shape(&self, inputs: &[Shape], _layer: &str) -> Result<Shape> {
        Ok(inputs[0].clone())
    }

    fn forward(&self, inputs: &[Var], _w: &[Var], fwd: &mut Forward, _layer: &str) -> Result<Var> {
        let (hf, wf) = (self.height_factor, self.width_factor);
        augment(&inputs[0], fwd, |rng, n, h, w| crate::ops::image_transform::random_zooms(rng, n, h, w, hf, wf))
    }

    fn get_config(&self) -> Value {
        json!({
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
            "fill_mode": "reflect",
            "interpolation": "bilinear",
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
    fn configs_round_trip_and_keep_shapes() {
        let x: &[Option<usize>] = &[None, Some(8), Some(8), Some(3)];
        let k = round_trip("RandomFlip", json!({"mode": "horizontal", "seed": 1}));
        assert_eq!(output_shape(&k, &[x]).unwrap(), x.to_vec());
        round_trip("RandomRotation", json!({"factor": 0.1, "fill_mode": "reflect"}));
        let k = round_trip("RandomRotation", json!({"factor": [-0.2, 0.2]}));
        assert_eq!(k.to_config()["factor"], json!(0.2));
        round_trip("RandomZoom", json!({"height_factor": 0.2, "width_factor": 0.1}));
    }

    #[test]
    fn bad_options_are_errors() {
        assert!(error("RandomFlip", json!({"mode": "diagonal"})).contains("unknown mode 'diagonal'"));
        assert!(error("RandomRotation", json!({})).contains("missing required argument factor"));
        assert!(error("RandomZoom", json!({"height_factor": [-0.1, 0.3]})).contains("symmetric range"));
    }
}
