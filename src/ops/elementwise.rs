//! Elementwise ops: unary maps, broadcasting binary ops, fill and casts.

pub(crate) mod spec;
pub use spec::{BinaryOp, UnaryOp};

use super::{common_device, on_device, require_float, require_same_dtype, CpuFloat};
use crate::device::Device;
use crate::error::Result;
use crate::gpu::kernels::elementwise as gpu;
use crate::reference::elementwise as reference;
use crate::shape::{broadcast_shapes, broadcast_strides, check_rank, numel};
use crate::tensor::{CpuData, DType, Tensor};
use crate::{bail, ensure};

/// `op` applied to every element of a float tensor.
pub fn unary(x: &Tensor, op: UnaryOp) -> Result<Tensor> {
    let name = format!("{op:?}").to_lowercase();
    require_float(&name, x)?;
    let device = x.device();
    on_device!(device, x.dtype(), &name,
        fast_f32 => Ok(Tensor::from_cpu(x.shape(), f32::wrap(crate::cpu::elementwise::unary(f32::slice(x, &name)?, op)))),
        cpu::<F> => {
            let data = F::wrap(reference::unary(F::slice(x, &name)?, op));
            Ok(Tensor::from_cpu(x.shape(), data))
        },
        gpu(ctx) => gpu::unary(ctx, device, x, op, &name),
    )
}

/// `op` on two float tensors of one dtype, broadcast against each other as NumPy does.
pub fn binary(a: &Tensor, b: &Tensor, op: BinaryOp) -> Result<Tensor> {
    let name = op.name();
    let device = common_device(name, &[a, b])?;
    require_float(name, a)?;
    let dtype = require_same_dtype(name, a, b)?;
    let out_shape = broadcast_shapes(a.shape(), b.shape()).map_err(|e| e.context(name))?;
    check_rank(&out_shape, name)?;
    let a_strides = broadcast_strides(a.shape(), &out_shape);
    let b_strides = broadcast_strides(b.shape(), &out_shape);
    on_device!(device, dtype, name,
        fast_f32 => {
            let y = crate::cpu::elementwise::binary(f32::slice(a, name)?, &a_strides, f32::slice(b, name)?, &b_strides, &out_shape, op);
            Ok(Tensor::from_cpu(&out_shape, f32::wrap(y)))
        },
        cpu::<F> => {
            let y = reference::binary(F::slice(a, name)?, &a_strides, F::slice(b, name)?, &b_strides, &out_shape, op);
            let data = F::wrap(y);
            Ok(Tensor::from_cpu(&out_shape, data))
        },
        gpu(ctx) => gpu::binary(ctx, device, a, b, op, &out_shape, &a_strides, &b_strides),
    )
}

/// ReLU's gradient: `dy` where `x` > 0, else 0 (TensorFlow's ReluGrad). One pass on the
/// GPU; on the CPU the step mask times dy.
pub fn relu_grad(x: &Tensor, dy: &Tensor) -> Result<Tensor> {
    const OP: &str = "relu gradient";
    let device = common_device(OP, &[x, dy])?;
    require_float(OP, x)?;
    let dtype = require_same_dtype(OP, x, dy)?;
    ensure!(x.shape() == dy.shape(), "{OP}: gradient {} does not match input {}", dy.describe(), x.describe());
    on_device!(device, dtype, OP,
        cpu::<F> => dy.mul(&x.map(UnaryOp::Step)?),
        gpu(ctx) => gpu::relu_grad(ctx, device, x, dy),
    )
}

/// A float32 tensor of `shape` filled with `value`.
pub fn fill(device: &Device, shape: &[usize], value: f32) -> Result<Tensor> {
    check_rank(shape, "fill")?;
    let n = numel(shape);
    on_device!(device,
        cpu => Tensor::from_f32(device, vec![value; n], shape),
        gpu(ctx) => gpu::fill(ctx, device, shape, value),
    )
}

