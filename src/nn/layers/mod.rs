//! Keras layer kinds. Each kind lives in its own file (or family file) here: its Keras
//! config in and out, its weights in Keras order, output-shape inference, the forward
//! pass on the autograd tape, and its unit tests. [`registry`] is the only list of the
//! kinds a config or a notebook cell can name.

use std::any::Any;
use std::rc::Rc;

use serde_json::Value;

use crate::error::Result;
use crate::graph::Var;
use crate::nn::init::Initializer;
use crate::options::Options;
use crate::ops::geometry::{AxisGeometry, Padding};
use crate::tensor::Tensor;

pub(crate) mod activations;
mod augmentation;
pub(crate) mod batch_norm;
pub(crate) mod common;
mod conv;
mod dense;
mod dropout;
mod global_max_pooling2d;
pub(crate) mod input;
mod merging;
pub(crate) mod nested_model;
mod pooling;
mod rescaling;
mod reshaping;
mod resizing;
mod up_sampling2d;

pub use common::ConvConfig;
pub use nested_model::NestedModel;

/// A dimension that may be unknown (the batch axis).
pub type Dim = Option<usize>;
/// A symbolic shape: one [`Dim`] per axis, batch first.
pub type Shape = Vec<Dim>;

pub(crate) fn fmt_dims(shape: &[Dim]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.map_or("None".to_string(), |v| v.to_string())).collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

/// One weight a layer creates when it is built.
pub struct WeightSpec {
    /// Keras's weight name ("kernel", "bias", "moving_mean").
    pub name: &'static str,
    /// Its shape.
    pub shape: Vec<usize>,
    /// How it starts.
    pub init: Initializer,
    /// Whether gradient descent updates it.
    pub trainable: bool,
}

pub(crate) fn spec(name: &'static str, shape: Vec<usize>, init: Initializer, trainable: bool) -> WeightSpec {
    WeightSpec { name, shape, init, trainable }
}

/// What a forward pass needs besides its inputs and weights.
pub struct Forward<'a> {
    /// Keras's `training` flag for this call.
    pub training: bool,
    /// Randomness of dropout and augmentation.
    pub rng: &'a mut rand::rngs::SmallRng,
    /// New values for non-trainable weights (BatchNormalization's moving statistics).
    pub(crate) updates: Vec<(usize, Tensor)>,
    /// The ReLU that reads this call's output runs inside it (BatchNormalization only;
    /// nn::relu_fusion).
    pub(crate) relu_after: bool,
}

/// What every Keras layer kind provides. `layer` (the layer's name) is for error messages.
pub trait KerasLayer: std::fmt::Debug + 'static {
    /// The Keras class name (what summaries print and files carry).
    fn class_name(&self) -> &'static str;

    /// How many inputs a call takes (None: two or more).
    fn arity(&self) -> Option<usize> {
        Some(1)
    }

    /// The output shape for these input shapes; errors name the layer and the shapes.
    fn output_shape(&self, inputs: &[Shape], layer: &str) -> Result<Shape>;

    /// Weights in Keras's order, for the given input shapes.
    fn weight_specs(&self, _inputs: &[Shape], _layer: &str) -> Result<Vec<WeightSpec>> {
        Ok(vec![])
    }

    /// The call on the tape: `weights` in `weight_specs` order.
    fn forward(&self, inputs: &[Var], weights: &[Var], fwd: &mut Forward, layer: &str) -> Result<Var>;

    /// The Keras config (without name and trainable, which the layer adds), as
    /// `from_config` reads it back.
    fn get_config(&self) -> Value;

    /// Keras runs a frozen layer in inference mode (BatchNormalization keeps its moving
    /// statistics); a layer whose training behaviour has nothing to freeze (Dropout)
    /// follows the call's `training` flag alone.
    fn frozen_runs_in_inference(&self) -> bool {
        true
    }

    /// The `keras.Input` placeholder, which has no computation.
    fn is_input(&self) -> bool {
        false
    }

    /// A whole model called as a layer.
    fn as_model(&self) -> Option<&crate::nn::model::Model> {
        None
    }

    /// For [`LayerKind`]'s downcast to the concrete kind.
    fn as_any(&self) -> &dyn Any;
}

