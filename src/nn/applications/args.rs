//! The arguments every application takes, checked as Keras checks them
//! (`imagenet_utils.obtain_input_shape` and the per-family rules).

use serde_json::Value;

use crate::error::Result;
use crate::options::Options;

/// Keras `pooling` of the applications when `include_top` is false.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pooling {
    /// "avg": GlobalAveragePooling2D.
    Avg,
    /// "max": GlobalMaxPooling2D.
    Max,
}

/// The arguments `keras.applications.X(...)` share, with Keras's defaults.
#[derive(Clone, Debug)]
pub struct AppArgs {
    /// Keep the classifier on top (default true).
    pub include_top: bool,
    /// None or "imagenet" (Keras also takes a file path; here files load with loadWeights).
    pub weights: Option<String>,
    /// (height, width, channels); None: the family's default size.
    pub input_shape: Option<Vec<usize>>,
    /// Pooling after the base when there is no top.
    pub pooling: Option<Pooling>,
    /// Classes of the top (default 1000).
    pub classes: usize,
    /// Activation of the top layer (default "softmax").
    pub classifier_activation: String,
    /// MobileNetV2's width multiplier.
    pub alpha: f64,
}

impl Default for AppArgs {
    fn default() -> Self {
        AppArgs {
            include_top: true,
            weights: None,
            input_shape: None,
            pooling: None,
            classes: 1000,
            classifier_activation: "softmax".to_string(),
            alpha: 1.0,
        }
    }
}

impl AppArgs {
    /// From Keras-named (snake_case) or notebook (camelCase) options; unknown keys are errors.
    pub fn from_options(owner: &str, value: &Value) -> Result<AppArgs> {
        let o = Options::new(owner, value)?;
        let d = AppArgs::default();
        let weights = match o.get("weights") {
            None | Some(Value::Null) => None,
            Some(_) => Some(o.str("weights", "")?),
        };
        let input_shape = o.usize_list("input_shape")?;
        let pooling = match o.get("pooling") {
            None | Some(Value::Null) => None,
            Some(_) => match o.choice("pooling", &["avg", "max"], "avg")? {
                "avg" => Some(Pooling::Avg),
                _ => Some(Pooling::Max),
            },
        };
        let args = AppArgs {
            include_top: o.bool("include_top", d.include_top)?,
            weights,
            input_shape,
            pooling,
            classes: o.usize_or("classes", d.classes)?,
            classifier_activation: o.str("classifier_activation", &d.classifier_activation)?,
            alpha: o.f64("alpha", d.alpha)?,
        };
        o.finish()?;
        Ok(args)
    }

    /// Keras's checks on weights and classes, then the input shape: the default size when
    /// none is given, else at least `min_size` on both sides and 3 channels.
    pub(crate) fn input_shape(&self, app: &str, default_size: usize, min_size: usize) -> Result<Vec<usize>> {
        match self.weights.as_deref() {
            None => {}
            Some("imagenet") => {
                self.check_imagenet(app)?;
                let file = super::weights::imagenet_weights(app, self, None)?;
                return Err(crate::Error::new(format!(
                    "{app}: weights=\"imagenet\" is Keras's {} ({}), and the engine downloads nothing; \
                     build with weights: null and load that file with loadWeights (keras.applications in a cell fetches it)",
                    file.file_name, file.url
                )));
            }
            Some(other) => {
                return Err(crate::Error::new(format!(
                    "{app}: weights must be null or \"imagenet\", got \"{other}\"; load a weights file with loadWeights"
                )))
            }
        }
        let shape = match &self.input_shape {
            None => vec![default_size, default_size, 3],
            Some(s) => s.clone(),
        };
        let ok = shape.len() == 3 && shape[2] == 3;
        if !ok {
            return Err(crate::Error::new(format!(
                "{app}: input_shape must be (height, width, 3), got {}",
                crate::shape::fmt_shape(&shape)
            )));
        }
        if shape[0] < min_size || shape[1] < min_size {
            return Err(crate::Error::new(format!(
                "{app}: input size must be at least {min_size}x{min_size}; got input_shape={}",
                crate::shape::fmt_shape(&shape)
            )));
        }
        Ok(shape)
    }

    /// Keras's rule for ImageNet weights: with the top, the classifier has ImageNet's
    /// 1,000 classes.
    pub fn check_imagenet(&self, app: &str) -> Result<()> {
        if self.include_top && self.classes != 1000 {
            return Err(crate::Error::new(format!(
                "{app}: with weights=\"imagenet\" and include_top=true, classes must be 1000 (ImageNet's); got classes={}",
                self.classes
            )));
        }
        Ok(())
    }
}
