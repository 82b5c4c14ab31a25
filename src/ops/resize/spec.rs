//! Resize vocabulary: the interpolation methods, the spec of one resize, the per-axis
//! sampling taps both devices read, and Keras's aspect-ratio crop and pad boxes.
//! Both devices consume it; it depends on neither.

use crate::error::Result;
use crate::options::Options;
use crate::shape::fmt_shape;
use crate::{bail, ensure};

/// `tf.image.resize` methods with `antialias=False`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResizeMethod {
    /// Linear between the two nearest pixels on each axis (`"bilinear"`).
    Bilinear,
    /// The nearest pixel, no blending (`"nearest"`).
    Nearest,
}

impl ResizeMethod {
    /// Keras's `interpolation` name (any case); TF's other methods are named as unsupported.
    pub fn parse(s: &str) -> Result<ResizeMethod> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "bilinear" => ResizeMethod::Bilinear,
            "nearest" => ResizeMethod::Nearest,
            "bicubic" | "lanczos3" | "lanczos5" | "area" | "gaussian" | "mitchellcubic" => {
                bail!("interpolation \"{s}\" is not supported (use \"bilinear\" or \"nearest\")")
            }
            _ => bail!("unknown interpolation \"{s}\" (use \"bilinear\" or \"nearest\")"),
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            ResizeMethod::Bilinear => "bilinear",
            ResizeMethod::Nearest => "nearest",
        }
    }
}

/// Shapes of one resize of an NHWC batch to `(out_h, out_w)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResizeSpec {
    pub(crate) batch: usize,
    pub(crate) in_h: usize,
    pub(crate) in_w: usize,
    pub(crate) channels: usize,
    pub(crate) out_h: usize,
    pub(crate) out_w: usize,
    pub(crate) method: ResizeMethod,
}

impl ResizeSpec {
    /// The spec of resizing `input_shape` (N, H, W, C) to `size` [height, width].
    pub fn new(input_shape: &[usize], size: [usize; 2], method: ResizeMethod) -> Result<ResizeSpec> {
        ensure!(
            input_shape.len() == 4,
            "resize: expects images (batch, height, width, channels), got shape {}",
            fmt_shape(input_shape)
        );
        let s = input_shape;
        ensure!(
            s[1] > 0 && s[2] > 0 && s[3] > 0,
            "resize: images of shape {} need positive height, width and channels",
            fmt_shape(s)
        );
        ensure!(size[0] > 0 && size[1] > 0, "resize: size must be positive, got {size:?}");
        Ok(ResizeSpec { batch: s[0], in_h: s[1], in_w: s[2], channels: s[3], out_h: size[0], out_w: size[1], method })
    }

    pub(crate) fn input_shape(&self) -> [usize; 4] {
        [self.batch, self.in_h, self.in_w, self.channels]
    }

    pub(crate) fn output_shape(&self) -> [usize; 4] {
        [self.batch, self.out_h, self.out_w, self.channels]
    }

    pub(crate) fn rows(&self) -> AxisTaps {
        AxisTaps::new(self.in_h, self.out_h, self.method)
    }

    pub(crate) fn columns(&self) -> AxisTaps {
        AxisTaps::new(self.in_w, self.out_w, self.method)
    }
}

/// Where one output row (or column) samples the input: `lower` and `upper` with weights
/// `1 - lerp` and `lerp`. `lower == upper` (then `lerp == 0`) is a plain copy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tap {
    pub(crate) lower: usize,
    pub(crate) upper: usize,
    pub(crate) lerp: f64,
}

impl Tap {
    /// The weight this tap gives input index `i` (the derivative of the output by it).
    pub fn weight(&self, i: usize) -> f64 {
        let mut w = 0.0;
        if self.lower == i {
            w += 1.0 - self.lerp;
        }
        if self.upper == i && self.upper != self.lower {
            w += self.lerp;
        }
        w
    }
}

/// One axis of a resize, separable from the other: a tap per output index, and for
/// each input index the range `[first, end)` of outputs whose taps touch it (what the
/// input gradient gathers over; empty for inputs nothing samples).
#[derive(Clone, Debug, PartialEq)]
pub struct AxisTaps {
    pub(crate) taps: Vec<Tap>,
    pub(crate) covers: Vec<(usize, usize)>,
}

