//! Ops: one module per stem. Each checks shapes (errors name the op and the shapes),
//! then runs the CPU reference or launches the stem's WGSL kernel.

pub mod copy;
pub mod elementwise;
pub mod matmul;
pub mod reduce;

use crate::device::Device;
use crate::error::Result;
use crate::gpu::GpuContext;
use crate::tensor::{DType, Tensor};
use crate::{bail, ensure};

/// The GPU context both tensors live on, or None when both are on the CPU.
pub(crate) fn common_device<'a>(op: &str, tensors: &[&'a Tensor]) -> Result<&'a Device> {
    let first = tensors[0].device();
    for t in &tensors[1..] {
        ensure!(
            t.device().same(first),
            "{op}: tensors are on different devices ({} and {})",
            first.describe(),
            t.device().describe()
        );
    }
    Ok(first)
}

pub(crate) fn gpu_of(device: &Device) -> Option<&GpuContext> {
    match device {
        Device::Gpu(ctx) => Some(ctx),
        Device::Cpu => None,
    }
}

pub(crate) fn require_float(op: &str, t: &Tensor) -> Result<()> {
    if !t.dtype().is_float() {
        bail!("{op}: expected a float tensor, got {}", t.describe());
    }
    Ok(())
}

pub(crate) fn require_same_dtype(op: &str, a: &Tensor, b: &Tensor) -> Result<DType> {
    ensure!(
        a.dtype() == b.dtype(),
        "{op}: dtypes differ ({} and {})",
        a.describe(),
        b.describe()
    );
    Ok(a.dtype())
}

/// Apply a generic float reference kernel to CPU data: `float_cpu!(data, op, |v| body)`.
macro_rules! float_cpu {
    ($data:expr, $op:expr, |$v:ident| $body:expr) => {
        match $data {
            $crate::tensor::CpuData::F32($v) => $crate::tensor::CpuData::F32($body),
            $crate::tensor::CpuData::F64($v) => $crate::tensor::CpuData::F64($body),
            other => $crate::bail!("{}: expected a float tensor, got {}", $op, other.dtype().name()),
        }
    };
}
pub(crate) use float_cpu;
