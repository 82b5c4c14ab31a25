//! Shape arithmetic shared by ops: element counts, strides, broadcasting, axis normalisation.

use crate::error::Result;
use crate::{bail, ensure};

/// Highest rank the GPU kernels accept; shapes travel to shaders in fixed-size uniforms.
pub const MAX_RANK: usize = 8;

pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Row-major (C order) strides in elements.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

pub fn fmt_shape(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("({})", parts.join(", "))
}

/// NumPy broadcasting of two shapes.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i + a.len() >= rank { a[i + a.len() - rank] } else { 1 };
        let db = if i + b.len() >= rank { b[i + b.len() - rank] } else { 1 };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => bail!(
                "shapes {} and {} cannot be broadcast together",
                fmt_shape(a),
                fmt_shape(b)
            ),
        };
    }
    Ok(out)
}

/// Strides that read `shape` as if it had `out_shape` (0 on broadcast axes).
pub fn broadcast_strides(shape: &[usize], out_shape: &[usize]) -> Vec<usize> {
    let own = strides(shape);
    let offset = out_shape.len() - shape.len();
    (0..out_shape.len())
        .map(|i| {
            if i < offset || shape[i - offset] == 1 {
                0
            } else {
                own[i - offset]
            }
        })
        .collect()
}

/// Resolve a possibly negative axis against `rank`.
pub fn normalize_axis(axis: isize, rank: usize) -> Result<usize> {
    let r = rank as isize;
    ensure!(
        axis >= -r && axis < r.max(1),
        "axis {axis} is out of range for a tensor of rank {rank}"
    );
    Ok(if axis < 0 { (axis + r) as usize } else { axis as usize })
}

/// Sorted, de-duplicated axes; an empty list means every axis.
pub fn normalize_axes(axes: &[isize], rank: usize) -> Result<Vec<usize>> {
    if axes.is_empty() {
        return Ok((0..rank).collect());
    }
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let a = normalize_axis(a, rank)?;
        ensure!(!out.contains(&a), "axis {a} is repeated");
        out.push(a);
    }
    out.sort_unstable();
    Ok(out)
}

pub fn check_rank(shape: &[usize], what: &str) -> Result<()> {
    ensure!(
        shape.len() <= MAX_RANK,
        "{what}: rank {} exceeds the supported maximum of {MAX_RANK} (shape {})",
        shape.len(),
        fmt_shape(shape)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shapes(&[2, 1, 3], &[4, 1]).unwrap(), vec![2, 4, 3]);
        assert_eq!(broadcast_shapes(&[], &[5]).unwrap(), vec![5]);
        assert!(broadcast_shapes(&[2, 3], &[4]).is_err());
        assert_eq!(broadcast_strides(&[4, 1], &[2, 4, 3]), vec![0, 1, 0]);
    }

    #[test]
    fn axes_normalise() {
        assert_eq!(normalize_axes(&[-1, 0], 3).unwrap(), vec![0, 2]);
        assert!(normalize_axes(&[3], 3).is_err());
        assert!(normalize_axes(&[1, -2], 3).is_err());
        assert_eq!(strides(&[2, 3, 4]), vec![12, 4, 1]);
    }
}
