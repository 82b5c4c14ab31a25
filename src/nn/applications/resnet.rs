//! ResNet50 (keras.applications.resnet, the v1 bottleneck stacks `stack1`/`block1`).

use serde_json::json;

use super::builder::Builder;
use super::top;
use super::AppArgs;
use crate::error::Result;
use crate::nn::{input, KerasTensor, Model};

const EPSILON: f64 = 1.001e-5;

fn conv(b: &mut Builder, x: &KerasTensor, filters: usize, kernel: usize, stride: usize, same: bool, name: &str) -> Result<KerasTensor> {
    let padding = if same { "same" } else { "valid" };
    let config = json!({"filters": filters, "kernel_size": [kernel, kernel], "strides": [stride, stride], "padding": padding});
    b.apply("Conv2D", "conv2d", Some(name), config, &[x])
}

fn bn(b: &mut Builder, x: &KerasTensor, name: &str) -> Result<KerasTensor> {
    b.apply("BatchNormalization", "batch_normalization", Some(name), json!({"axis": 3, "epsilon": EPSILON}), &[x])
}

fn relu(b: &mut Builder, x: &KerasTensor, name: &str) -> Result<KerasTensor> {
    b.apply("Activation", "activation", Some(name), json!({"activation": "relu"}), &[x])
}

/// Keras's `block1`: 1x1 → kxk → 1x1 (4×filters) bottleneck plus a shortcut.
fn block(b: &mut Builder, x: &KerasTensor, filters: usize, stride: usize, conv_shortcut: bool, name: &str) -> Result<KerasTensor> {
    let shortcut = if conv_shortcut {
        let s = conv(b, x, 4 * filters, 1, stride, false, &format!("{name}_0_conv"))?;
        bn(b, &s, &format!("{name}_0_bn"))?
    } else {
        x.clone()
    };
    let y = conv(b, x, filters, 1, stride, false, &format!("{name}_1_conv"))?;
    let y = bn(b, &y, &format!("{name}_1_bn"))?;
    let y = relu(b, &y, &format!("{name}_1_relu"))?;
    let y = conv(b, &y, filters, 3, 1, true, &format!("{name}_2_conv"))?;
    let y = bn(b, &y, &format!("{name}_2_bn"))?;
    let y = relu(b, &y, &format!("{name}_2_relu"))?;
    let y = conv(b, &y, 4 * filters, 1, 1, false, &format!("{name}_3_conv"))?;
    let y = bn(b, &y, &format!("{name}_3_bn"))?;
    let y = b.apply("Add", "add", Some(&format!("{name}_add")), json!({}), &[&shortcut, &y])?;
    relu(b, &y, &format!("{name}_out"))
}

fn stack(b: &mut Builder, x: KerasTensor, filters: usize, blocks: usize, stride: usize, name: &str) -> Result<KerasTensor> {
    let mut x = block(b, &x, filters, stride, true, &format!("{name}_block1"))?;
    for i in 2..=blocks {
        x = block(b, &x, filters, 1, false, &format!("{name}_block{i}"))?;
    }
    Ok(x)
}

pub(crate) fn resnet50(args: &AppArgs) -> Result<Model> {
    let shape = args.input_shape("ResNet50", 224, 32)?;
    let mut b = Builder::default();
    let inp = input(&shape, Some("input_layer"))?;
    let x = b.apply("ZeroPadding2D", "zero_padding2d", Some("conv1_pad"), json!({"padding": [[3, 3], [3, 3]]}), &[&inp])?;
    let x = conv(&mut b, &x, 64, 7, 2, false, "conv1_conv")?;
    let x = bn(&mut b, &x, "conv1_bn")?;
    let x = relu(&mut b, &x, "conv1_relu")?;
    let x = b.apply("ZeroPadding2D", "zero_padding2d", Some("pool1_pad"), json!({"padding": [[1, 1], [1, 1]]}), &[&x])?;
    let x = b.apply("MaxPooling2D", "max_pooling2d", Some("pool1_pool"), json!({"pool_size": [3, 3], "strides": [2, 2]}), &[&x])?;
    let x = stack(&mut b, x, 64, 3, 1, "conv2")?;
    let x = stack(&mut b, x, 128, 4, 2, "conv3")?;
    let x = stack(&mut b, x, 256, 6, 2, "conv4")?;
    let x = stack(&mut b, x, 512, 3, 2, "conv5")?;
    let x = top::head(&mut b, x, args, Some("avg_pool"), (Some("avg_pool"), Some("max_pool")))?;
    Model::new(&[inp], &[x], Some("resnet50"))
}
