//! Xception (keras.applications.xception): entry flow with strided 1x1 residual
//! convolutions, eight middle-flow blocks of three separable convolutions, exit flow.

use serde_json::json;

use super::builder::Builder;
use super::top;
use super::AppArgs;
use crate::error::Result;
use crate::nn::{input, KerasTensor, Model};

fn relu(b: &mut Builder, x: &KerasTensor, name: Option<&str>) -> Result<KerasTensor> {
    b.apply("Activation", "activation", name, json!({"activation": "relu"}), &[x])
}

fn bn(b: &mut Builder, x: &KerasTensor, name: Option<&str>) -> Result<KerasTensor> {
    b.apply("BatchNormalization", "batch_normalization", name, json!({"axis": -1}), &[x])
}

fn sepconv_bn(b: &mut Builder, x: &KerasTensor, filters: usize, name: &str) -> Result<KerasTensor> {
    let config = json!({"filters": filters, "kernel_size": [3, 3], "padding": "same", "use_bias": false});
    let x = b.apply("SeparableConv2D", "separable_conv2d", Some(name), config, &[x])?;
    bn(b, &x, Some(&format!("{name}_bn")))
}

/// The strided 1x1 convolution + BN that carries the residual past a pooled block.
fn residual(b: &mut Builder, x: &KerasTensor, filters: usize) -> Result<KerasTensor> {
    let config = json!({"filters": filters, "kernel_size": [1, 1], "strides": [2, 2], "padding": "same", "use_bias": false});
    let r = b.apply("Conv2D", "conv2d", None, config, &[x])?;
    bn(b, &r, None)
}

fn pool_add(b: &mut Builder, x: &KerasTensor, residual: &KerasTensor, block: usize) -> Result<KerasTensor> {
    let config = json!({"pool_size": [3, 3], "strides": [2, 2], "padding": "same"});
    let x = b.apply("MaxPooling2D", "max_pooling2d", Some(&format!("block{block}_pool")), config, &[x])?;
    b.apply("Add", "add", None, json!({}), &[&x, residual])
}

pub(crate) fn xception(args: &AppArgs) -> Result<Model> {
    let shape = args.input_shape("Xception", 299, 71)?;
    let mut b = Builder::default();
    let inp = input(&shape, Some("input_layer"))?;
    let config = json!({"filters": 32, "kernel_size": [3, 3], "strides": [2, 2], "use_bias": false});
    let x = b.apply("Conv2D", "conv2d", Some("block1_conv1"), config, &[&inp])?;
    let x = bn(&mut b, &x, Some("block1_conv1_bn"))?;
    let x = relu(&mut b, &x, Some("block1_conv1_act"))?;
    let config = json!({"filters": 64, "kernel_size": [3, 3], "use_bias": false});
    let x = b.apply("Conv2D", "conv2d", Some("block1_conv2"), config, &[&x])?;
    let x = bn(&mut b, &x, Some("block1_conv2_bn"))?;
    let mut x = relu(&mut b, &x, Some("block1_conv2_act"))?;

    // Entry flow: block 2 starts without an activation (the stem's relu precedes it).
    for (block, filters) in [(2, 128), (3, 256), (4, 728)] {
        let r = residual(&mut b, &x, filters)?;
        if block > 2 {
            x = relu(&mut b, &x, Some(&format!("block{block}_sepconv1_act")))?;
        }
        x = sepconv_bn(&mut b, &x, filters, &format!("block{block}_sepconv1"))?;
        x = relu(&mut b, &x, Some(&format!("block{block}_sepconv2_act")))?;
        x = sepconv_bn(&mut b, &x, filters, &format!("block{block}_sepconv2"))?;
        x = pool_add(&mut b, &x, &r, block)?;
    }

    for block in 5..=12 {
        let r = x.clone();
        for i in 1..=3 {
            x = relu(&mut b, &x, Some(&format!("block{block}_sepconv{i}_act")))?;
            x = sepconv_bn(&mut b, &x, 728, &format!("block{block}_sepconv{i}"))?;
        }
        x = b.apply("Add", "add", None, json!({}), &[&x, &r])?;
    }

    let r = residual(&mut b, &x, 1024)?;
    x = relu(&mut b, &x, Some("block13_sepconv1_act"))?;
    x = sepconv_bn(&mut b, &x, 728, "block13_sepconv1")?;
    x = relu(&mut b, &x, Some("block13_sepconv2_act"))?;
    x = sepconv_bn(&mut b, &x, 1024, "block13_sepconv2")?;
    x = pool_add(&mut b, &x, &r, 13)?;

    x = sepconv_bn(&mut b, &x, 1536, "block14_sepconv1")?;
    x = relu(&mut b, &x, Some("block14_sepconv1_act"))?;
    x = sepconv_bn(&mut b, &x, 2048, "block14_sepconv2")?;
    x = relu(&mut b, &x, Some("block14_sepconv2_act"))?;

    let x = top::head(&mut b, x, args, Some("avg_pool"), (None, None))?;
    Model::new(&[inp], &[x], Some("xception"))
}
