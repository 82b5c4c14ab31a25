//! Layer configuration from Keras-style options: the same parser serves notebook cells
//! (`layers.Conv2D(32, 3, {activation: "relu"})`), TF.js model files and Keras configs.
//! Keys may be snake_case (Keras) or camelCase (TF.js).

use serde_json::{Map, Value};

use crate::error::Result;
use crate::nn::activation::Activation;
use crate::nn::layers::{ConvConfig, LayerKind};
use crate::ops::geometry::Padding;
use crate::ops::pool2d::PoolKind;
use crate::{bail, ensure};

/// Options with camelCase keys folded to snake_case.
pub struct Options {
    class: String,
    map: Map<String, Value>,
}

fn snake(key: &str) -> String {
    let mut out = String::new();
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

impl Options {
    pub fn new(class: &str, config: &Value) -> Result<Options> {
        let map = match config {
            Value::Object(m) => m.iter().map(|(k, v)| (snake(k), v.clone())).collect(),
            Value::Null => Map::new(),
            other => bail!("{class}: options must be an object, got {other}"),
        };
        Ok(Options { class: class.to_string(), map })
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn usize(&self, key: &str) -> Result<Option<usize>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) => Ok(Some(n as usize)),
                None => bail!("{}: {key} must be a non-negative integer, got {v}", self.class),
            },
        }
    }

    fn required_usize(&self, key: &str) -> Result<usize> {
        self.usize(key)?.ok_or_else(|| crate::Error::new(format!("{}: missing required argument {key}", self.class)))
    }

    fn f64(&self, key: &str, default: f64) -> Result<f64> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.as_f64().ok_or_else(|| crate::Error::new(format!("{}: {key} must be a number, got {v}", self.class))),
        }
    }

    fn bool(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.as_bool().ok_or_else(|| crate::Error::new(format!("{}: {key} must be true or false, got {v}", self.class))),
        }
    }

    fn str(&self, key: &str, default: &str) -> Result<String> {
        match self.get(key) {
            None => Ok(default.to_string()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v) => bail!("{}: {key} must be a string, got {v}", self.class),
        }
    }

    /// An int or a pair of ints, as Keras's kernel_size / strides / pool_size.
    fn pair(&self, key: &str) -> Result<Option<[usize; 2]>> {
        let bad = || crate::Error::new(format!("{}: {key} must be an integer or a pair of integers", self.class));
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => {
                let v = n.as_u64().ok_or_else(bad)? as usize;
                Ok(Some([v, v]))
            }
            Some(Value::Array(a)) if a.len() == 2 => {
                let h = a[0].as_u64().ok_or_else(bad)? as usize;
                let w = a[1].as_u64().ok_or_else(bad)? as usize;
                Ok(Some([h, w]))
            }
            Some(_) => Err(bad()),
        }
    }

    fn positive_pair(&self, key: &str, default: [usize; 2]) -> Result<[usize; 2]> {
        let p = self.pair(key)?.unwrap_or(default);
        ensure!(p[0] > 0 && p[1] > 0, "{}: {key} must be positive, got {:?}", self.class, p);
        Ok(p)
    }

    fn activation(&self) -> Result<Activation> {
        Activation::parse(&self.str("activation", "linear")?).map_err(|e| e.context(&self.class))
    }

    fn padding(&self) -> Result<Padding> {
        Padding::parse(&self.str("padding", "valid")?).map_err(|e| e.context(&self.class))
    }

    fn conv(&self, filters: Option<usize>) -> Result<ConvConfig> {
        let kernel = self
            .pair("kernel_size")?
            .ok_or_else(|| crate::Error::new(format!("{}: missing required argument kernel_size", self.class)))?;
        ensure!(kernel[0] > 0 && kernel[1] > 0, "{}: kernel_size must be positive", self.class);
        let data_format = self.str("data_format", "channels_last")?;
        ensure!(
            data_format == "channels_last",
            "{}: only data_format=\"channels_last\" (NHWC) is supported, got {data_format}",
            self.class
        );
        Ok(ConvConfig {
            filters: filters.unwrap_or(0),
            kernel,
            strides: self.positive_pair("strides", [1, 1])?,
            padding: self.padding()?,
            dilation: self.positive_pair("dilation_rate", [1, 1])?,
            activation: self.activation()?,
            use_bias: self.bool("use_bias", true)?,
        })
    }
}

