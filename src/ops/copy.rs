//! Data movement: transpose, slice, pad, broadcast_to, concat, gather_rows. Reshape is a view
//! (Tensor::reshape) and never copies.

pub(crate) mod spec;
pub use spec::GatherSpec;

use super::{common_device, on_device};
use crate::device::Device;
use crate::error::Result;
use crate::gpu::kernels::copy as gpu;
use crate::reference::copy as reference;
use crate::shape::{broadcast_strides, check_rank, fmt_shape, normalize_axis, numel, strides};
use crate::tensor::{CpuData, DType, Tensor};
use crate::{bail, ensure};

fn gather(x: &Tensor, spec: &GatherSpec, pad_value: f64, op: &str) -> Result<Tensor> {
    check_rank(&spec.out_dims, op)?;
    let device = x.device();
    on_device!(device,
        cpu => {
            let data = match x.cpu_data()? {
                CpuData::F32(v) => CpuData::F32(reference::gather(v, spec, pad_value as f32)),
                CpuData::F64(v) => CpuData::F64(reference::gather(v, spec, pad_value)),
                CpuData::I32(v) => CpuData::I32(reference::gather(v, spec, pad_value as i32)),
                CpuData::U8(v) => CpuData::U8(reference::gather(v, spec, pad_value as u8)),
            };
            Ok(Tensor::from_cpu(&spec.out_dims, data))
        },
        gpu(ctx) => {
            if x.dtype() == DType::U8 {
                // Bytes are packed four to a word on the GPU: move them as float32 (exact for
                // 0..255) and pack them again.
                gather(&x.cast(DType::F32)?, spec, pad_value, op)?.cast(DType::U8)
            } else {
                gpu::gather(ctx, device, x, spec, pad_value, op)
            }
        },
    )
}

/// Permute axes: output axis i is input axis `perm[i]`.
pub fn transpose(x: &Tensor, perm: &[usize]) -> Result<Tensor> {
    let rank = x.rank();
    let mut seen = vec![false; rank];
    ensure!(
        perm.len() == rank && perm.iter().all(|&p| p < rank && !std::mem::replace(&mut seen[p], true)),
        "transpose: {:?} is not a permutation of the axes of {}",
        perm,
        x.describe()
    );
    if perm.iter().enumerate().all(|(i, &p)| i == p) {
        return Ok(x.clone());
    }
    let own = strides(x.shape());
    let out_dims: Vec<usize> = perm.iter().map(|&p| x.shape()[p]).collect();
    let spec = GatherSpec {
        src_dims: out_dims.clone(),
        src_strides: perm.iter().map(|&p| own[p]).collect(),
        pad_lo: vec![0; rank],
        base: 0,
        out_dims,
    };
    gather(x, &spec, 0.0, "transpose")
}

/// The block starting at `begin` with extent `size` (Keras `ops.slice`).
pub fn slice(x: &Tensor, begin: &[usize], size: &[usize]) -> Result<Tensor> {
    let shape = x.shape();
    ensure!(
        begin.len() == shape.len()
            && size.len() == shape.len()
            && (0..shape.len()).all(|d| begin[d] + size[d] <= shape[d]),
        "slice: begin {:?} and size {:?} do not fit inside {}",
        begin,
        size,
        x.describe()
    );
    let own = strides(shape);
    let spec = GatherSpec {
        out_dims: size.to_vec(),
        src_dims: size.to_vec(),
        src_strides: own.clone(),
        pad_lo: vec![0; shape.len()],
        base: (0..shape.len()).map(|d| begin[d] * own[d]).sum(),
    };
    gather(x, &spec, 0.0, "slice")
}

/// Pad each axis by (before, after) with a constant.
pub fn pad(x: &Tensor, pads: &[(usize, usize)], value: f64) -> Result<Tensor> {
    let shape = x.shape();
    ensure!(
        pads.len() == shape.len(),
        "pad: {} (before, after) pairs given for {}",
        pads.len(),
        x.describe()
    );
    let spec = GatherSpec {
        out_dims: (0..shape.len()).map(|d| shape[d] + pads[d].0 + pads[d].1).collect(),
        src_dims: shape.to_vec(),
        src_strides: strides(shape),
        pad_lo: pads.iter().map(|p| p.0 as i64).collect(),
        base: 0,
    };
    gather(x, &spec, value, "pad")
}

/// Repeat size-1 axes (and add leading axes) to reach `shape`.
pub fn broadcast_to(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    let ok = shape.len() >= x.rank()
        && x.shape().iter().rev().zip(shape.iter().rev()).all(|(&s, &t)| s == t || s == 1);
    ensure!(ok, "broadcast_to: cannot broadcast {} to {}", x.describe(), fmt_shape(shape));
    let spec = GatherSpec {
        out_dims: shape.to_vec(),
        src_dims: shape.to_vec(),
        src_strides: broadcast_strides(x.shape(), shape),
        pad_lo: vec![0; shape.len()],
        base: 0,
    };
    gather(x, &spec, 0.0, "broadcast_to")
}

