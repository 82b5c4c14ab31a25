//! Reductions on f32 along one axis of an `(outer, len, inner)` view: the reference's
//! order of summation per output (k ascending), but walking rows of `inner` contiguous
//! values, so a per-channel sum over an NHWC tensor (a bias gradient) streams memory
//! once instead of once per channel.

use crate::ops::reduce::spec::ReduceOp;

/// Reduce `x` of shape `(outer, len, inner)` along the middle axis: `(outer, inner)`.
pub fn reduce(x: &[f32], outer: usize, len: usize, inner: usize, op: ReduceOp) -> Vec<f32> {
    let init = match op {
        ReduceOp::Sum | ReduceOp::Mean => 0.0,
        ReduceOp::Max => f32::NEG_INFINITY,
        ReduceOp::Min => f32::INFINITY,
    };
    let mut out = vec![init; outer * inner];
    if inner == 0 {
        return out;
    }
    for (o, acc) in out.chunks_exact_mut(inner).enumerate() {
        for row in x[o * len * inner..(o + 1) * len * inner].chunks_exact(inner) {
            match op {
                ReduceOp::Sum | ReduceOp::Mean => acc.iter_mut().zip(row).for_each(|(a, &v)| *a += v),
                ReduceOp::Max => acc.iter_mut().zip(row).for_each(|(a, &v)| *a = a.max(v)),
                ReduceOp::Min => acc.iter_mut().zip(row).for_each(|(a, &v)| *a = a.min(v)),
            }
        }
        if op == ReduceOp::Mean {
            let n = len as f32;
            acc.iter_mut().for_each(|a| *a /= n);
        }
    }
    out
}