impl LayerKind {
    /// Build a layer kind from its Keras class name and config.
    pub fn from_config(class_name: &str, config: &Value) -> Result<LayerKind> {
        let o = Options::new(class_name, config)?;
        Ok(match class_name {
            "Dense" => LayerKind::Dense {
                units: o.required_usize("units")?,
                activation: o.activation()?,
                use_bias: o.bool("use_bias", true)?,
            },
            "Conv2D" => LayerKind::Conv2D(o.conv(Some(o.required_usize("filters")?))?),
            "Conv2DTranspose" => LayerKind::Conv2DTranspose {
                conv: o.conv(Some(o.required_usize("filters")?))?,
                output_padding: o.pair("output_padding")?,
            },
            "SeparableConv2D" => LayerKind::SeparableConv2D {
                conv: o.conv(Some(o.required_usize("filters")?))?,
                depth_multiplier: o.usize("depth_multiplier")?.unwrap_or(1),
            },
            "DepthwiseConv2D" => LayerKind::DepthwiseConv2D {
                conv: o.conv(None)?,
                depth_multiplier: o.usize("depth_multiplier")?.unwrap_or(1),
            },
            "BatchNormalization" => {
                let axis = o.get("axis").and_then(|a| a.as_i64().or_else(|| a.as_array().and_then(|v| v.first()?.as_i64())));
                ensure!(
                    axis.is_none() || axis == Some(-1) || axis == Some(3),
                    "BatchNormalization: only the last (channel) axis is supported, got axis {:?}",
                    axis
                );
                LayerKind::BatchNormalization {
                    momentum: o.f64("momentum", 0.99)?,
                    epsilon: o.f64("epsilon", 1e-3)?,
                    center: o.bool("center", true)?,
                    scale: o.bool("scale", true)?,
                }
            }
            "MaxPooling2D" | "AveragePooling2D" | "MaxPool2D" | "AvgPool2D" => LayerKind::Pooling2D {
                kind: if class_name.starts_with("Max") { PoolKind::Max } else { PoolKind::Average },
                pool: o.positive_pair("pool_size", [2, 2])?,
                strides: o.pair("strides")?,
                padding: o.padding()?,
            },
            "GlobalAveragePooling2D" | "GlobalAvgPool2D" => {
                ensure!(!o.bool("keepdims", false)?, "GlobalAveragePooling2D: keepdims=True is not supported");
                LayerKind::GlobalAveragePooling2D
            }
            "Flatten" => LayerKind::Flatten,
            "Dropout" => {
                let rate = o.f64("rate", f64::NAN)?;
                ensure!((0.0..1.0).contains(&rate), "Dropout: rate must be in [0, 1), got {rate}");
                LayerKind::Dropout { rate }
            }
            "Rescaling" => {
                let scale = o.f64("scale", f64::NAN)?;
                ensure!(scale.is_finite(), "Rescaling: missing required argument scale");
                LayerKind::Rescaling { scale, offset: o.f64("offset", 0.0)? }
            }
            "Activation" => LayerKind::Activation(o.activation()?),
            "Add" => LayerKind::Add,
            "Concatenate" => LayerKind::Concatenate { axis: o.get("axis").and_then(|a| a.as_i64()).unwrap_or(-1) as isize },
            "ReLU" => {
                ensure!(
                    o.f64("negative_slope", 0.0)? == 0.0 && o.f64("threshold", 0.0)? == 0.0,
                    "ReLU: only negative_slope=0 and threshold=0 are supported"
                );
                LayerKind::ReLU { max_value: o.get("max_value").and_then(|v| v.as_f64()) }
            }
            "ZeroPadding2D" => {
                let bad = || crate::Error::new(format!("ZeroPadding2D: bad padding {:?}", o.get("padding")));
                let n = |v: &Value| v.as_u64().map(|x| x as usize).ok_or_else(bad);
                let padding = match o.get("padding") {
                    None => [[1, 1], [1, 1]],
                    Some(Value::Number(_)) => {
                        let p = n(o.get("padding").unwrap_or(&Value::Null))?;
                        [[p, p], [p, p]]
                    }
                    Some(Value::Array(a)) if a.len() == 2 => match (&a[0], &a[1]) {
                        (Value::Array(h), Value::Array(w)) if h.len() == 2 && w.len() == 2 => {
                            [[n(&h[0])?, n(&h[1])?], [n(&w[0])?, n(&w[1])?]]
                        }
                        (h, w) => [[n(h)?, n(h)?], [n(w)?, n(w)?]],
                    },
                    Some(_) => return Err(bad()),
                };
                LayerKind::ZeroPadding2D { padding }
            }
            "RandomFlip" => {
                let mode = o.str("mode", "horizontal_and_vertical")?;
                match mode.as_str() {
                    "horizontal" => LayerKind::RandomFlip { horizontal: true, vertical: false },
                    "vertical" => LayerKind::RandomFlip { horizontal: false, vertical: true },
                    "horizontal_and_vertical" => LayerKind::RandomFlip { horizontal: true, vertical: true },
                    other => bail!("RandomFlip: unknown mode '{other}'"),
                }
            }
            "RandomRotation" => {
                let factor = o.f64("factor", f64::NAN)?;
                ensure!(factor.is_finite(), "RandomRotation: missing required argument factor");
                LayerKind::RandomRotation { factor }
            }
            "RandomZoom" => {
                let height_factor = o.f64("height_factor", f64::NAN)?;
                ensure!(height_factor.is_finite(), "RandomZoom: missing required argument height_factor");
                LayerKind::RandomZoom { height_factor, width_factor: o.get("width_factor").and_then(|v| v.as_f64()) }
            }
            other => bail!("unknown or unsupported layer class '{other}'"),
        })
    }
}
