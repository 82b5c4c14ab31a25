//! Reductions (sum, mean, max, min, argmax) and softmax / log-softmax.

pub(crate) mod spec;
pub use spec::ReduceOp;

use super::{on_device, require_float, CpuFloat};
use crate::error::Result;
use crate::gpu::kernels::reduce as gpu;
use crate::reference::reduce as reference;
use crate::shape::{normalize_axes, normalize_axis, numel};
use crate::tensor::{CpuData, Tensor};
use crate::ensure;


/// The tensor as [outer, len, inner] around the reduced axes; non-adjacent axes are
/// first transposed to the end so the reduced block is contiguous.
fn as_three_axes(x: &Tensor, axes: &[usize]) -> Result<(Tensor, usize, usize, usize)> {
    let shape = x.shape();
    let adjacent = axes.windows(2).all(|w| w[1] == w[0] + 1);
    if adjacent {
        let (lo, hi) = (axes[0], axes[axes.len() - 1]);
        return Ok((x.clone(), numel(&shape[..lo]), numel(&shape[lo..=hi]), numel(&shape[hi + 1..])));
    }
    let kept: Vec<usize> = (0..shape.len()).filter(|a| !axes.contains(a)).collect();
    let perm: Vec<usize> = kept.iter().chain(axes.iter()).copied().collect();
    let moved = x.transpose(&perm)?;
    let outer = kept.iter().map(|&a| shape[a]).product();
    let len = axes.iter().map(|&a| shape[a]).product();
    Ok((moved, outer, len, 1))
}

