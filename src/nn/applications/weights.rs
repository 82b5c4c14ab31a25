//! Where Keras's official ImageNet weights for each application live: the file names
//! `keras.utils.get_file` caches them under (so a reader's own copy is recognised) and
//! the folder each family's files sit in below one base URL, which the caller may
//! replace (a mirror, a local server). The engine downloads nothing itself.

use serde::Serialize;

use super::AppArgs;
use crate::error::Result;

/// The folder Keras's application weights are published under.
pub const DEFAULT_BASE_URL: &str = "https://storage.googleapis.com/tensorflow/keras-applications/";

/// One weight file: its name and its URL under a base.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WeightFile {
    pub(crate) application: String,
    /// Keras's own file name, e.g. `xception_weights_tf_dim_ordering_tf_kernels_notop.h5`.
    pub file_name: String,
    /// Path below the base URL: `<family folder>/<file name>`.
    pub path: String,
    /// The base URL (Keras's own or the caller's) joined with `path`.
    pub url: String,
}

/// MobileNetV2's published input sizes; Keras falls back to 224 for any other.
const MOBILENET_V2_ROWS: [usize; 5] = [96, 128, 160, 192, 224];
/// MobileNetV2's published width multipliers.
const MOBILENET_V2_ALPHAS: [f64; 6] = [0.35, 0.5, 0.75, 1.0, 1.3, 1.4];

/// Python's `str(float(alpha))`: `1.0`, `0.35`.
fn python_float(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// The ImageNet weight file Keras would load for `name` built with `args`
/// (`base_url`: None for Keras's own location).
pub fn imagenet_weights(name: &str, args: &AppArgs, base_url: Option<&str>) -> Result<WeightFile> {
    let top = args.include_top;
    let tf_kernels = |stem: &str| {
        if top {
            format!("{stem}_weights_tf_dim_ordering_tf_kernels.h5")
        } else {
            format!("{stem}_weights_tf_dim_ordering_tf_kernels_notop.h5")
        }
    };
    let (folder, file_name) = match name {
        "Xception" => ("xception", tf_kernels("xception")),
        "VGG16" => ("vgg16", tf_kernels("vgg16")),
        "VGG19" => ("vgg19", tf_kernels("vgg19")),
        "ResNet50" => ("resnet", tf_kernels("resnet50")),
        "InceptionV3" => ("inception_v3", tf_kernels("inception_v3")),
        "MobileNetV2" => {
            if !MOBILENET_V2_ALPHAS.contains(&args.alpha) {
                crate::bail!(
                    "MobileNetV2: ImageNet weights exist only for alpha in 0.35, 0.5, 0.75, 1.0, 1.3, 1.4; got alpha={}",
                    args.alpha
                );
            }
            let rows = match &args.input_shape {
                Some(s) if s.len() == 3 && MOBILENET_V2_ROWS.contains(&s[0]) => s[0],
                _ => 224,
            };
            let alpha = python_float(args.alpha);
            let suffix = if top { "" } else { "_no_top" };
            ("mobilenet_v2", format!("mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{alpha}_{rows}{suffix}.h5"))
        }
        other => crate::bail!("keras.applications: unknown application \"{other}\"; known: {}", super::NAMES.join(", ")),
    };
    let base = base_url.unwrap_or(DEFAULT_BASE_URL);
    let sep = if base.is_empty() || base.ends_with('/') { "" } else { "/" };
    let path = format!("{folder}/{file_name}");
    Ok(WeightFile { application: name.to_string(), url: format!("{base}{sep}{path}"), path, file_name })
}
