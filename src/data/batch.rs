//! Batching: rows of a dataset stay in their loaded dtype (uint8 images stay uint8)
//! until a batch is sent to the device. Host arrays are gathered on the host; arrays
//! already on a GPU are sliced there, so training on them reads nothing back.

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::error::Result;
use crate::tensor::{CpuData, Tensor};
use crate::{ensure, Device};

/// The rows `indices` (along axis 0) of a host tensor, as a new host tensor.
pub fn take_rows(t: &Tensor, indices: &[usize]) -> Result<Tensor> {
    ensure!(t.rank() >= 1, "take_rows: needs at least one axis, got {}", t.describe());
    let rows = t.shape()[0];
    let row_len: usize = t.shape()[1..].iter().product();
    if let Some(&bad) = indices.iter().find(|&&i| i >= rows) {
        crate::bail!("take_rows: row {bad} is out of range for {}", t.describe());
    }
    macro_rules! gather {
        ($v:expr, $variant:ident) => {{
            let mut out = Vec::with_capacity(indices.len() * row_len);
            for &i in indices {
                out.extend_from_slice(&$v[i * row_len..(i + 1) * row_len]);
            }
            CpuData::$variant(out)
        }};
    }
    let data = match t.cpu_data()? {
        CpuData::F32(v) => gather!(v, F32),
        CpuData::F64(v) => gather!(v, F64),
        CpuData::I32(v) => gather!(v, I32),
        CpuData::U8(v) => gather!(v, U8),
    };
    let mut shape = t.shape().to_vec();
    shape[0] = indices.len();
    Tensor::from_data(&Device::Cpu, data, &shape)
}

/// The rows `indices` of a tensor on whatever device holds it. On the host, `take_rows`;
/// on a GPU, one slice when the rows run consecutively (an unshuffled batch), otherwise
/// one row gather there: the data never comes back to the host.
pub fn select_rows(t: &Tensor, indices: &[usize]) -> Result<Tensor> {
    if !t.device().is_gpu() {
        return take_rows(t, indices);
    }
    ensure!(t.rank() >= 1, "select_rows: needs at least one axis, got {}", t.describe());
    let rows = t.shape()[0];
    if let Some(&bad) = indices.iter().find(|&&i| i >= rows) {
        crate::bail!("select_rows: row {bad} is out of range for {}", t.describe());
    }
    let consecutive = indices.windows(2).all(|w| w[1] == w[0] + 1);
    if consecutive && indices.len() == rows {
        return Ok(t.clone());
    }
    if consecutive && !indices.is_empty() {
        let mut begin = vec![0; t.rank()];
        let mut size = t.shape().to_vec();
        begin[0] = indices[0];
        size[0] = indices.len();
        return t.slice(&begin, &size);
    }
    crate::ops::copy::gather_rows(t, indices)
}

/// Row order for one epoch: a seeded permutation, or 0..n.
pub fn epoch_order(n: usize, shuffle: bool, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if shuffle {
        order.shuffle(&mut SmallRng::seed_from_u64(seed));
    }
    order
}

/// Consecutive batches of `order`, the last one possibly short.
pub fn batches(order: &[usize], batch_size: usize) -> impl Iterator<Item = &[usize]> {
    order.chunks(batch_size.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_their_dtype_and_order() {
        let t = Tensor::from_u8(&Device::Cpu, (0..12).collect(), &[4, 3]).unwrap();
        let b = take_rows(&t, &[2, 0]).unwrap();
        assert_eq!(b.shape(), &[2, 3]);
        assert_eq!(b.cpu_data().unwrap(), &CpuData::U8(vec![6, 7, 8, 0, 1, 2]));
        assert!(take_rows(&t, &[4]).is_err());
        let a = epoch_order(10, true, 7);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        assert_eq!(a, epoch_order(10, true, 7));
        assert_ne!(a, epoch_order(10, true, 8));
        assert_eq!(batches(&a, 4).map(|b| b.len()).collect::<Vec<_>>(), vec![4, 4, 2]);
    }

    #[test]
    fn host_rows_are_selected_as_take_rows_does() {
        let t = Tensor::from_i32(&Device::Cpu, (0..12).collect(), &[4, 3]).unwrap();
        assert_eq!(select_rows(&t, &[3, 1]).unwrap().cpu_data().unwrap(), &CpuData::I32(vec![9, 10, 11, 3, 4, 5]));
        assert!(select_rows(&t, &[4]).is_err());
    }
}
