//! Ops: one module per stem. Each checks shapes (errors name the op and the shapes),
//! then runs the CPU reference or launches the stem's WGSL kernel.

pub mod batch_norm;
pub mod conv2d;
pub mod conv_transpose2d;
pub mod copy;
mod dispatch;
pub mod depthwise_conv2d;
pub mod elementwise;
pub mod geometry;
pub mod image_transform;
pub mod loss;
pub mod matmul;
pub mod optim_update;
pub mod pool2d;
pub mod reduce;
pub mod resize;

use crate::device::Device;
use crate::error::Result;
use crate::tensor::{DType, Tensor};
use crate::{bail, ensure};

pub(crate) use dispatch::on_device;

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

/// Access to CPU tensor data as one float type, so reference kernels can be called
/// generically over f32 / f64.
pub(crate) trait CpuFloat: crate::reference::Real {
    fn slice<'a>(t: &'a Tensor, op: &str) -> Result<&'a [Self]>;
    fn wrap(v: Vec<Self>) -> crate::tensor::CpuData;
}

macro_rules! impl_cpu_float {
    ($ty:ty, $variant:ident) => {
        impl CpuFloat for $ty {
            fn slice<'a>(t: &'a Tensor, op: &str) -> Result<&'a [$ty]> {
                match t.cpu_data()? {
                    crate::tensor::CpuData::$variant(v) => Ok(v),
                    other => bail!("{op}: expected {} data, got {}", stringify!($ty), other.dtype().name()),
                }
            }
            fn wrap(v: Vec<$ty>) -> crate::tensor::CpuData {
                crate::tensor::CpuData::$variant(v)
            }
        }
    };
}
impl_cpu_float!(f32, F32);
impl_cpu_float!(f64, F64);

/// Check a tensor's shape against what an op expects.
pub(crate) fn expect_shape(op: &str, what: &str, t: &Tensor, want: &[usize]) -> Result<()> {
    ensure!(
        t.shape() == want,
        "{op}: {what} has shape {} but {} was expected",
        crate::shape::fmt_shape(t.shape()),
        crate::shape::fmt_shape(want)
    );
    Ok(())
}

