//! VGG16 and VGG19 (keras.applications.vgg16 / vgg19): five blocks of 3x3 convolutions,
//! each closed by a 2x2 max pool; the top is Flatten and two 4096-unit Dense layers.

use serde_json::json;

use super::builder::Builder;
use super::top;
use super::AppArgs;
use crate::error::Result;
use crate::nn::{input, Model};

pub(crate) fn vgg(args: &AppArgs, depth: usize) -> Result<Model> {
    let app = format!("VGG{depth}");
    let shape = args.input_shape(&app, 224, 32)?;
    // Convolutions per block: VGG16 2,2,3,3,3; VGG19 2,2,4,4,4.
    let deep = if depth == 19 { 4 } else { 3 };
    let blocks = [(64, 2), (128, 2), (256, deep), (512, deep), (512, deep)];
    let mut b = Builder::default();
    let inp = input(&shape, Some("input_layer"))?;
    let mut x = inp.clone();
    for (i, &(filters, convs)) in blocks.iter().enumerate() {
        for c in 1..=convs {
            let name = format!("block{}_conv{c}", i + 1);
            let config = json!({"filters": filters, "kernel_size": [3, 3], "activation": "relu", "padding": "same"});
            x = b.apply("Conv2D", "conv2d", Some(&name), config, &[&x])?;
        }
        let name = format!("block{}_pool", i + 1);
        x = b.apply("MaxPooling2D", "max_pooling2d", Some(&name), json!({"pool_size": [2, 2], "strides": [2, 2]}), &[&x])?;
    }
    if args.include_top {
        x = b.apply("Flatten", "flatten", Some("flatten"), json!({}), &[&x])?;
        for fc in ["fc1", "fc2"] {
            x = b.apply("Dense", "dense", Some(fc), json!({"units": 4096, "activation": "relu"}), &[&x])?;
        }
        x = top::predictions(&mut b, x, args)?;
    } else {
        x = top::head(&mut b, x, args, None, (None, None))?;
    }
    Model::new(&[inp], &[x], Some(&format!("vgg{depth}")))
}