/// Join tensors along `axis`; all other axes must agree.
pub fn concat(xs: &[&Tensor], axis: isize) -> Result<Tensor> {
    ensure!(!xs.is_empty(), "concatenate: needs at least one tensor");
    let device: &Device = common_device("concatenate", xs)?;
    let first = xs[0];
    let axis = normalize_axis(axis, first.rank()).map_err(|e| e.context("concatenate"))?;
    for t in xs {
        let same_rest = t.rank() == first.rank()
            && t.dtype() == first.dtype()
            && (0..t.rank()).all(|d| d == axis || t.shape()[d] == first.shape()[d]);
        ensure!(
            same_rest,
            "concatenate: {} and {} differ outside axis {axis}",
            first.describe(),
            t.describe()
        );
    }
    let mut out_shape = first.shape().to_vec();
    out_shape[axis] = xs.iter().map(|t| t.shape()[axis]).sum();
    check_rank(&out_shape, "concatenate")?;
    let out_strides = strides(&out_shape);
    let offsets: Vec<usize> = xs
        .iter()
        .scan(0, |acc, t| {
            let at = *acc;
            *acc += t.shape()[axis];
            Some(at * out_strides[axis])
        })
        .collect();
    let n = numel(&out_shape);
    on_device!(device,
        cpu => {
            macro_rules! join {
                ($variant:ident, $zero:expr) => {{
                    let mut out = vec![$zero; n];
                    for (t, &base) in xs.iter().zip(&offsets) {
                        match t.cpu_data()? {
                            CpuData::$variant(v) => reference::scatter(v, t.shape(), &mut out, &out_strides, base),
                            _ => bail!("concatenate: mixed dtypes"),
                        }
                    }
                    CpuData::$variant(out)
                }};
            }
            let data = match first.dtype() {
                DType::F32 => join!(F32, 0f32),
                DType::F64 => join!(F64, 0f64),
                DType::I32 => join!(I32, 0i32),
                DType::U8 => join!(U8, 0u8),
            };
            Ok(Tensor::from_cpu(&out_shape, data))
        },
        gpu(ctx) => {
            if first.dtype() == DType::U8 {
                // As in `gather`: through float32, then packed again.
                let floats = xs.iter().map(|t| t.cast(DType::F32)).collect::<Result<Vec<_>>>()?;
                concat(&floats.iter().collect::<Vec<_>>(), axis as isize)?.cast(DType::U8)
            } else {
                gpu::concat(ctx, device, xs, &offsets, &out_strides, &out_shape)
            }
        },
    )
}

impl Tensor {
    /// Axes permuted: output axis i is input axis `perm[i]` (`keras.ops.transpose`).
    pub fn transpose(&self, perm: &[usize]) -> Result<Tensor> {
        transpose(self, perm)
    }
    /// The block of `size` starting at `begin` (`keras.ops.slice`).
    pub fn slice(&self, begin: &[usize], size: &[usize]) -> Result<Tensor> {
        slice(self, begin, size)
    }
    /// Padded with `value`: `pads[i]` = (before, after) along axis i (`keras.ops.pad`).
    pub fn pad(&self, pads: &[(usize, usize)], value: f64) -> Result<Tensor> {
        pad(self, pads, value)
    }
    /// Broadcast to `shape` as NumPy does (`keras.ops.broadcast_to`).
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Tensor> {
        broadcast_to(self, shape)
    }
}

/// Rows `rows` of `x` (along axis 0, in that order, repeats allowed), on `x`'s device:
/// shuffled batches of data that already lives on a GPU are cut there, in one dispatch.
pub fn gather_rows(x: &Tensor, rows: &[usize]) -> Result<Tensor> {
    ensure!(x.rank() >= 1, "gather_rows: needs at least one axis, got {}", x.describe());
    let count = x.shape()[0];
    if let Some(&bad) = rows.iter().find(|&&r| r >= count) {
        bail!("gather_rows: row {bad} is out of range for {}", x.describe());
    }
    let row_len: usize = x.shape()[1..].iter().product();
    let mut out_shape = x.shape().to_vec();
    out_shape[0] = rows.len();
    let device = x.device();
    on_device!(device,
        cpu => {
            let data = match x.cpu_data()? {
                CpuData::F32(v) => CpuData::F32(reference::gather_rows(v, row_len, rows)),
                CpuData::F64(v) => CpuData::F64(reference::gather_rows(v, row_len, rows)),
                CpuData::I32(v) => CpuData::I32(reference::gather_rows(v, row_len, rows)),
                CpuData::U8(v) => CpuData::U8(reference::gather_rows(v, row_len, rows)),
            };
            Ok(Tensor::from_cpu(&out_shape, data))
        },
        gpu(ctx) => {
            // uint8 is packed four to a word on the GPU: rows move as words when they are
            // whole words (images of 28×28 are); otherwise a slice per run of rows.
            let row_words = match x.dtype().size() {
                4 => row_len,
                1 if row_len % 4 == 0 => row_len / 4,
                _ => return gather_row_runs(x, rows),
            };
            ensure!(count <= i32::MAX as usize, "gather_rows: {} has too many rows to index", x.describe());
            let numbers: Vec<i32> = rows.iter().map(|&r| r as i32).collect();
            let index = Tensor::from_i32(device, numbers, &[rows.len()])?;
            gpu::gather_rows(ctx, device, x, &index, row_words, &out_shape)
        },
    )
}

/// `gather_rows` for uint8 rows that are not whole words: one slice per run of
/// consecutive rows, joined.
fn gather_row_runs(x: &Tensor, rows: &[usize]) -> Result<Tensor> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &r in rows {
        match runs.last_mut() {
            Some((start, len)) if *start + *len == r => *len += 1,
            _ => runs.push((r, 1)),
        }
    }
    let mut size = x.shape().to_vec();
    let mut begin = vec![0; x.rank()];
    let parts = runs
        .iter()
        .map(|&(start, len)| {
            begin[0] = start;
            size[0] = len;
            x.slice(&begin, &size)
        })
        .collect::<Result<Vec<_>>>()?;
    match parts.len() {
        0 => {
            size[0] = 0;
            x.slice(&begin, &size)
        }
        1 => Ok(parts.into_iter().next().expect("one part")),
        _ => concat(&parts.iter().collect::<Vec<_>>(), 0),
    }
}