impl AxisTaps {
    /// Half-pixel centres, as TF2's `tf.image.resize` (antialias=False) and Keras 3:
    /// output index o looks at input coordinate (o + ½)·in/out − ½. Bilinear takes the
    /// two neighbours clamped to the image; nearest takes floor((o + ½)·scale) with the
    /// scale in/out rounded to f32 and the product in f32, exactly as TensorFlow's kernel
    /// (and XLA's, under JAX): where the true product is a whole number the rounded one
    /// can fall just short of it, and the pixel before is the one both frameworks take.
    pub fn new(in_len: usize, out_len: usize, method: ResizeMethod) -> AxisTaps {
        let (n, m) = (in_len as u64, out_len as u64);
        let nearest_scale = in_len as f32 / out_len as f32;
        let taps: Vec<Tap> = (0..m)
            .map(|o| match method {
                ResizeMethod::Nearest => {
                    let position = (o as f32 + 0.5) * nearest_scale;
                    let src = (position.floor().max(0.0) as usize).min(in_len - 1);
                    Tap { lower: src, upper: src, lerp: 0.0 }
                }
                ResizeMethod::Bilinear => {
                    let x = ((2 * o + 1) * n) as f64 / (2 * m) as f64 - 0.5;
                    let floor = x.floor();
                    let lower = floor.max(0.0) as usize;
                    let upper = (x.ceil().max(0.0) as usize).min(in_len - 1);
                    if lower >= upper {
                        Tap { lower: lower.min(in_len - 1), upper: lower.min(in_len - 1), lerp: 0.0 }
                    } else {
                        Tap { lower, upper, lerp: x - floor }
                    }
                }
            })
            .collect();
        let mut covers = vec![(usize::MAX, 0); in_len];
        for (o, t) in taps.iter().enumerate() {
            for i in [t.lower, t.upper] {
                let c = &mut covers[i];
                *c = (c.0.min(o), c.1.max(o + 1));
            }
        }
        for c in &mut covers {
            if c.0 == usize::MAX {
                *c = (0, 0);
            }
        }
        AxisTaps { taps, covers }
    }
}

/// What happens to the aspect ratio before resizing (Keras's `crop_to_aspect_ratio`,
/// `pad_to_aspect_ratio` and `fill_value`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Aspect {
    /// Stretch to the target (Keras's default).
    Stretch,
    /// Crop the largest centred window with the target's ratio.
    Crop,
    /// Pad the short side evenly with the value.
    Pad(f64),
}

/// Keras's resize arguments as `Resizing` and `ops.image.resize` take them:
/// `interpolation` ("bilinear"), `crop_to_aspect_ratio`, `pad_to_aspect_ratio`,
/// `fill_mode` ("constant", Keras's only one), `fill_value` and `antialias` (false only).
/// With `tf_names`, `method` (tf.image.resize's name for `interpolation`) is read too.
pub fn read_resize_options(o: &Options, tf_names: bool) -> Result<(ResizeMethod, Aspect)> {
    let owner = o.owner().to_string();
    let method = match (o.opt_str("interpolation")?, if tf_names { o.opt_str("method")? } else { None }) {
        (Some(_), Some(_)) => bail!("{owner}: give interpolation or method, not both"),
        (Some(m), None) | (None, Some(m)) => m,
        (None, None) => "bilinear".to_string(),
    };
    let method = ResizeMethod::parse(&method).map_err(|e| e.context(&owner))?;
    let crop = o.bool("crop_to_aspect_ratio", false)?;
    let pad = o.bool("pad_to_aspect_ratio", false)?;
    ensure!(!(crop && pad), "{owner}: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be true");
    let fill_mode = o.str("fill_mode", "constant")?;
    ensure!(fill_mode == "constant", "{owner}: fill_mode must be \"constant\" (the only mode Keras has), got \"{fill_mode}\"");
    let fill_value = o.f64("fill_value", 0.0)?;
    ensure!(!o.bool("antialias", false)?, "{owner}: antialias=true is not supported (only antialias=false)");
    let aspect = match (crop, pad) {
        (true, _) => Aspect::Crop,
        (_, true) => Aspect::Pad(fill_value),
        _ => Aspect::Stretch,
    };
    Ok((method, aspect))
}

/// Keras's `crop_to_aspect_ratio`: the centred window of an `in_h`×`in_w` image with the
/// target's aspect ratio, as (top, left, height, width), Keras's integer arithmetic.
pub fn aspect_crop(in_h: usize, in_w: usize, target: [usize; 2]) -> (usize, usize, usize, usize) {
    let (th, tw) = (target[0] as f64, target[1] as f64);
    let crop_h = ((in_w as f64 * th / tw) as usize).clamp(1, in_h.max(1));
    let crop_w = ((in_h as f64 * tw / th) as usize).clamp(1, in_w.max(1));
    (in_h.saturating_sub(crop_h) / 2, in_w.saturating_sub(crop_w) / 2, crop_h, crop_w)
}

