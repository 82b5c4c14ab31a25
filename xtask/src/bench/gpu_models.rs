//! The browser bench's seed models (www/bench/models.js), built natively for the GPU
//! model section, so a kernel profile can be taken at the sizes the browser bench runs
//! (batch 1, small inputs) on lavapipe, whose hot spots carry over to SwiftShader.
//! Like the bench page they leave out Rescaling, augmentation and Dropout.

use convbook::nn::{input, KerasTensor, Layer, LayerKind};
use serde_json::{json, Value};

use crate::util::Result;


/// How a model's labels look and which loss trains it.
pub enum Labels {
    /// 0/1 per sample, binary crossentropy.
    Binary,
    /// A class index per output position, sparse categorical crossentropy.
    Sparse { classes: usize, spatial: bool },
}

pub struct Built {
    pub inputs: KerasTensor,
    pub output: KerasTensor,
    pub labels: Labels,
    /// Channels of the input image.
    pub channels: usize,
}

fn err(e: convbook::Error) -> String {
    format!("bench model: {e}")
}

fn apply(class: &str, cfg: Value, x: &[KerasTensor]) -> Result<KerasTensor> {
    let layer = Layer::new(LayerKind::from_config(class, &cfg).map_err(err)?, None);
    layer.call(x).map_err(err)
}

fn conv(filters: usize, strides: usize) -> Value {
    json!({"filters": filters, "kernel_size": 3, "strides": strides, "activation": "relu", "padding": "same"})
}

/// Chapter 9.2 at the bench's size: three strided conv pairs down, three up.
fn segmentation(side: usize) -> Result<Built> {
    let inputs = input(&[side, side, 3], None).map_err(err)?;
    let mut x = inputs.clone();
    for (filters, strides) in [(64, 2), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1)] {
        x = apply("Conv2D", conv(filters, strides), &[x])?;
    }
    for (filters, strides) in [(256, 1), (256, 2), (128, 1), (128, 2), (64, 1), (64, 2)] {
        x = apply("Conv2DTranspose", conv(filters, strides), &[x])?;
    }
    let classes = json!({"filters": 3, "kernel_size": 3, "activation": "softmax", "padding": "same"});
    let output = apply("Conv2D", classes, &[x])?;
    Ok(Built { inputs, output, labels: Labels::Sparse { classes: 3, spatial: true }, channels: 3 })
}

/// Chapter 8.2: five valid 3x3 convs with 2x2 pools between, a sigmoid unit.
fn convnet(side: usize) -> Result<Built> {
    let inputs = input(&[side, side, 3], None).map_err(err)?;
    let mut x = inputs.clone();
    for (i, filters) in [32, 64, 128, 256, 256].into_iter().enumerate() {
        if i > 0 {
            x = apply("MaxPooling2D", json!({"pool_size": 2}), &[x])?;
        }
        x = apply("Conv2D", json!({"filters": filters, "kernel_size": 3, "activation": "relu"}), &[x])?;
    }
    x = apply("Flatten", json!({}), &[x])?;
    let output = apply("Dense", json!({"units": 1, "activation": "sigmoid"}), &[x])?;
    Ok(Built { inputs, output, labels: Labels::Binary, channels: 3 })
}

/// Chapter 8.1: three valid 3x3 convs, two pools, a softmax over 10 digits.
fn mnist(side: usize) -> Result<Built> {
    let inputs = input(&[side, side, 1], None).map_err(err)?;
    let mut x = inputs.clone();
    for (i, filters) in [32, 64, 128].into_iter().enumerate() {
        if i > 0 {
            x = apply("MaxPooling2D", json!({"pool_size": 2}), &[x])?;
        }
        x = apply("Conv2D", json!({"filters": filters, "kernel_size": 3, "activation": "relu"}), &[x])?;
    }
    x = apply("Flatten", json!({}), &[x])?;
    let output = apply("Dense", json!({"units": 10, "activation": "softmax"}), &[x])?;
    Ok(Built { inputs, output, labels: Labels::Sparse { classes: 10, spatial: false }, channels: 1 })
}

/// Chapter 9.3 as the bench page builds it: no Rescaling, no Dropout.
fn xception(side: usize) -> Result<Built> {
    let inputs = input(&[side, side, 3], None).map_err(err)?;
    let x = xception_trunk(inputs.clone())?;
    let output = apply("Dense", json!({"units": 1, "activation": "sigmoid"}), &[x])?;
    Ok(Built { inputs, output, labels: Labels::Binary, channels: 3 })
}

/// Chapter 9.3's mini-Xception from its image input `x` to the pooled features: a 5x5
/// Conv2D, five blocks of (BN, ReLU, SeparableConv2D) twice, a 3x3/2 max pool and a
/// strided 1x1 projection added back, then global average pooling.
pub fn xception_trunk(x: KerasTensor) -> Result<KerasTensor> {
    let mut x = apply("Conv2D", json!({"filters": 32, "kernel_size": 5, "use_bias": false}), &[x])?;
    for size in [32, 64, 128, 256, 512] {
        let residual = x.clone();
        for _ in 0..2 {
            x = apply("BatchNormalization", json!({}), &[x])?;
            x = apply("Activation", json!({"activation": "relu"}), &[x])?;
            let sep = json!({"filters": size, "kernel_size": 3, "padding": "same", "use_bias": false});
            x = apply("SeparableConv2D", sep, &[x])?;
        }
        x = apply("MaxPooling2D", json!({"pool_size": 3, "strides": 2, "padding": "same"}), &[x])?;
        let projection = json!({"filters": size, "kernel_size": 1, "strides": 2, "padding": "same", "use_bias": false});
        let r = apply("Conv2D", projection, &[residual])?;
        x = apply("Add", json!({}), &[x, r])?;
    }
    apply("GlobalAveragePooling2D", json!({}), &[x])
}

/// How the report names model `name` (one of GPU_MODELS).
pub fn title(name: &str) -> &'static str {
    match name {
        "segmentation" => "9.2 segmentation",
        "convnet" => "8.2 cats vs dogs convnet",
        "mnist" => "8.1 MNIST convnet",
        _ => "9.3 mini-Xception (bench layers)",
    }
}

/// The bench model `name` at input side `side`.
pub fn build(name: &str, side: usize) -> Result<Built> {
    match name {
        "xception" => xception(side),
        "segmentation" => segmentation(side),
        "convnet" => convnet(side),
        "mnist" => mnist(side),
        other => Err(format!("--model: unknown model '{other}' (known: {})", super::GPU_MODELS.join(", "))),
    }
}
