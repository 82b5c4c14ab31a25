//! Host code of shaders/elementwise.wgsl: its uniform block and its launches.

use crate::bail;
use crate::error::Result;
use crate::gpu::params::{dims, uniform_block, Dims};
use crate::gpu::{grid_1d, GpuContext, Stem, WG_1D};
use crate::ops::elementwise::spec::{BinaryOp, UnaryOp};
use crate::shape::numel;
use crate::tensor::{DType, Tensor};
use crate::Device;

const WG: u32 = WG_1D;

uniform_block! {
    /// shaders/elementwise.wgsl `struct Params`.
    pub(crate) struct ElementwiseParams {
        pub n: u32,
        pub op: u32,
        pub rank: u32,
        pub _pad0: u32,
        pub p0: f32,
        pub p1: f32,
        pub _pad1: u32,
        pub _pad2: u32,
        pub out_dims: Dims,
        pub a_strides: Dims,
        pub b_strides: Dims,
    }
}

/// Cast `x` to `dtype`; uint8 → float32 folds in `x * scale + shift`.
pub(crate) fn cast(
    ctx: &GpuContext,
    device: &Device,
    x: &Tensor,
    dtype: DType,
    scale: f32,
    shift: f32,
) -> Result<Tensor> {
    let (from, n) = (x.dtype(), x.numel());
    let (entry, in_binding, out_binding, out_bytes) = match (from, dtype) {
        (DType::U8, DType::F32) => ("cast_u8", 4, 3, n * 4),
        (DType::I32, DType::F32) => ("cast_i32", 5, 3, n * 4),
        (DType::F32, DType::I32) => ("to_i32", 1, 6, n * 4),
        (DType::F32, DType::U8) => ("to_u8", 1, 7, n.div_ceil(4) * 4),
        _ => bail!("cast: {} → {} is not supported on the GPU", from.name(), dtype.name()),
    };
    // to_u8 packs four bytes per invocation.
    let threads = if dtype == DType::U8 { n.div_ceil(4) } else { n };
    let out = ctx.alloc(out_bytes as u64, &format!("cast to {} {}", dtype.name(), crate::shape::fmt_shape(x.shape())))?;
    ctx.launch(
        Stem::Elementwise,
        entry,
        &[],
        &elementwise_params(n, 0, scale, shift),
        &[(in_binding, x.gpu_buffer()?), (out_binding, &out)],
        grid_1d(threads, WG),
    )?;
    Ok(Tensor::from_gpu_buffer(device, out, x.shape(), dtype))
}

/// A float32 tensor of `shape` filled with `value`.
pub(crate) fn fill(ctx: &GpuContext, device: &Device, shape: &[usize], value: f32) -> Result<Tensor> {
    let n = numel(shape);
    let out = ctx.alloc_tensor("fill output", shape, DType::F32)?;
    ctx.launch(Stem::Elementwise, "fill", &[], &elementwise_params(n, 0, value, 0.0), &[(3, &out)], grid_1d(n, WG))?;
    Ok(Tensor::from_gpu_buffer(device, out, shape, DType::F32))
}

/// `a op b` broadcast to `out_shape` through the operands' strides.
#[allow(clippy::too_many_arguments)]
pub(crate) fn binary(
    ctx: &GpuContext,
    device: &Device,
    a: &Tensor,
    b: &Tensor,
    op: BinaryOp,
    out_shape: &[usize],
    a_strides: &[usize],
    b_strides: &[usize],
) -> Result<Tensor> {
    let name = op.name();
    let n = numel(out_shape);
    let out = ctx.alloc_tensor(&format!("{name} output"), out_shape, DType::F32)?;
    let params = ElementwiseParams {
        n: n as u32,
        op: binary_code(op),
        rank: out_shape.len() as u32,
        out_dims: dims(out_shape),
        a_strides: dims(a_strides),
        b_strides: dims(b_strides),
        ..Default::default()
    };
    // Same-shape operands (residual adds, gradient products) need no index arithmetic.
    let entry = if a.shape() == out_shape && b.shape() == out_shape { "binary_flat" } else { "binary" };
    ctx.launch(
        Stem::Elementwise,
        entry,
        &[],
        &params,
        &[(1, a.gpu_buffer()?), (2, b.gpu_buffer()?), (3, &out)],
        grid_1d(n, WG),
    )?;
    Ok(Tensor::from_gpu_buffer(device, out, out_shape, DType::F32))
}

/// ReLU's gradient: dy where x > 0, else 0, in one pass.
pub(crate) fn relu_grad(ctx: &GpuContext, device: &Device, x: &Tensor, dy: &Tensor) -> Result<Tensor> {
    let n = x.numel();
    let out = ctx.alloc_tensor("relu gradient", x.shape(), DType::F32)?;
    ctx.launch(
        Stem::Elementwise,
        "relu_grad",
        &[],
        &elementwise_params(n, 0, 0.0, 0.0),
        &[(1, x.gpu_buffer()?), (2, dy.gpu_buffer()?), (3, &out)],
        grid_1d(n, WG),
    )?;
    Ok(Tensor::from_gpu_buffer(device, out, x.shape(), DType::F32))
}

/// `op` applied to every element of `x`.
pub(crate) fn unary(ctx: &GpuContext, device: &Device, x: &Tensor, op: UnaryOp, name: &str) -> Result<Tensor> {
    let n = x.numel();
    let out = ctx.alloc_tensor(&format!("{name} output"), x.shape(), DType::F32)?;
    let (code, p0, p1) = unary_code(op);
    ctx.launch(
        Stem::Elementwise,
        "unary",
        &[],
        &elementwise_params(n, code, p0, p1),
        &[(1, x.gpu_buffer()?), (3, &out)],
        grid_1d(n, WG),
    )?;
    Ok(Tensor::from_gpu_buffer(device, out, x.shape(), DType::F32))
}

fn elementwise_params(n: usize, op: u32, p0: f32, p1: f32) -> ElementwiseParams {
    ElementwiseParams { n: n as u32, op, p0, p1, ..Default::default() }
}

/// A unary op's code and parameters as shaders/elementwise.wgsl reads them.
fn unary_code(op: UnaryOp) -> (u32, f32, f32) {
    match op {
        UnaryOp::Neg => (0, 0.0, 0.0),
        UnaryOp::Abs => (1, 0.0, 0.0),
        UnaryOp::Relu => (2, 0.0, 0.0),
        UnaryOp::Sigmoid => (3, 0.0, 0.0),
        UnaryOp::Tanh => (4, 0.0, 0.0),
        UnaryOp::Exp => (5, 0.0, 0.0),
        UnaryOp::Log => (6, 0.0, 0.0),
        UnaryOp::Sqrt => (7, 0.0, 0.0),
        UnaryOp::Square => (8, 0.0, 0.0),
        UnaryOp::Reciprocal => (9, 0.0, 0.0),
        UnaryOp::Step => (10, 0.0, 0.0),
        UnaryOp::Sign => (11, 0.0, 0.0),
        UnaryOp::Softplus => (12, 0.0, 0.0),
        UnaryOp::Pow(p) => (13, p as f32, 0.0),
        UnaryOp::Clamp(lo, hi) => (14, lo as f32, hi as f32),
        UnaryOp::Affine(s, b) => (15, s as f32, b as f32),
    }
}

/// A binary op's code: its position in the enum, as the shader's switch reads it.
fn binary_code(op: BinaryOp) -> u32 {
    op as u32
}
