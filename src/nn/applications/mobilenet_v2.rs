//! MobileNetV2 (keras.applications.mobilenet_v2): inverted residual blocks with ReLU6,
//! widths scaled by `alpha` and rounded to multiples of 8.

use serde_json::json;

use super::builder::Builder;
use super::top;
use super::AppArgs;
use crate::error::Result;
use crate::nn::{input, KerasTensor, Model};

/// Keras's `_make_divisible(v, 8)`: nearest multiple of 8, never below 8 or 90% of v.
fn make_divisible(v: f64) -> usize {
    let d = 8.0;
    let mut n = (((v + d / 2.0) as usize) / 8 * 8).max(8);
    if (n as f64) < 0.9 * v {
        n += 8;
    }
    n
}

fn bn(b: &mut Builder, x: &KerasTensor, name: &str) -> Result<KerasTensor> {
    let config = json!({"axis": -1, "epsilon": 1e-3, "momentum": 0.999});
    b.apply("BatchNormalization", "batch_normalization", Some(name), config, &[x])
}

fn relu6(b: &mut Builder, x: &KerasTensor, name: &str) -> Result<KerasTensor> {
    b.apply("ReLU", "re_lu", Some(name), json!({"max_value": 6.0}), &[x])
}

fn pointwise(b: &mut Builder, x: &KerasTensor, filters: usize, name: &str) -> Result<KerasTensor> {
    let config = json!({"filters": filters, "kernel_size": [1, 1], "padding": "same", "use_bias": false});
    b.apply("Conv2D", "conv2d", Some(name), config, &[x])
}

/// Keras's `_inverted_res_block`.
fn inverted_res_block(b: &mut Builder, inputs: &KerasTensor, expansion: usize, stride: usize, alpha: f64, filters: usize, id: usize) -> Result<KerasTensor> {
    let in_channels = inputs.shape()[3].unwrap_or(0);
    let out_filters = make_divisible((filters as f64 * alpha).trunc());
    let mut x = inputs.clone();
    let prefix = if id > 0 { format!("block_{id}_") } else { "expanded_conv_".to_string() };
    if id > 0 {
        x = pointwise(b, &x, expansion * in_channels, &format!("{prefix}expand"))?;
        x = bn(b, &x, &format!("{prefix}expand_BN"))?;
        x = relu6(b, &x, &format!("{prefix}expand_relu"))?;
    }
    if stride == 2 {
        // imagenet_utils.correct_pad: one less before on even sizes.
        let adjust = |d: Option<usize>| d.map_or(1, |d| 1 - d % 2);
        let (ah, aw) = (adjust(x.shape()[1]), adjust(x.shape()[2]));
        let padding = json!([[1 - ah, 1], [1 - aw, 1]]);
        x = b.apply("ZeroPadding2D", "zero_padding2d", Some(&format!("{prefix}pad")), json!({"padding": padding}), &[&x])?;
    }
    let padding = if stride == 1 { "same" } else { "valid" };
    let config = json!({"kernel_size": [3, 3], "strides": [stride, stride], "use_bias": false, "padding": padding});
    x = b.apply("DepthwiseConv2D", "depthwise_conv2d", Some(&format!("{prefix}depthwise")), config, &[&x])?;
    x = bn(b, &x, &format!("{prefix}depthwise_BN"))?;
    x = relu6(b, &x, &format!("{prefix}depthwise_relu"))?;
    x = pointwise(b, &x, out_filters, &format!("{prefix}project"))?;
    x = bn(b, &x, &format!("{prefix}project_BN"))?;
    if in_channels == out_filters && stride == 1 {
        return b.apply("Add", "add", Some(&format!("{prefix}add")), json!({}), &[inputs, &x]);
    }
    Ok(x)
}

pub(crate) fn mobilenet_v2(args: &AppArgs) -> Result<Model> {
    // Keras picks the default size from a square input among the ImageNet sizes, else 224.
    let default_size = match &args.input_shape {
        Some(s) if s.len() == 3 && s[0] == s[1] && [96, 128, 160, 192, 224].contains(&s[0]) => s[0],
        _ => 224,
    };
    let shape = args.input_shape("MobileNetV2", default_size, 32)?;
    let alpha = args.alpha;
    let mut b = Builder::default();
    let b = &mut b;
    let inp = input(&shape, Some("input_layer"))?;
    let config = json!({"filters": make_divisible(32.0 * alpha), "kernel_size": [3, 3], "strides": [2, 2], "padding": "same", "use_bias": false});
    let mut x = b.apply("Conv2D", "conv2d", Some("Conv1"), config, &[&inp])?;
    x = bn(b, &x, "bn_Conv1")?;
    x = relu6(b, &x, "Conv1_relu")?;
    // (filters, stride, expansion) per block, Keras's table.
    let blocks = [
        (16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6),
        (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6),
        (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6),
    ];
    for (id, &(filters, stride, expansion)) in blocks.iter().enumerate() {
        x = inverted_res_block(b, &x, expansion, stride, alpha, filters, id)?;
    }
    // Keras widens the last convolution only for alpha > 1.
    let last = if alpha > 1.0 { make_divisible(1280.0 * alpha) } else { 1280 };
    x = pointwise(b, &x, last, "Conv_1")?;
    x = bn(b, &x, "Conv_1_bn")?;
    x = relu6(b, &x, "out_relu")?;
    let x = top::head(b, x, args, None, (None, None))?;
    // Keras names the model after the input rows, "None" when it left them open.
    let rows = if args.input_shape.is_none() && !args.include_top { "None".to_string() } else { shape[0].to_string() };
    let name = format!("mobilenetv2_{alpha:.2}_{rows}");
    Model::new(&[inp], &[x], Some(&name))
}
