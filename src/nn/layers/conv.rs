//! The convolution family: `Conv2D`, `Conv2DTranspose`, `SeparableConv2D` and
//! `DepthwiseConv2D`, sharing [`ConvConfig`] (kernel, strides, padding, dilation,
//! activation, bias).

use std::any::Any;

use serde_json::{json, Value};

use super::common::{accept_weight_options, with, ConvConfig};
use super::{known, rank4, spec, weight, window_len, Dim, Forward, KerasLayer, LayerKind, Shape, WeightSpec};
use crate::ensure;
use crate::error::Result;
use crate::graph::Var;
use crate::nn::init::Initializer::{GlorotUniform, Zeros};
use crate::ops::conv2d::conv2d_spec;
use crate::ops::conv_transpose2d::conv_transpose2d_spec;
use crate::ops::depthwise_conv2d::depthwise_conv2d_spec;
use crate::options::Options;
use crate::ops::geometry::{conv_transpose_output_len, Padding};

pub const CONV2D_SIGNATURE: &[&str] =
    &["filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups", "activation", "use_bias"];
pub const TRANSPOSE_SIGNATURE: &[&str] = &[
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "output_padding",
    "data_format",
    "dilation_rate",
    "activation",
    "use_bias",
];
pub const SEPARABLE_SIGNATURE: &[&str] = &[
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "data_format",
    "dilation_rate",
    "depth_multiplier",
    "activation",
    "use_bias",
];
pub const DEPTHWISE_SIGNATURE: &[&str] =
    &["kernel_size", "strides", "padding", "depth_multiplier", "data_format", "dilation_rate", "activation", "use_bias"];

#[derive(Debug)]
pub struct Conv2D(pub ConvConfig);

#[derive(Debug)]
pub struct Conv2DTranspose {
    pub conv: ConvConfig,
    pub output_padding: Option<[usize; 2]>,
}

#[derive(Debug)]
pub struct SeparableConv2D {
    pub conv: ConvConfig,
    pub depth_multiplier: usize,
}

#[derive(Debug)]
pub struct DepthwiseConv2D {
    pub conv: ConvConfig,
    pub depth_multiplier: usize,
}

pub fn conv2d_from_config(o: &Options) -> Result<LayerKind> {
    let filters = o.required_usize("filters")?;
    ensure!(o.usize_or("groups", 1)? == 1, "Conv2D: only groups=1 is supported");
    accept_weight_options(o, &["kernel"]);
    Ok(LayerKind::new(Conv2D(ConvConfig::read(o, Some(filters))?)))
}

pub fn transpose_from_config(o: &Options) -> Result<LayerKind> {
    let filters = o.required_usize("filters")?;
    accept_weight_options(o, &["kernel"]);
    let conv = ConvConfig::read(o, Some(filters))?;
    Ok(LayerKind::new(Conv2DTranspose { conv, output_padding: o.pair("output_padding")? }))
}

pub fn separable_from_config(o: &Options) -> Result<LayerKind> {
    let filters = o.required_usize("filters")?;
    accept_weight_options(o, &["depthwise", "pointwise"]);
    let conv = ConvConfig::read(o, Some(filters))?;
    Ok(LayerKind::new(SeparableConv2D { conv, depth_multiplier: o.usize_or("depth_multiplier", 1)? }))
}

pub fn depthwise_from_config(o: &Options) -> Result<LayerKind> {
    accept_weight_options(o, &["depthwise"]);
    let conv = ConvConfig::read(o, None)?;
    Ok(LayerKind::new(DepthwiseConv2D { conv, depth_multiplier: o.usize_or("depth_multiplier", 1)? }))
}

/// Output shape of a forward window convolution with `channels` output channels.
fn window_shape(c: &ConvConfig, x: &Shape, channels: usize, layer: &str) -> Result<Shape> {
    rank4(x, layer)?;
    Ok(vec![
        x[0],
        window_len(x[1], c.kernel[0], c.strides[0], c.dilation[0], c.padding)?,
        window_len(x[2], c.kernel[1], c.strides[1], c.dilation[1], c.padding)?,
        Some(channels),
    ])
}

fn with_bias(mut w: Vec<WeightSpec>, c: &ConvConfig, units: usize) -> Vec<WeightSpec> {
    if c.use_bias {
        w.push(spec("bias", vec![units], Zeros, true));
    }
    w
}

