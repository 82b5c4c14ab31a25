//! Keras-shaped neural-network API: layers, functional and sequential models, summary,
//! losses, metrics, optimizers and the training loop.

pub mod activation;
pub mod applications;
pub mod compile;
pub mod fit_options;
pub mod from_keras;
pub mod from_tfjs;
pub mod gradients;
pub mod init;
pub mod layer;
pub mod layers;
pub mod losses;
pub mod model;
pub mod naming;
pub mod optimizers;
pub mod summary;
pub mod symbolic;
pub mod to_keras;
pub mod to_tfjs;
pub mod training_config;
pub mod train;

pub use layer::Layer;
pub use layers::LayerKind;
pub use model::{sequential, Model};
pub use symbolic::{input, KerasTensor};
