//! `keras.applications`: the ImageNet architectures, built from our layers exactly as
//! Keras 3 builds them (layer names, model names, parameter counts), with Keras's
//! arguments. Weights start random (`weights: None`); ImageNet weights are not yet loadable
//! (`weights` names the file Keras would load). Also each family's `preprocess_input` and
//! ImageNet's `decode_predictions`.

mod args;
mod builder;
pub mod imagenet;
mod inception_v3;
mod mobilenet_v2;
pub mod preprocess;
mod resnet;
mod top;
mod vgg;
pub mod weights;
mod xception;

pub use args::{AppArgs, Pooling};
pub use imagenet::{decode_predictions, Prediction};
pub use preprocess::{preprocess_input, Mode};
pub use weights::{imagenet_weights, WeightFile};

use crate::error::Result;
use crate::nn::Model;

/// The application names Keras exports, in the order the docs list them.
pub const NAMES: &[&str] = &["Xception", "VGG16", "VGG19", "ResNet50", "InceptionV3", "MobileNetV2"];

/// Builds the application `name` (Keras's spelling, e.g. "ResNet50").
/// Weights are drawn on first use: a summary of VGG16 allocates nothing, and weights
/// loaded from a file are never drawn at random first.
pub fn build(name: &str, args: &AppArgs) -> Result<Model> {
    crate::nn::layer::deferring_init(|| build_now(name, args))
}

fn build_now(name: &str, args: &AppArgs) -> Result<Model> {
    match name {
        "Xception" => xception::xception(args),
        "VGG16" => vgg::vgg(args, 16),
        "VGG19" => vgg::vgg(args, 19),
        "ResNet50" => resnet::resnet50(args),
        "InceptionV3" => inception_v3::inception_v3(args),
        "MobileNetV2" => mobilenet_v2::mobilenet_v2(args),
        other => Err(crate::Error::new(format!(
            "keras.applications: unknown application \"{other}\"; known: {}",
            NAMES.join(", ")
        ))),
    }
}