fn channels(inputs: &[Shape], layer: &str) -> Result<usize> {
    known(inputs[0].last().copied().flatten(), "channel", layer)
}

fn bias<'a>(c: &ConvConfig, w: &'a [Var], i: usize, layer: &str) -> Result<Option<&'a Var>> {
    if c.use_bias {
        weight(w, i, layer).map(Some)
    } else {
        Ok(None)
    }
}

impl KerasLayer for Conv2D {
    fn class_name(&self) -> &'static str {
        "Conv2D"
    }

    fn output_shape(&self, inputs: &[Shape], layer: &str) -> Result<Shape> {
        window_shape(&self.0, &inputs[0], self.0.filters, layer)
    }

    fn weight_specs(&self, inputs: &[Shape], layer: &str) -> Result<Vec<WeightSpec>> {
        let c = &self.0;
        let kernel = spec("kernel", vec![c.kernel[0], c.kernel[1], channels(inputs, layer)?, c.filters], GlorotUniform, true);
        Ok(with_bias(vec![kernel], c, c.filters))
    }

    fn forward(&self, inputs: &[Var], w: &[Var], _fwd: &mut Forward, layer: &str) -> Result<Var> {
        let (x, c) = (&inputs[0], &self.0);
        let k = weight(w, 0, layer)?;
        let spec = conv2d_spec(x.value(), k.value(), c.strides, c.padding, c.dilation)?;
        c.activation.apply(&x.conv2d(k, bias(c, w, 1, layer)?, &spec)?)
    }

    fn get_config(&self) -> Value {
        with(self.0.config(), json!({"filters": self.0.filters}))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl KerasLayer for Conv2DTranspose {
    fn class_name(&self) -> &'static str {
        "Conv2DTranspose"
    }

    fn output_shape(&self, inputs: &[Shape], layer: &str) -> Result<Shape> {
        let (x, c) = (&inputs[0], &self.conv);
        rank4(x, layer)?;
        let len = |d: Dim, a: usize| -> Result<Dim> {
            d.map(|i| conv_transpose_output_len(i, c.kernel[a], c.strides[a], 1, c.padding, self.output_padding.map(|p| p[a])))
                .transpose()
        };
        Ok(vec![x[0], len(x[1], 0)?, len(x[2], 1)?, Some(c.filters)])
    }

    fn weight_specs(&self, inputs: &[Shape], layer: &str) -> Result<Vec<WeightSpec>> {
        let c = &self.conv;
        let kernel = spec("kernel", vec![c.kernel[0], c.kernel[1], c.filters, channels(inputs, layer)?], GlorotUniform, true);
        Ok(with_bias(vec![kernel], c, c.filters))
    }

    fn forward(&self, inputs: &[Var], w: &[Var], _fwd: &mut Forward, layer: &str) -> Result<Var> {
        let (x, c) = (&inputs[0], &self.conv);
        let k = weight(w, 0, layer)?;
        let spec = conv_transpose2d_spec(x.value(), k.value(), c.strides, c.padding, self.output_padding)?;
        c.activation.apply(&x.conv_transpose2d(k, bias(c, w, 1, layer)?, &spec)?)
    }

    fn get_config(&self) -> Value {
        with(self.conv.config(), json!({"filters": self.conv.filters, "output_padding": self.output_padding}))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl KerasLayer for SeparableConv2D {
    fn class_name(&self) -> &'static str {
        "SeparableConv2D"
    }

    fn output_shape(&self, inputs: &[Shape], layer: &str) -> Result<Shape> {
        window_shape(&self.conv, &inputs[0], self.conv.filters, layer)
    }

    fn weight_specs(&self, inputs: &[Shape], layer: &str) -> Result<Vec<WeightSpec>> {
        let (c, m) = (&self.conv, self.depth_multiplier);
        let cin = channels(inputs, layer)?;
        let w = vec![
            spec("depthwise_kernel", vec![c.kernel[0], c.kernel[1], cin, m], GlorotUniform, true),
            spec("pointwise_kernel", vec![1, 1, cin * m, c.filters], GlorotUniform, true),
        ];
        Ok(with_bias(w, c, c.filters))
    }

    fn forward(&self, inputs: &[Var], w: &[Var], _fwd: &mut Forward, layer: &str) -> Result<Var> {
        let (x, c) = (&inputs[0], &self.conv);
        let (dk, pk) = (weight(w, 0, layer)?, weight(w, 1, layer)?);
        let dspec = depthwise_conv2d_spec(x.value(), dk.value(), c.strides, c.padding, c.dilation)?;
        let mid = x.depthwise_conv2d(dk, None, &dspec)?;
        let pspec = conv2d_spec(mid.value(), pk.value(), [1, 1], Padding::Valid, [1, 1])?;
        c.activation.apply(&mid.conv2d(pk, bias(c, w, 2, layer)?, &pspec)?)
    }

    fn get_config(&self) -> Value {
        with(self.conv.config(), json!({"filters": self.conv.filters, "depth_multiplier": self.depth_multiplier}))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl KerasLayer for DepthwiseConv2D {
    fn class_name(&self) -> &'static str {
        "DepthwiseConv2D"
    }

    fn output_shape(&self, inputs: &[Shape], layer: &str) -> Result<Shape> {
        rank4(&inputs[0], layer)?;
        let out = channels(inputs, layer)? * self.depth_multiplier;
        window_shape(&self.conv, &inputs[0], out, layer)
    }

    fn weight_specs(&self, inputs: &[Shape], layer: &str) -> Result<Vec<WeightSpec>> {
        let (c, m) = (&self.conv, self.depth_multiplier);
        let cin = channels(inputs, layer)?;
        Ok(with_bias(vec![spec("kernel", vec![c.kernel[0], c.kernel[1], cin, m], GlorotUniform, true)], c, cin * m))
    }

    fn forward(&self, inputs: &[Var], w: &[Var], _fwd: &mut Forward, layer: &str) -> Result<Var> {
        let (x, c) = (&inputs[0], &self.conv);
        let k = weight(w, 0, layer)?;
        let spec = depthwise_conv2d_spec(x.value(), k.value(), c.strides, c.padding, c.dilation)?;
        c.activation.apply(&x.depthwise_conv2d(k, bias(c, w, 1, layer)?, &spec)?)
    }

    fn get_config(&self) -> Value {
        with(self.conv.config(), json!({"depth_multiplier": self.depth_multiplier}))
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
        let x: &[Option<usize>] = &[None, Some(9), Some(9), Some(3)];
        let k = round_trip("Conv2D", json!({"filters": 4, "kernelSize": 3, "strides": 2, "padding": "same", "activation": "relu"}));
        assert_eq!(output_shape(&k, &[x]).unwrap(), vec![None, Some(5), Some(5), Some(4)]);
        let k = round_trip("Conv2DTranspose", json!({"filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 1}));
        assert_eq!(output_shape(&k, &[x]).unwrap(), vec![None, Some(20), Some(20), Some(2)]);
        let k = round_trip("SeparableConv2D", json!({"filters": 5, "kernel_size": [3, 1], "depth_multiplier": 2}));
        assert_eq!(output_shape(&k, &[x]).unwrap(), vec![None, Some(7), Some(9), Some(5)]);
        let w = k.weight_specs(&[x.to_vec()], "s").unwrap();
        assert_eq!(w.iter().map(|s| s.shape.clone()).collect::<Vec<_>>(), vec![vec![3, 1, 3, 2], vec![1, 1, 6, 5], vec![5]]);
        let k = round_trip("DepthwiseConv2D", json!({"kernel_size": 3, "depth_multiplier": 2, "use_bias": false}));
        assert_eq!(output_shape(&k, &[x]).unwrap(), vec![None, Some(7), Some(7), Some(6)]);
    }

    #[test]
    fn unsupported_values_are_errors() {
        assert_eq!(error("Conv2D", json!({"filters": 8})), "Conv2D: missing required argument kernel_size");
        assert!(error("Conv2D", json!({"filters": 8, "kernel_size": 3, "data_format": "channels_first"})).contains("channels_last"));
        assert!(error("Conv2D", json!({"filters": 8, "kernel_size": 3, "groups": 2})).contains("groups=1"));
        let k = round_trip("Conv2D", json!({"filters": 4, "kernel_size": 3}));
        assert!(output_shape(&k, &[&[None, Some(4)]]).unwrap_err().to_string().contains("4-D input"));
    }
}
