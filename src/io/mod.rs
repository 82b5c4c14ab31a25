//! Reading and writing model and array files. Every reader takes bytes (the browser has
//! no filesystem); native builds add path helpers.
//!
//! - [`npy`]: NumPy `.npy` arrays and `.npz` archives.

pub mod npy;

pub use npy::{read_npy, read_npz, write_npy, write_npy_as, write_npz, NpyArray, NpyDType};
