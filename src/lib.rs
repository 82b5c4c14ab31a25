//! convbook: a deep-learning engine in Rust + WGSL for a browser notebook.
//! See ARCHITECTURE.md for the path data takes from a notebook cell to a shader.

#![warn(missing_docs)]

mod error;
mod shape;

#[allow(missing_docs)] // documentation of this module's public items is still owed (issue #12)
pub mod data;
pub mod cpu;
pub mod device;
#[allow(missing_docs)] // documentation of this module's public items is still owed (issue #12)
pub mod gpu;
pub mod graph;
#[allow(missing_docs)] // documentation of this module's public items is still owed (issue #12)
pub mod io;
pub mod limits;
#[allow(missing_docs)] // documentation of this module's public items is still owed (issue #12)
pub mod nn;
#[allow(missing_docs)] // documentation of this module's public items is still owed (issue #12)
pub mod ops;
mod options;
mod reference;
pub mod tensor;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use device::Device;
pub use error::{Error, Result};
pub use tensor::{CpuData, DType, Tensor};
