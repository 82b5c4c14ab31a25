//! Option helpers several layer families share: the keys every Keras layer accepts,
//! activation and padding names, the channels-last check, and the convolution options.

use serde_json::{json, Value};

use crate::ensure;
use crate::error::Result;
use crate::nn::activation::Activation;
use crate::options::Options;
use crate::ops::geometry::Padding;

/// Keys Keras's base `Layer` accepts (plus what Keras 2 / TF.js files write beside them).
/// None changes what we compute: the name and the trainable flag are read by whoever
/// makes the `Layer`, shapes come from the graph, and float32 is the only dtype.
pub fn accept_base_keys(o: &Options) {
    o.accept(&[
        "name",
        "trainable",
        "dtype",
        "autocast",
        "activity_regularizer",
        "input_dim",
        "input_shape",
        "batch_input_shape",
        "batch_shape",
        "batch_size",
    ]);
}

/// Weight initializers, regularizers and constraints of the named weights: a file's
/// weights replace the initial values, and training here applies no penalties.
pub fn accept_weight_options(o: &Options, weights: &[&str]) {
    for w in weights {
        o.accept(&[&format!("{w}_initializer"), &format!("{w}_regularizer"), &format!("{w}_constraint")]);
    }
}

pub fn activation(o: &Options) -> Result<Activation> {
    Activation::parse(&o.str("activation", "linear")?).map_err(|e| e.context(o.owner()))
}

pub fn padding(o: &Options) -> Result<Padding> {
    Padding::parse(&o.str("padding", "valid")?).map_err(|e| e.context(o.owner()))
}

/// Only NHWC tensors exist here; Keras's default (None) means channels_last too.
pub fn channels_last(o: &Options) -> Result<()> {
    let data_format = o.str("data_format", "channels_last")?;
    ensure!(
        data_format == "channels_last",
        "{}: only data_format=\"channels_last\" (NHWC) is supported, got {data_format}",
        o.owner()
    );
    Ok(())
}

/// Options shared by the convolution family.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvConfig {
    /// Keras `filters`: output channels.
    pub filters: usize,
    /// Keras `kernel_size`.
    pub kernel: [usize; 2],
    /// Keras `strides`.
    pub strides: [usize; 2],
    /// Keras `padding`.
    pub padding: Padding,
    /// Keras `dilation_rate`.
    pub dilation: [usize; 2],
    /// Keras `activation`, applied after the bias.
    pub activation: Activation,
    /// Keras `use_bias`.
    pub use_bias: bool,
}

impl ConvConfig {
    /// Read the family's options; `filters` is None for DepthwiseConv2D.
    pub fn read(o: &Options, filters: Option<usize>) -> Result<ConvConfig> {
        let kernel = o
            .pair("kernel_size")?
            .ok_or_else(|| crate::Error::new(format!("{}: missing required argument kernel_size", o.owner())))?;
        ensure!(kernel[0] > 0 && kernel[1] > 0, "{}: kernel_size must be positive", o.owner());
        channels_last(o)?;
        accept_weight_options(o, &["bias"]);
        Ok(ConvConfig {
            filters: filters.unwrap_or(0),
            kernel,
            strides: o.positive_pair("strides", [1, 1])?,
            padding: padding(o)?,
            dilation: o.positive_pair("dilation_rate", [1, 1])?,
            activation: activation(o)?,
            use_bias: o.bool("use_bias", true)?,
        })
    }

    /// The family's part of a Keras config.
    pub fn config(&self) -> Value {
        json!({
            "kernel_size": self.kernel,
            "strides": self.strides,
            "padding": self.padding.name(),
            "data_format": "channels_last",
            "dilation_rate": self.dilation,
            "activation": self.activation.name(),
            "use_bias": self.use_bias,
        })
    }
}

/// `base` with the keys of `extra` added.
pub fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}