/// A shared handle on one layer kind's configuration.
#[derive(Clone)]
pub struct LayerKind(Rc<dyn KerasLayer>);

impl std::ops::Deref for LayerKind {
    type Target = dyn KerasLayer;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl std::fmt::Debug for LayerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl LayerKind {
    /// Wrap a concrete layer kind.
    pub fn new(kind: impl KerasLayer) -> LayerKind {
        LayerKind(Rc::new(kind))
    }

    /// The concrete kind, when it is a `T`.
    pub fn downcast<T: KerasLayer>(&self) -> Option<&T> {
        self.0.as_any().downcast_ref::<T>()
    }

    /// Build a layer kind from its Keras class name (or alias) and config. Keys Keras
    /// accepts but that do not change the computation are accepted; any other key is
    /// an error naming it.
    pub fn from_config(class_name: &str, config: &Value) -> Result<LayerKind> {
        let entry = registry()
            .iter()
            .find(|r| r.names.contains(&class_name))
            .ok_or_else(|| crate::Error::new(format!("unknown or unsupported layer class '{class_name}'")))?;
        let options = Options::new(class_name, config)?;
        common::accept_base_keys(&options);
        let kind = (entry.from_config)(&options)?;
        options.finish()?;
        Ok(kind)
    }

    /// Run the layer, naming it in errors.
    pub fn forward(&self, inputs: &[Var], weights: &[Var], fwd: &mut Forward, layer: &str) -> Result<Var> {
        self.0
            .forward(inputs, weights, fwd, layer)
            .map_err(|e| e.context(format!("layer \"{layer}\" ({})", self.class_name())))
    }

    /// The config a file carries (what `to_tfjs` writes).
    pub fn to_config(&self) -> Value {
        self.0.get_config()
    }
}

/// One layer class: its Keras names (the class, then aliases), its positional arguments
/// in Keras's order (what a notebook cell's `layers.X(a, b, {...})` maps `a`, `b` to),
/// and the constructor reading its config.
pub struct Registration {
    /// The Keras class name, then its aliases.
    pub names: &'static [&'static str],
    /// Positional arguments, in Keras's order.
    pub signature: &'static [&'static str],
    /// Builds the kind from its config; any key it leaves unread is then an error.
    pub from_config: fn(&Options) -> Result<LayerKind>,
}

const fn reg(
    names: &'static [&'static str],
    signature: &'static [&'static str],
    from_config: fn(&Options) -> Result<LayerKind>,
) -> Registration {
    Registration { names, signature, from_config }
}