/// Convert dtype. uint8 → float32 may fold a rescale in: `x * scale + shift`.
pub fn cast_scaled(x: &Tensor, dtype: DType, scale: f32, shift: f32) -> Result<Tensor> {
    let from = x.dtype();
    let scaled = scale != 1.0 || shift != 0.0;
    ensure!(
        !scaled || (from == DType::U8 && dtype == DType::F32),
        "cast: a rescale can only be folded into a uint8 → float32 cast"
    );
    if from == dtype {
        return Ok(x.clone());
    }
    let device = x.device();
    on_device!(device,
        cpu => {
            let src = x.cpu_data()?;
            let data = match (src, dtype) {
                (CpuData::U8(v), DType::F32) => CpuData::F32(v.iter().map(|&b| b as f32 * scale + shift).collect()),
                (CpuData::I32(v), DType::F32) => CpuData::F32(v.iter().map(|&i| i as f32).collect()),
                (CpuData::F32(v), DType::I32) => CpuData::I32(v.iter().map(|&f| f as i32).collect()),
                (CpuData::F32(v), DType::F64) => CpuData::F64(v.iter().map(|&f| f as f64).collect()),
                (CpuData::F64(v), DType::F32) => CpuData::F32(v.iter().map(|&f| f as f32).collect()),
                (CpuData::U8(v), DType::F64) => CpuData::F64(v.iter().map(|&b| b as f64).collect()),
                (CpuData::I32(v), DType::F64) => CpuData::F64(v.iter().map(|&i| i as f64).collect()),
                // Truncates toward zero and saturates to [0, 255]; NaN becomes 0.
                (CpuData::F32(v), DType::U8) => CpuData::U8(v.iter().map(|&f| f as u8).collect()),
                _ => bail!("cast: {} → {} is not supported", from.name(), dtype.name()),
            };
            Ok(Tensor::from_cpu(x.shape(), data))
        },
        gpu(ctx) => gpu::cast(ctx, device, x, dtype, scale, shift),
    )
}

impl Tensor {
    /// This tensor converted to `dtype` (`keras.ops.cast`).
    pub fn cast(&self, dtype: DType) -> Result<Tensor> {
        cast_scaled(self, dtype, 1.0, 0.0)
    }
    /// Elementwise sum, broadcasting (`keras.ops.add`).
    pub fn add(&self, other: &Tensor) -> Result<Tensor> {
        binary(self, other, BinaryOp::Add)
    }
    /// Elementwise difference, broadcasting (`keras.ops.subtract`).
    pub fn sub(&self, other: &Tensor) -> Result<Tensor> {
        binary(self, other, BinaryOp::Sub)
    }
    /// Elementwise product, broadcasting (`keras.ops.multiply`).
    pub fn mul(&self, other: &Tensor) -> Result<Tensor> {
        binary(self, other, BinaryOp::Mul)
    }
    /// Elementwise quotient, broadcasting (`keras.ops.divide`).
    pub fn div(&self, other: &Tensor) -> Result<Tensor> {
        binary(self, other, BinaryOp::Div)
    }
    /// Elementwise power, broadcasting (`keras.ops.power`).
    pub fn pow(&self, other: &Tensor) -> Result<Tensor> {
        binary(self, other, BinaryOp::Pow)
    }
    /// Elementwise maximum, broadcasting (`keras.ops.maximum`).
    pub fn maximum(&self, other: &Tensor) -> Result<Tensor> {
        binary(self, other, BinaryOp::Maximum)
    }
    /// Elementwise minimum, broadcasting (`keras.ops.minimum`).
    pub fn minimum(&self, other: &Tensor) -> Result<Tensor> {
        binary(self, other, BinaryOp::Minimum)
    }
    /// 1 where `self > other`, else 0 (`keras.ops.greater`, as floats).
    pub fn greater(&self, other: &Tensor) -> Result<Tensor> {
        binary(self, other, BinaryOp::Greater)
    }
    /// 1 where `self == other`, else 0 (`keras.ops.equal`, as floats).
    pub fn equal(&self, other: &Tensor) -> Result<Tensor> {
        binary(self, other, BinaryOp::Equal)
    }
    /// `op` applied to every element.
    pub fn map(&self, op: UnaryOp) -> Result<Tensor> {
        unary(self, op)
    }
    /// -x (`keras.ops.negative`).
    pub fn neg(&self) -> Result<Tensor> {
        unary(self, UnaryOp::Neg)
    }
    /// |x| (`keras.ops.abs`).
    pub fn abs(&self) -> Result<Tensor> {
        unary(self, UnaryOp::Abs)
    }
    /// max(x, 0) (`keras.ops.relu`).
    pub fn relu(&self) -> Result<Tensor> {
        unary(self, UnaryOp::Relu)
    }
    /// 1 / (1 + e^-x) (`keras.ops.sigmoid`).
    pub fn sigmoid(&self) -> Result<Tensor> {
        unary(self, UnaryOp::Sigmoid)
    }
    /// Hyperbolic tangent (`keras.ops.tanh`).
    pub fn tanh(&self) -> Result<Tensor> {
        unary(self, UnaryOp::Tanh)
    }
    /// e^x (`keras.ops.exp`).
    pub fn exp(&self) -> Result<Tensor> {
        unary(self, UnaryOp::Exp)
    }
    /// Natural logarithm (`keras.ops.log`).
    pub fn log(&self) -> Result<Tensor> {
        unary(self, UnaryOp::Log)
    }
    /// Square root (`keras.ops.sqrt`).
    pub fn sqrt(&self) -> Result<Tensor> {
        unary(self, UnaryOp::Sqrt)
    }
    /// x² (`keras.ops.square`).
    pub fn square(&self) -> Result<Tensor> {
        unary(self, UnaryOp::Square)
    }
    /// x limited to [lo, hi] (`keras.ops.clip`).
    pub fn clamp(&self, lo: f64, hi: f64) -> Result<Tensor> {
        ensure!(lo <= hi, "clamp: lower bound {lo} exceeds upper bound {hi}");
        unary(self, UnaryOp::Clamp(lo, hi))
    }
    /// x to a constant power.
    pub fn pow_scalar(&self, p: f64) -> Result<Tensor> {
        unary(self, UnaryOp::Pow(p))
    }
    /// `self * scale + shift` in one pass.
    pub fn affine(&self, scale: f64, shift: f64) -> Result<Tensor> {
        unary(self, UnaryOp::Affine(scale, shift))
    }
}