fn reduced_shape(shape: &[usize], axes: &[usize], keepdims: bool) -> Vec<usize> {
    (0..shape.len())
        .filter_map(|a| match (axes.contains(&a), keepdims) {
            (false, _) => Some(shape[a]),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

/// Reduce over `axes` (empty = all axes), as `keras.ops.sum/mean/max/min`.
pub fn reduce(x: &Tensor, axes: &[isize], keepdims: bool, op: ReduceOp) -> Result<Tensor> {
    let name = op.name();
    require_float(name, x)?;
    let axes = normalize_axes(axes, x.rank()).map_err(|e| e.context(name))?;
    let out_shape = reduced_shape(x.shape(), &axes, keepdims);
    if axes.is_empty() {
        return x.reshape(&out_shape.iter().map(|&d| d as isize).collect::<Vec<_>>());
    }
    let (src, outer, len, inner) = as_three_axes(x, &axes)?;
    ensure!(
        len > 0 || op == ReduceOp::Sum,
        "{name}: cannot reduce {} over an empty axis",
        x.describe()
    );
    let device = x.device();
    on_device!(device, src.dtype(), name,
        fast_f32 => Ok(Tensor::from_cpu(&out_shape, f32::wrap(crate::cpu::reduce::reduce(f32::slice(&src, name)?, outer, len, inner, op)))),
        cpu::<F> => {
            let data = F::wrap(reference::reduce(F::slice(&src, name)?, outer, len, inner, op));
            Ok(Tensor::from_cpu(&out_shape, data))
        },
        gpu(ctx) => gpu::reduce(ctx, device, &src, (outer, len, inner), op, &out_shape),
    )
}

/// Index of the maximum along `axis` (first one on ties), as int32.
pub fn argmax(x: &Tensor, axis: isize) -> Result<Tensor> {
    require_float("argmax", x)?;
    let axis = normalize_axis(axis, x.rank()).map_err(|e| e.context("argmax"))?;
    let shape = x.shape();
    ensure!(shape[axis] > 0, "argmax: axis {axis} of {} is empty", x.describe());
    let (outer, len, inner) = (numel(&shape[..axis]), shape[axis], numel(&shape[axis + 1..]));
    let out_shape = reduced_shape(shape, &[axis], false);
    let device = x.device();
    on_device!(device, x.dtype(), "argmax",
        cpu::<F> => {
            let idx = reference::argmax(F::slice(x, "argmax")?, outer, len, inner);
            Ok(Tensor::from_cpu(&out_shape, CpuData::I32(idx)))
        },
        gpu(ctx) => gpu::argmax(ctx, device, x, (outer, len, inner), &out_shape),
    )
}

/// Softmax or log-softmax along `axis`.
pub fn softmax(x: &Tensor, axis: isize, log: bool) -> Result<Tensor> {
    let name = if log { "log_softmax" } else { "softmax" };
    require_float(name, x)?;
    ensure!(x.rank() > 0, "{name}: needs at least one axis, got a scalar");
    let axis = normalize_axis(axis, x.rank()).map_err(|e| e.context(name))?;
    let last = x.rank() - 1;
    if axis != last {
        let mut perm: Vec<usize> = (0..x.rank()).collect();
        perm.swap(axis, last);
        return softmax(&x.transpose(&perm)?, -1, log)?.transpose(&perm);
    }
    let len = x.shape()[last];
    let rows = if len == 0 { 0 } else { x.numel() / len };
    let device = x.device();
    on_device!(device, x.dtype(), name,
        cpu::<F> => {
            let data = F::wrap(reference::softmax_rows(F::slice(x, name)?, len, log));
            Ok(Tensor::from_cpu(x.shape(), data))
        },
        gpu(ctx) => gpu::softmax_rows(ctx, device, x, rows, len, log),
    )
}

impl Tensor {
    /// Sum over `axes` (empty: all), as `keras.ops.sum`.
    pub fn sum(&self, axes: &[isize], keepdims: bool) -> Result<Tensor> {
        reduce(self, axes, keepdims, ReduceOp::Sum)
    }
    /// Mean over `axes` (empty: all), as `keras.ops.mean`.
    pub fn mean(&self, axes: &[isize], keepdims: bool) -> Result<Tensor> {
        reduce(self, axes, keepdims, ReduceOp::Mean)
    }
    /// Maximum over `axes` (empty: all), as `keras.ops.max`.
    pub fn max(&self, axes: &[isize], keepdims: bool) -> Result<Tensor> {
        reduce(self, axes, keepdims, ReduceOp::Max)
    }
    /// Minimum over `axes` (empty: all), as `keras.ops.min`.
    pub fn min(&self, axes: &[isize], keepdims: bool) -> Result<Tensor> {
        reduce(self, axes, keepdims, ReduceOp::Min)
    }
    /// Index of the first maximum along `axis`, as int32 (`keras.ops.argmax`).
    pub fn argmax(&self, axis: isize) -> Result<Tensor> {
        argmax(self, axis)
    }
    /// Softmax along `axis` (`keras.ops.softmax`).
    pub fn softmax(&self, axis: isize) -> Result<Tensor> {
        softmax(self, axis, false)
    }
    /// Log-softmax along `axis` (`keras.ops.log_softmax`).
    pub fn log_softmax(&self, axis: isize) -> Result<Tensor> {
        softmax(self, axis, true)
    }
}

/// Gradient of `reduce(x, axes, keepdims, op)` given its output `y` and `dy`.
pub(crate) fn reduce_backward(
    op: ReduceOp,
    x: &Tensor,
    axes: &[isize],
    y: &Tensor,
    dy: &Tensor,
) -> Result<Tensor> {
    let axes_n = normalize_axes(axes, x.rank())?;
    let kept = reduced_shape(x.shape(), &axes_n, true);
    let kept_i: Vec<isize> = kept.iter().map(|&d| d as isize).collect();
    let dy_kept = dy.reshape(&kept_i)?;
    match op {
        ReduceOp::Sum => dy_kept.broadcast_to(x.shape()),
        ReduceOp::Mean => {
            let count: usize = axes_n.iter().map(|&a| x.shape()[a]).product();
            dy_kept.broadcast_to(x.shape())?.affine(1.0 / count.max(1) as f64, 0.0)
        }
        ReduceOp::Max | ReduceOp::Min => {
            // Split evenly between tied extremes, as TensorFlow does.
            let hit = x.equal(&y.reshape(&kept_i)?)?;
            let ties = hit.sum(&axes_n.iter().map(|&a| a as isize).collect::<Vec<_>>(), true)?;
            hit.mul(&dy_kept.div(&ties)?)
        }
    }
}

/// Gradient of softmax / log-softmax along `axis` given the output `y` and `dy`.
pub(crate) fn softmax_backward(y: &Tensor, dy: &Tensor, axis: isize, log: bool) -> Result<Tensor> {
    if log {
        // y = x - logsumexp(x): dx = dy - softmax(x) * sum(dy)
        dy.sub(&y.exp()?.mul(&dy.sum(&[axis], true)?)?)
    } else {
        // dx = y * (dy - sum(dy * y))
        y.mul(&dy.sub(&dy.mul(y)?.sum(&[axis], true)?)?)
    }
}
