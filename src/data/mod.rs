//! Datasets and input pipelines: loaders for MNIST-style IDX files and archives (zip,
//! tar, tar.gz, picked files); decoding and resizing; dataset sources; seeded splits,
//! shuffling and batching. Data stays uint8 until batched.

pub mod archive;
pub mod batch;
pub mod csv_digits;
pub mod idx;
pub mod images;
pub mod rng;
mod rows;
pub mod sources;
pub mod split;
