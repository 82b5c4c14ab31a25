//! Datasets and input pipelines: batching and seeded shuffling of host-side data.

pub mod batch;
pub mod csv_digits;
