//! Reading and writing model and array files. Every reader takes bytes (the browser has
//! no filesystem); native builds add path helpers.
//!
//! - [`npy`]: NumPy `.npy` arrays and `.npz` archives.
//! - `hdf5`: HDF5 files (Keras `.h5`, the weights inside `.keras`), read and written.
//! - [`keras_file`]: Keras's own model files: `.keras` archives and legacy `.h5`.
//! - [`tfjs`]: TensorFlow.js layers models (`model.json` + binary weight shards).

pub(crate) mod hdf5;
pub mod keras_file;
pub mod npy;
pub mod tfjs;

pub use npy::{read_npy, read_npz, write_npy, write_npy_as, write_npz, NpyArray, NpyDType};
pub use tfjs::{LayerSpec, NamedWeight, TensorRef, TfjsModel, Topology};
