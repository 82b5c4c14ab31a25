//! Reductions over the middle axis of an [outer, len, inner] view, argmax, row softmax.

use super::{c, Real};
use crate::ops::reduce::spec::ReduceOp;

pub fn reduce<F: Real>(x: &[F], outer: usize, len: usize, inner: usize, op: ReduceOp) -> Vec<F> {
    let mut out = Vec::with_capacity(outer * inner);
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| x[(o * len + k) * inner + i];
            let v = match op {
                ReduceOp::Sum => (0..len).fold(F::zero(), |s, k| s + at(k)),
                ReduceOp::Mean => (0..len).fold(F::zero(), |s, k| s + at(k)) / c(len as f64),
                ReduceOp::Max => (0..len).fold(F::neg_infinity(), |s, k| s.max(at(k))),
                ReduceOp::Min => (0..len).fold(F::infinity(), |s, k| s.min(at(k))),
            };
            out.push(v);
        }
    }
    out
}

/// Index of the first maximum along the axis.
pub fn argmax<F: Real>(x: &[F], outer: usize, len: usize, inner: usize) -> Vec<i32> {
    let mut out = Vec::with_capacity(outer * inner);
    for o in 0..outer {
        for i in 0..inner {
            let mut best = 0;
            for k in 1..len {
                if x[(o * len + k) * inner + i] > x[(o * len + best) * inner + i] {
                    best = k;
                }
            }
            out.push(best as i32);
        }
    }
    out
}

/// Softmax (or log-softmax) of each contiguous row of length `len`.
pub fn softmax_rows<F: Real>(x: &[F], len: usize, log: bool) -> Vec<F> {
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks(len.max(1)) {
        let m = row.iter().fold(F::neg_infinity(), |a, &b| a.max(b));
        let sum = row.iter().fold(F::zero(), |s, &v| s + (v - m).exp());
        for &v in row {
            out.push(if log { v - m - sum.ln() } else { (v - m).exp() / sum });
        }
    }
    out
}
