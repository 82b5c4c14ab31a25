//! The WebGPU device: context, buffer pool, pipeline cache, kernel launch and readback.
//! The same code drives native Vulkan/Metal/DX12 and the browser's WebGPU.

mod allocation;
mod context;
pub(crate) mod kernels;
mod launch;
pub(crate) mod params;
mod pipelines;
mod pool;
mod profile;
mod readback;
pub(crate) mod shaders;

pub use context::{AdapterSummary, GpuContext};
pub(crate) use launch::{grid_1d, WG_1D};
pub use pool::{GpuBuffer, PoolStats};
pub use profile::KernelTime;
pub use readback::readback_bytes;
pub(crate) use shaders::Stem;
