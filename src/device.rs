//! Where tensors live: a WebGPU device, or the CPU (the fast CPU backend in `cpu/`, the
//! fallback when a browser has no WebGPU; its reference kernels for tests and f64
//! gradient checks).

use crate::error::Result;
use crate::gpu::GpuContext;

/// Where tensors live and kernels run.
#[derive(Clone, Debug)]
pub enum Device {
    /// A WebGPU device; kernels are the WGSL shaders.
    Gpu(GpuContext),
    /// Host memory; f32 kernels are the fast CPU backend (`crate::cpu`), f64 ones the
    /// reference loops.
    Cpu,
}

impl Device {
    /// Open the best GPU adapter available.
    pub async fn gpu() -> Result<Device> {
        Ok(Device::Gpu(GpuContext::new().await?))
    }

    /// The CPU device (always available).
    pub fn cpu() -> Device {
        Device::Cpu
    }

    /// Whether kernels run on a GPU.
    pub fn is_gpu(&self) -> bool {
        matches!(self, Device::Gpu(_))
    }

    /// Whether tensors on `self` and `other` can meet in one op without a transfer.
    pub fn same(&self, other: &Device) -> bool {
        match (self, other) {
            (Device::Cpu, Device::Cpu) => true,
            (Device::Gpu(a), Device::Gpu(b)) => a.same_device(b),
            _ => false,
        }
    }

    /// One line for logs and the page's backend badge.
    pub fn describe(&self) -> String {
        match self {
            Device::Cpu => "CPU".to_string(),
            Device::Gpu(ctx) => {
                let s = ctx.summary();
                format!("{} ({}, {})", s.name, s.backend, s.device_type)
            }
        }
    }

    /// Wait for queued GPU work; a no-op on the CPU.
    pub async fn sync(&self) -> Result<()> {
        match self {
            Device::Cpu => Ok(()),
            Device::Gpu(ctx) => ctx.sync().await,
        }
    }
}
