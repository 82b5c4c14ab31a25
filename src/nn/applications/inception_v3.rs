//! InceptionV3 (keras.applications.inception_v3). Its convolutions are unnamed, so
//! their names are Keras's auto names (`conv2d_N`, `batch_normalization_N`,
//! `activation_N`) in creation order; the mixing concatenations are `mixed0`..`mixed10`.

use serde_json::json;

use super::builder::Builder;
use super::top;
use super::AppArgs;
use crate::error::Result;
use crate::nn::{input, KerasTensor, Model};

/// Keras's `conv2d_bn`: Conv2D (no bias) → BatchNormalization(scale=False) → relu.
fn conv_bn(b: &mut Builder, x: &KerasTensor, filters: usize, rows: usize, cols: usize, stride: usize, valid: bool) -> Result<KerasTensor> {
    let padding = if valid { "valid" } else { "same" };
    let config = json!({"filters": filters, "kernel_size": [rows, cols], "strides": [stride, stride], "padding": padding, "use_bias": false});
    let x = b.apply("Conv2D", "conv2d", None, config, &[x])?;
    let x = b.apply("BatchNormalization", "batch_normalization", None, json!({"axis": 3, "scale": false}), &[&x])?;
    b.apply("Activation", "activation", None, json!({"activation": "relu"}), &[&x])
}

fn same(b: &mut Builder, x: &KerasTensor, filters: usize, rows: usize, cols: usize) -> Result<KerasTensor> {
    conv_bn(b, x, filters, rows, cols, 1, false)
}

fn avg_pool(b: &mut Builder, x: &KerasTensor) -> Result<KerasTensor> {
    let config = json!({"pool_size": [3, 3], "strides": [1, 1], "padding": "same"});
    b.apply("AveragePooling2D", "average_pooling2d", None, config, &[x])
}

fn max_pool(b: &mut Builder, x: &KerasTensor) -> Result<KerasTensor> {
    b.apply("MaxPooling2D", "max_pooling2d", None, json!({"pool_size": [3, 3], "strides": [2, 2]}), &[x])
}

fn concat(b: &mut Builder, parts: &[&KerasTensor], name: Option<&str>) -> Result<KerasTensor> {
    b.apply("Concatenate", "concatenate", name, json!({"axis": 3}), parts)
}

/// mixed0..2: 1x1, 5x5, double 3x3 and pooled branches.
fn block35(b: &mut Builder, x: &KerasTensor, pool_filters: usize, name: &str) -> Result<KerasTensor> {
    let b1 = same(b, x, 64, 1, 1)?;
    let b5 = same(b, x, 48, 1, 1)?;
    let b5 = same(b, &b5, 64, 5, 5)?;
    let b3 = same(b, x, 64, 1, 1)?;
    let b3 = same(b, &b3, 96, 3, 3)?;
    let b3 = same(b, &b3, 96, 3, 3)?;
    let bp = avg_pool(b, x)?;
    let bp = same(b, &bp, pool_filters, 1, 1)?;
    concat(b, &[&b1, &b5, &b3, &bp], Some(name))
}

/// mixed4..7: factorized 7x7 branches with `mid` channels inside.
fn block17(b: &mut Builder, x: &KerasTensor, mid: usize, name: &str) -> Result<KerasTensor> {
    let b1 = same(b, x, 192, 1, 1)?;
    let b7 = same(b, x, mid, 1, 1)?;
    let b7 = same(b, &b7, mid, 1, 7)?;
    let b7 = same(b, &b7, 192, 7, 1)?;
    let bd = same(b, x, mid, 1, 1)?;
    let bd = same(b, &bd, mid, 7, 1)?;
    let bd = same(b, &bd, mid, 1, 7)?;
    let bd = same(b, &bd, mid, 7, 1)?;
    let bd = same(b, &bd, 192, 1, 7)?;
    let bp = avg_pool(b, x)?;
    let bp = same(b, &bp, 192, 1, 1)?;
    concat(b, &[&b1, &b7, &bd, &bp], Some(name))
}

/// mixed9, mixed10: expanded-filter-bank branches.
fn block8(b: &mut Builder, x: &KerasTensor, i: usize) -> Result<KerasTensor> {
    let b1 = same(b, x, 320, 1, 1)?;
    let b3 = same(b, x, 384, 1, 1)?;
    let b3a = same(b, &b3, 384, 1, 3)?;
    let b3b = same(b, &b3, 384, 3, 1)?;
    let b3 = concat(b, &[&b3a, &b3b], Some(&format!("mixed9_{i}")))?;
    let bd = same(b, x, 448, 1, 1)?;
    let bd = same(b, &bd, 384, 3, 3)?;
    let bda = same(b, &bd, 384, 1, 3)?;
    let bdb = same(b, &bd, 384, 3, 1)?;
    let bd = concat(b, &[&bda, &bdb], None)?;
    let bp = avg_pool(b, x)?;
    let bp = same(b, &bp, 192, 1, 1)?;
    concat(b, &[&b1, &b3, &bd, &bp], Some(&format!("mixed{}", 9 + i)))
}

pub(crate) fn inception_v3(args: &AppArgs) -> Result<Model> {
    let shape = args.input_shape("InceptionV3", 299, 75)?;
    let mut b = Builder::default();
    let b = &mut b;
    let inp = input(&shape, Some("input_layer"))?;
    let x = conv_bn(b, &inp, 32, 3, 3, 2, true)?;
    let x = conv_bn(b, &x, 32, 3, 3, 1, true)?;
    let x = same(b, &x, 64, 3, 3)?;
    let x = max_pool(b, &x)?;
    let x = conv_bn(b, &x, 80, 1, 1, 1, true)?;
    let x = conv_bn(b, &x, 192, 3, 3, 1, true)?;
    let x = max_pool(b, &x)?;

    let x = block35(b, &x, 32, "mixed0")?;
    let x = block35(b, &x, 64, "mixed1")?;
    let x = block35(b, &x, 64, "mixed2")?;

    let b3 = conv_bn(b, &x, 384, 3, 3, 2, true)?;
    let bd = same(b, &x, 64, 1, 1)?;
    let bd = same(b, &bd, 96, 3, 3)?;
    let bd = conv_bn(b, &bd, 96, 3, 3, 2, true)?;
    let bp = max_pool(b, &x)?;
    let x = concat(b, &[&b3, &bd, &bp], Some("mixed3"))?;

    let x = block17(b, &x, 128, "mixed4")?;
    let x = block17(b, &x, 160, "mixed5")?;
    let x = block17(b, &x, 160, "mixed6")?;
    let x = block17(b, &x, 192, "mixed7")?;

    let b3 = same(b, &x, 192, 1, 1)?;
    let b3 = conv_bn(b, &b3, 320, 3, 3, 2, true)?;
    let b7 = same(b, &x, 192, 1, 1)?;
    let b7 = same(b, &b7, 192, 1, 7)?;
    let b7 = same(b, &b7, 192, 7, 1)?;
    let b7 = conv_bn(b, &b7, 192, 3, 3, 2, true)?;
    let bp = max_pool(b, &x)?;
    let x = concat(b, &[&b3, &b7, &bp], Some("mixed8"))?;

    let x = block8(b, &x, 0)?;
    let x = block8(b, &x, 1)?;
    let x = top::head(b, x, args, Some("avg_pool"), (None, None))?;
    Model::new(&[inp], &[x], Some("inception_v3"))
}
