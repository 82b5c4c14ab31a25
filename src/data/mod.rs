//! Datasets and input pipelines: loaders for MNIST-style IDX files, dataset sources;
//! seeded splits, shuffling and batching. Data stays uint8 until batched.

pub mod batch;
pub mod csv_digits;
pub mod idx;
pub mod rng;
pub mod sources;
pub mod split;
