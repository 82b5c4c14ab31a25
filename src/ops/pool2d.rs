//! 2-D pooling (Keras MaxPooling2D / AveragePooling2D / GlobalAveragePooling2D), NHWC.

pub(crate) mod spec;
pub use spec::{GlobalPool2dSpec, Pool2dSpec, PoolKind};

use super::{expect_shape, on_device, require_float, CpuFloat};
use crate::ensure;
use crate::error::Result;
use crate::gpu::kernels::pool2d as gpu;
use crate::ops::geometry::Padding;
use crate::reference::pool2d as reference;
use crate::shape::fmt_shape;
use crate::tensor::Tensor;

const OP: &str = "pool2d";

/// `strides` None means the pool size, as in Keras.
pub fn pool2d_spec(
    x: &Tensor,
    kind: PoolKind,
    pool: [usize; 2],
    strides: Option<[usize; 2]>,
    padding: Padding,
) -> Result<Pool2dSpec> {
    ensure!(
        x.rank() == 4,
        "{}_pooling2d: expects input (batch, height, width, channels), got {}",
        kind.name(),
        fmt_shape(x.shape())
    );
    let s = x.shape();
    let spec = Pool2dSpec { kind, batch: s[0], in_h: s[1], in_w: s[2], channels: s[3], pool, strides, padding };
    spec.window()?;
    Ok(spec)
}

/// Max or average pooling of an NHWC tensor over the windows of `spec`.
pub fn pool2d(x: &Tensor, spec: &Pool2dSpec) -> Result<Tensor> {
    require_float(OP, x)?;
    expect_shape(OP, "input", x, &spec.input_shape())?;
    let device = x.device();
    on_device!(device, x.dtype(), OP,
        fast_f32 => {
            let y = crate::cpu::pool2d::forward(f32::slice(x, OP)?, spec)?;
            Ok(Tensor::from_cpu(&spec.output_shape()?, f32::wrap(y)))
        },
        cpu::<F> => {
            let y = reference::pool2d(F::slice(x, OP)?, spec)?;
            Ok(Tensor::from_cpu(&spec.output_shape()?, F::wrap(y)))
        },
        gpu(ctx) => gpu::forward(ctx, device, x, &spec.window()?, spec.kind == PoolKind::Max),
    )
}

/// Input gradient; max pooling routes each output gradient to the first maximum of its
/// window, as TensorFlow does.
pub fn pool2d_grad_input(x: &Tensor, dy: &Tensor, spec: &Pool2dSpec) -> Result<Tensor> {
    let device = super::common_device(OP, &[x, dy])?;
    expect_shape(OP, "input", x, &spec.input_shape())?;
    expect_shape(OP, "output gradient", dy, &spec.output_shape()?)?;
    on_device!(device, x.dtype(), OP,
        fast_f32 => {
            let g = crate::cpu::pool2d::grad_input(f32::slice(x, OP)?, f32::slice(dy, OP)?, spec)?;
            Ok(Tensor::from_cpu(&spec.input_shape(), f32::wrap(g)))
        },
        cpu::<F> => {
            let g = reference::pool2d_grad_input(F::slice(x, OP)?, F::slice(dy, OP)?, spec)?;
            Ok(Tensor::from_cpu(&spec.input_shape(), F::wrap(g)))
        },
        gpu(ctx) => gpu::grad_input(ctx, device, x, dy, &spec.window()?, spec.kind == PoolKind::Max),
    )
}

/// Keras GlobalAveragePooling2D: the mean over height and width.
pub fn global_average_pool2d(x: &Tensor) -> Result<Tensor> {
    ensure!(
        x.rank() == 4,
        "global_average_pooling2d: expects input (batch, height, width, channels), got {}",
        fmt_shape(x.shape())
    );
    x.mean(&[1, 2], false)
}
