//! `preprocess_input` of each application family (keras.applications.imagenet_utils):
//! the input scaling its ImageNet weights were trained with. Channels-last images
//! (..., 3) in 0–255, any integer or float dtype; the result is float32.

use crate::error::Result;
use crate::tensor::{DType, Tensor};

/// Keras's three modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// RGB → BGR, then the ImageNet mean pixel (BGR) subtracted, no scaling: VGG, ResNet50.
    Caffe,
    /// Scaled to [-1, 1]: Xception, InceptionV3, MobileNetV2.
    Tf,
    /// Scaled to [0, 1], then each channel normalized by ImageNet's mean and std (RGB).
    Torch,
}

/// The caffe mean pixel, in BGR order.
const CAFFE_MEAN_BGR: [f32; 3] = [103.939, 116.779, 123.68];
const TORCH_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const TORCH_STD: [f32; 3] = [0.229, 0.224, 0.225];

impl Mode {
    /// Keras's `mode` argument: `"caffe"`, `"tf"` or `"torch"`.
    pub fn parse(mode: &str) -> Result<Mode> {
        match mode {
            "caffe" => Ok(Mode::Caffe),
            "tf" => Ok(Mode::Tf),
            "torch" => Ok(Mode::Torch),
            other => crate::bail!("preprocess_input: mode must be \"caffe\", \"tf\" or \"torch\"; got \"{other}\""),
        }
    }

    /// The mode `keras.applications.<family>.preprocess_input` uses for an application.
    pub fn of_application(name: &str) -> Result<Mode> {
        match name {
            "VGG16" | "VGG19" | "ResNet50" => Ok(Mode::Caffe),
            "Xception" | "InceptionV3" | "MobileNetV2" => Ok(Mode::Tf),
            other => crate::bail!("preprocess_input: unknown application \"{other}\"; known: {}", super::NAMES.join(", ")),
        }
    }
}

/// Keras's `preprocess_input(x, mode=...)` for channels-last images.
pub fn preprocess_input(x: &Tensor, mode: Mode) -> Result<Tensor> {
    let shape = x.shape().to_vec();
    if shape.last() != Some(&3) {
        crate::bail!(
            "preprocess_input: expects RGB images with 3 channels last, (..., height, width, 3); got shape {}",
            crate::shape::fmt_shape(&shape)
        );
    }
    let x = if x.dtype() == DType::F32 { x.clone() } else { x.cast(DType::F32)? };
    let per_channel = |values: [f32; 3]| {
        let mut s = vec![1; shape.len()];
        s[shape.len() - 1] = 3;
        Tensor::from_f32(x.device(), values.to_vec(), &s)
    };
    match mode {
        Mode::Tf => x.affine(1.0 / 127.5, -1.0),
        Mode::Torch => x.affine(1.0 / 255.0, 0.0)?.sub(&per_channel(TORCH_MEAN)?)?.div(&per_channel(TORCH_STD)?),
        Mode::Caffe => reverse_channels(&x)?.sub(&per_channel(CAFFE_MEAN_BGR)?),
    }
}

/// `x[..., ::-1]` for three channels.
fn reverse_channels(x: &Tensor) -> Result<Tensor> {
    let shape = x.shape();
    let last = shape.len() - 1;
    let mut size = shape.to_vec();
    size[last] = 1;
    let channel = |c: usize| {
        let mut begin = vec![0; shape.len()];
        begin[last] = c;
        x.slice(&begin, &size)
    };
    let (r, g, b) = (channel(0)?, channel(1)?, channel(2)?);
    crate::ops::copy::concat(&[&b, &g, &r], -1)
}