/// Keras's `pad_to_aspect_ratio`: rows (or columns) of fill added on each side before
/// resizing, as ((top, bottom), (left, right)). Keras pads the same amount on both
/// sides, so an odd difference loses a pixel, and pads rows only when it pads rows.
pub fn aspect_pad(in_h: usize, in_w: usize, target: [usize; 2]) -> ((usize, usize), (usize, usize)) {
    let (th, tw) = (target[0] as f64, target[1] as f64);
    let pad_h = ((in_w as f64 * th / tw) as usize).max(in_h);
    let pad_w = ((in_h as f64 * tw / th) as usize).max(in_w);
    let (top, left) = ((pad_h - in_h) / 2, (pad_w - in_w) / 2);
    if top > 0 {
        ((top, top), (0, 0))
    } else if left > 0 {
        ((0, 0), (left, left))
    } else {
        ((0, 0), (0, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_taps_follow_half_pixel_centres() {
        let t = AxisTaps::new(4, 2, ResizeMethod::Nearest);
        assert_eq!(t.taps.iter().map(|t| t.lower).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(t.covers, [(0, 0), (0, 1), (0, 0), (1, 2)]);
        let t = AxisTaps::new(2, 6, ResizeMethod::Nearest);
        assert_eq!(t.taps.iter().map(|t| t.lower).collect::<Vec<_>>(), [0, 0, 0, 1, 1, 1]);
        // (o + ½)·2/41 is 1 at o = 20, but the f32 product is just below it: pixel 0,
        // as TensorFlow and JAX give.
        let t = AxisTaps::new(2, 41, ResizeMethod::Nearest);
        assert_eq!(t.taps[20].lower, 0);
        assert_eq!(t.taps[21].lower, 1);
    }

    #[test]
    fn bilinear_taps_clamp_at_the_edges() {
        let t = AxisTaps::new(2, 4, ResizeMethod::Bilinear);
        // Coordinates -0.25, 0.25, 0.75, 1.25.
        assert_eq!(t.taps[0], Tap { lower: 0, upper: 0, lerp: 0.0 });
        assert_eq!(t.taps[1], Tap { lower: 0, upper: 1, lerp: 0.25 });
        assert_eq!(t.taps[2], Tap { lower: 0, upper: 1, lerp: 0.75 });
        assert_eq!(t.taps[3], Tap { lower: 1, upper: 1, lerp: 0.0 });
        assert_eq!(t.covers, [(0, 3), (1, 4)]);
        assert_eq!(t.taps[1].weight(0), 0.75);
        assert_eq!(t.taps[0].weight(0), 1.0);
        // Same size: every tap is a copy.
        let t = AxisTaps::new(5, 5, ResizeMethod::Bilinear);
        assert!(t.taps.iter().enumerate().all(|(o, t)| t.lower == o && t.upper == o && t.lerp == 0.0));
    }

    #[test]
    fn aspect_boxes_follow_keras() {
        assert_eq!(aspect_crop(10, 20, [5, 5]), (0, 5, 10, 10));
        assert_eq!(aspect_crop(9, 4, [2, 4]), (3, 0, 2, 4));
        assert_eq!(aspect_pad(10, 20, [5, 5]), ((5, 5), (0, 0)));
        assert_eq!(aspect_pad(9, 4, [3, 4]), ((0, 0), (4, 4)));
        assert_eq!(aspect_pad(4, 4, [3, 3]), ((0, 0), (0, 0)));
    }

    #[test]
    fn options_read_keras_and_tf_names() {
        use serde_json::json;
        let read = |v: serde_json::Value, tf: bool| -> Result<(ResizeMethod, Aspect)> {
            let o = Options::new("resize", &v)?;
            let r = read_resize_options(&o, tf)?;
            o.finish()?;
            Ok(r)
        };
        let err = |v, tf| read(v, tf).unwrap_err().to_string();
        assert_eq!(read(serde_json::Value::Null, true).unwrap(), (ResizeMethod::Bilinear, Aspect::Stretch));
        let crop = read(json!({"method": "nearest", "cropToAspectRatio": true}), true).unwrap();
        assert_eq!(crop, (ResizeMethod::Nearest, Aspect::Crop));
        let pad = read(json!({"pad_to_aspect_ratio": true, "fill_value": 1}), false).unwrap();
        assert_eq!(pad, (ResizeMethod::Bilinear, Aspect::Pad(1.0)));
        assert!(err(json!({"method": "nearest"}), false).contains("unrecognized keyword argument \"method\""));
        assert!(err(json!({"method": "nearest", "interpolation": "nearest"}), true).contains("not both"));
        assert!(err(json!({"method": "area"}), true).contains("resize: interpolation \"area\" is not supported"));
        assert!(err(json!({"antialias": true}), true).contains("antialias=true is not supported"));
        assert!(err(json!({"fill_mode": "reflect"}), true).contains("fill_mode must be \"constant\""));
    }

    #[test]
    fn unsupported_methods_are_named() {
        assert!(ResizeMethod::parse("bicubic").unwrap_err().to_string().contains("\"bicubic\" is not supported"));
        assert_eq!(ResizeMethod::parse("Nearest").unwrap(), ResizeMethod::Nearest);
    }
}
