//! CPU reference kernels: plain loops, obviously correct, generic over f32/f64 so the
//! same code checks GPU results and runs f64 finite-difference gradient checks.
//! One file per stem, mirroring shaders/ and ops/.

pub mod batch_norm;
pub mod conv2d;
pub mod conv_transpose2d;
pub mod copy;
pub mod depthwise_conv2d;
pub mod elementwise;
pub mod image_transform;
pub mod loss;
pub mod matmul;
pub mod optim_update;
pub mod pool2d;
pub mod reduce;
pub mod resize;

#[cfg(test)]
mod tests;

/// The float types the references run in.
pub trait Real: num_traits::Float + Default + Send + Sync + std::fmt::Debug + 'static {}
impl Real for f32 {}
impl Real for f64 {}

use crate::error::{Error, Result};

/// Convert an f64 constant to the kernel's float type.
pub fn c<F: Real>(v: f64) -> F {
    F::from(v).unwrap_or_else(F::nan)
}

/// Check that a slice argument has the length its shape asks for.
pub(crate) fn check_len(op: &str, what: &str, got: usize, shape: &[usize]) -> Result<()> {
    let want: usize = shape.iter().product();
    if got != want {
        return Err(Error::new(format!(
            "{op}: {what} has {got} elements but shape {} needs {want}",
            crate::shape::fmt_shape(shape)
        )));
    }
    Ok(())
}