/// Sum `grad` down to `shape`, undoing broadcasting (the adjoint of broadcast_to).
pub(crate) fn unbroadcast(grad: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if grad.shape() == shape {
        return Ok(grad.clone());
    }
    let lead = grad.rank() - shape.len();
    let axes: Vec<isize> = (0..grad.rank())
        .filter(|&a| a < lead || (shape[a - lead] == 1 && grad.shape()[a] != 1))
        .map(|a| a as isize)
        .collect();
    let summed = grad.sum(&axes, true)?;
    summed.reshape(&shape.iter().map(|&d| d as isize).collect::<Vec<_>>())
}

/// Gradient of `unary(x, op)` given `y` (its output) and `dy`. None: not differentiable
/// (piecewise-constant ops have zero gradient almost everywhere).
pub(crate) fn unary_backward(op: UnaryOp, x: &Tensor, y: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
    let g = match op {
        UnaryOp::Neg => dy.neg()?,
        UnaryOp::Abs => dy.mul(&x.map(UnaryOp::Sign)?)?,
        UnaryOp::Relu => relu_grad(x, dy)?,
        UnaryOp::Sigmoid => dy.mul(&y.mul(&y.affine(-1.0, 1.0)?)?)?,
        UnaryOp::Tanh => dy.mul(&y.square()?.affine(-1.0, 1.0)?)?,
        UnaryOp::Exp => dy.mul(y)?,
        UnaryOp::Log => dy.div(x)?,
        UnaryOp::Sqrt => dy.div(&y.affine(2.0, 0.0)?)?,
        UnaryOp::Square => dy.mul(&x.affine(2.0, 0.0)?)?,
        UnaryOp::Reciprocal => dy.mul(&y.square()?)?.neg()?,
        UnaryOp::Softplus => dy.mul(&x.sigmoid()?)?,
        UnaryOp::Pow(p) => dy.mul(&x.pow_scalar(p - 1.0)?.affine(p, 0.0)?)?,
        UnaryOp::Clamp(lo, hi) => {
            // Pass-through strictly inside the interval.
            let above = x.affine(1.0, -lo)?.map(UnaryOp::Step)?;
            let below = x.affine(-1.0, hi)?.map(UnaryOp::Step)?;
            dy.mul(&above.mul(&below)?)?
        }
        UnaryOp::Affine(scale, _) => dy.affine(scale, 0.0)?,
        UnaryOp::Step | UnaryOp::Sign => return Ok(None),
    };
    Ok(Some(g))
}

/// Gradients of `binary(a, b, op)` w.r.t. `a` and `b` given its output `y` and `dy`.
pub(crate) fn binary_backward(
    op: BinaryOp,
    a: &Tensor,
    b: &Tensor,
    y: &Tensor,
    dy: &Tensor,
) -> Result<(Option<Tensor>, Option<Tensor>)> {
    let (ga, gb) = match op {
        BinaryOp::Add => (dy.clone(), dy.clone()),
        BinaryOp::Sub => (dy.clone(), dy.neg()?),
        BinaryOp::Mul => (dy.mul(b)?, dy.mul(a)?),
        BinaryOp::Div => (dy.div(b)?, dy.mul(y)?.div(b)?.neg()?),
        BinaryOp::Pow => {
            // d/da a^b = b a^(b-1) = b y / a; d/db a^b = y ln a.
            let ga = dy.mul(&b.mul(&a.pow(&b.affine(1.0, -1.0)?)?)?)?;
            let gb = dy.mul(&y.mul(&a.log()?)?)?;
            (ga, gb)
        }
        BinaryOp::Maximum | BinaryOp::Minimum => {
            // Ties send the gradient to `a`, as TensorFlow does.
            let b_wins = if op == BinaryOp::Maximum { b.greater(a)? } else { a.greater(b)? };
            let a_mask = b_wins.affine(-1.0, 1.0)?;
            (dy.mul(&a_mask)?, dy.mul(&b_wins)?)
        }
        BinaryOp::Greater | BinaryOp::Equal => return Ok((None, None)),
    };
    Ok((Some(unbroadcast(&ga, a.shape())?), Some(unbroadcast(&gb, b.shape())?)))
}
