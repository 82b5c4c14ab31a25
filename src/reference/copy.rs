//! Strided gather (transpose, slice, pad, broadcast) and scatter (concat), for any
//! element type.

use crate::ops::copy::spec::GatherSpec;


pub fn gather<T: Copy>(src: &[T], s: &GatherSpec, pad_value: T) -> Vec<T> {
    let n: usize = s.out_dims.iter().product();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut rest = i;
        let mut offset = s.base;
        let mut inside = true;
        for d in (0..s.out_dims.len()).rev() {
            let coord = (rest % s.out_dims[d]) as i64 - s.pad_lo[d];
            rest /= s.out_dims[d];
            if coord < 0 || coord as usize >= s.src_dims[d] {
                inside = false;
            } else {
                offset += coord as usize * s.src_strides[d];
            }
        }
        out.push(if inside { src[offset] } else { pad_value });
    }
    out
}

/// Write contiguous `src` (shape `src_dims`) into `dst` at `base + Σ c_d · dst_strides_d`.
pub fn scatter<T: Copy>(src: &[T], src_dims: &[usize], dst: &mut [T], dst_strides: &[usize], base: usize) {
    for (i, &v) in src.iter().enumerate() {
        let mut rest = i;
        let mut offset = base;
        for d in (0..src_dims.len()).rev() {
            offset += (rest % src_dims[d]) * dst_strides[d];
            rest /= src_dims[d];
        }
        dst[offset] = v;
    }
}

/// Rows `rows` of `src`, a row-major array of rows `row_len` long (in range: the caller checks).
pub fn gather_rows<T: Copy>(src: &[T], row_len: usize, rows: &[usize]) -> Vec<T> {
    let mut out = Vec::with_capacity(rows.len() * row_len);
    for &r in rows {
        out.extend_from_slice(&src[r * row_len..(r + 1) * row_len]);
    }
    out
}
