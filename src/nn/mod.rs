//! Keras-shaped neural-network API: layers, functional and sequential models, summary,
//! losses, metrics, optimizers and the training loop.

pub(crate) mod activation;
pub mod applications;
pub(crate) mod compile;
pub mod fit_options;
pub mod from_keras;
pub(crate) mod from_tfjs;
pub mod gradient_tape;
pub mod gradients;
pub mod init;
mod keras_optimizer_vars;
pub mod layer;
mod layer_order;
pub mod layers;
pub mod losses;
pub mod model;
pub mod naming;
mod on_batch;
pub mod optimizers;
mod relu_fusion;
pub(crate) mod summary;
pub mod symbolic;
pub mod to_keras;
pub(crate) mod to_tfjs;
pub(crate) mod training_config;
pub mod train;
mod warm_up;

pub use layer::Layer;
pub use layers::LayerKind;
pub use model::{sequential, Model};
pub use summary::{Summary, SummaryRow};
pub use symbolic::{input, KerasTensor};