/// Every layer class a config or a cell can name.
pub fn registry() -> &'static [Registration] {
    static REGISTRY: &[Registration] = &[
        reg(&["Dense"], dense::SIGNATURE, dense::from_config),
        reg(&["Conv2D", "Convolution2D"], conv::CONV2D_SIGNATURE, conv::conv2d_from_config),
        reg(&["Conv2DTranspose", "Convolution2DTranspose"], conv::TRANSPOSE_SIGNATURE, conv::transpose_from_config),
        reg(&["SeparableConv2D", "SeparableConvolution2D"], conv::SEPARABLE_SIGNATURE, conv::separable_from_config),
        reg(&["DepthwiseConv2D"], conv::DEPTHWISE_SIGNATURE, conv::depthwise_from_config),
        reg(&["BatchNormalization"], batch_norm::SIGNATURE, batch_norm::from_config),
        reg(&["MaxPooling2D", "MaxPool2D"], pooling::SIGNATURE, pooling::max_from_config),
        reg(&["AveragePooling2D", "AvgPool2D"], pooling::SIGNATURE, pooling::average_from_config),
        reg(&["GlobalAveragePooling2D", "GlobalAvgPool2D"], pooling::GLOBAL_SIGNATURE, pooling::global_average_from_config),
        reg(&["GlobalMaxPooling2D", "GlobalMaxPool2D"], global_max_pooling2d::SIGNATURE, global_max_pooling2d::from_config),
        reg(&["Flatten"], reshaping::FLATTEN_SIGNATURE, reshaping::flatten_from_config),
        reg(&["ZeroPadding2D"], reshaping::ZERO_PADDING_SIGNATURE, reshaping::zero_padding_from_config),
        reg(&["Dropout"], dropout::SIGNATURE, dropout::from_config),
        reg(&["Rescaling"], rescaling::SIGNATURE, rescaling::from_config),
        reg(&["Activation"], activations::ACTIVATION_SIGNATURE, activations::activation_from_config),
        reg(&["ReLU"], activations::RELU_SIGNATURE, activations::relu_from_config),
        reg(&["Add"], merging::ADD_SIGNATURE, merging::add_from_config),
        reg(&["Concatenate"], merging::CONCATENATE_SIGNATURE, merging::concatenate_from_config),
        reg(&["RandomFlip"], augmentation::FLIP_SIGNATURE, augmentation::flip_from_config),
        reg(&["RandomRotation"], augmentation::ROTATION_SIGNATURE, augmentation::rotation_from_config),
        reg(&["RandomZoom"], augmentation::ZOOM_SIGNATURE, augmentation::zoom_from_config),
        reg(&["Resizing"], resizing::SIGNATURE, resizing::from_config),
        reg(&["UpSampling2D"], up_sampling2d::SIGNATURE, up_sampling2d::from_config),
    ];
    REGISTRY
}

pub(crate) fn known(d: Dim, what: &str, layer: &str) -> Result<usize> {
    d.ok_or_else(|| crate::Error::new(format!("{layer}: the {what} dimension must be known, got None")))
}

pub(crate) fn rank4(x: &Shape, layer: &str) -> Result<()> {
    crate::ensure!(x.len() == 4, "{layer}: expects a 4-D input (batch, height, width, channels), got {}", fmt_dims(x));
    Ok(())
}

/// Spatial output length of a forward window op, or None for an unknown input length.
pub(crate) fn window_len(input: Dim, kernel: usize, stride: usize, dilation: usize, padding: Padding) -> Result<Dim> {
    match input {
        None => Ok(None),
        Some(i) => Ok(Some(AxisGeometry::new(i, kernel, stride, dilation, padding)?.output)),
    }
}

pub(crate) fn weight<'a>(w: &'a [Var], i: usize, layer: &str) -> Result<&'a Var> {
    w.get(i).ok_or_else(|| crate::Error::new(format!("{layer}: weight {i} is missing (layer not built?)")))
}

/// Checks every layer file's tests share: a config survives a round trip through
/// `get_config`, and shapes come out as Keras gives them.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// Build from `config`, write the config back, build again: both configs agree.
    pub fn round_trip(class: &str, config: Value) -> LayerKind {
        let kind = LayerKind::from_config(class, &config).unwrap();
        let written = kind.to_config();
        let again = LayerKind::from_config(class, &written).unwrap();
        assert_eq!(again.to_config(), written, "{class}: config changed on a round trip");
        kind
    }

    pub fn output_shape(kind: &LayerKind, inputs: &[&[Dim]]) -> Result<Shape> {
        let shapes: Vec<Shape> = inputs.iter().map(|s| s.to_vec()).collect();
        kind.output_shape(&shapes, "test")
    }

    pub fn error(class: &str, config: Value) -> String {
        LayerKind::from_config(class, &config).unwrap_err().to_string()
    }

    #[test]
    fn registered_names_are_unique() {
        let mut names: Vec<&str> = registry().iter().flat_map(|r| r.names.iter().copied()).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
    }

    #[test]
    fn unknown_class_and_typos_are_errors() {
        assert_eq!(error("Dens", serde_json::json!({})), "unknown or unsupported layer class 'Dens'");
        assert_eq!(
            error("Dense", serde_json::json!({"units": 2, "activaton": "relu"})),
            "Dense: unrecognized keyword argument \"activaton\" (did you mean \"activation\"?)"
        );
    }
}
