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
use crate::tensor::{CpuData, DType, Tensor};

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

/// Max pooling that also returns, per output, the flat input index (int32) of its
/// window's first maximum: `max_pool2d_grad_from_argmax` then routes the gradient
/// without searching the windows again.
pub fn max_pool2d_argmax(x: &Tensor, spec: &Pool2dSpec) -> Result<(Tensor, Tensor)> {
    require_float(OP, x)?;
    ensure!(spec.kind == PoolKind::Max, "{OP}: argmax is for max pooling, not {} pooling", spec.kind.name());
    expect_shape(OP, "input", x, &spec.input_shape())?;
    let device = x.device();
    on_device!(device, x.dtype(), OP,
        cpu::<F> => {
            let (y, arg) = reference::max_pool2d_argmax(F::slice(x, OP)?, spec)?;
            let shape = spec.output_shape()?;
            Ok((Tensor::from_cpu(&shape, F::wrap(y)), Tensor::from_cpu(&shape, CpuData::I32(arg))))
        },
        gpu(ctx) => gpu::max_forward_argmax(ctx, device, x, &spec.window()?),
    )
}

/// Max pooling's input gradient from `max_pool2d_argmax`'s indices; the same as
/// `pool2d_grad_input` on the input those indices came from.
pub fn max_pool2d_grad_from_argmax(argmax: &Tensor, dy: &Tensor, spec: &Pool2dSpec) -> Result<Tensor> {
    let device = super::common_device(OP, &[argmax, dy])?;
    ensure!(spec.kind == PoolKind::Max, "{OP}: argmax is for max pooling, not {} pooling", spec.kind.name());
    let out_shape = spec.output_shape()?;
    ensure!(
        argmax.dtype() == DType::I32 && argmax.shape() == out_shape.as_slice(),
        "{OP}: argmax {} does not match the output {} as int32",
        argmax.describe(),
        fmt_shape(&out_shape)
    );
    expect_shape(OP, "output gradient", dy, &out_shape)?;
    let input_shape = spec.input_shape();
    on_device!(device, dy.dtype(), OP,
        cpu::<F> => {
            let CpuData::I32(arg) = argmax.cpu_data()? else { crate::bail!("{OP}: argmax is not int32") };
            let g = reference::max_pool2d_grad_from_argmax(arg, F::slice(dy, OP)?, input_shape.iter().product())?;
            Ok(Tensor::from_cpu(&input_shape, F::wrap(g)))
        },
        gpu(ctx) => gpu::max_grad_input_argmax(ctx, device, &input_shape, argmax, dy, &spec.window()?),
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
