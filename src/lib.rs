//! convbook: a deep-learning engine in Rust + WGSL for a browser notebook.
//! See ARCHITECTURE.md for the path data takes from a notebook cell to a shader.

#![warn(missing_docs)]

mod error;
mod shape;

pub mod data;
pub mod cpu;
pub mod device;
pub mod gpu;
pub mod graph;
pub mod host_memory;
pub mod io;
pub mod limits;
pub mod nn;
pub mod ops;
mod options;
mod reference;
pub mod tensor;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use device::Device;
pub use error::{Error, Result};
pub use tensor::{CpuData, DType, Tensor};
