//! Datasets and input pipelines: loaders for MNIST-style IDX files, image folders in
//! zips / tars / picked files, Kaggle's dogs-vs-cats, Oxford pets trimaps; decoding and
//! resizing; seeded splits, shuffling and batching. Data stays uint8 until batched.

pub mod archive;
pub mod batch;
pub mod csv_digits;
pub mod dogs_vs_cats;
pub mod idx;
pub mod image_folder;
pub mod images;
pub mod loader_options;
pub mod pets;
pub mod rng;
mod rows;
pub mod sources;
pub mod split;
