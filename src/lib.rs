//! convbook: a deep-learning engine in Rust + WGSL for a browser notebook.
//! See ARCHITECTURE.md for the path data takes from a notebook cell to a shader.

pub mod error;
pub mod shape;

pub mod data;
pub mod device;
pub mod gpu;
pub mod graph;
pub mod io;
pub mod limits;
pub mod nn;
pub mod ops;
pub mod options;
pub mod reference;
pub mod tensor;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use device::Device;
pub use error::{Error, Result};
pub use tensor::{CpuData, DType, Tensor};
