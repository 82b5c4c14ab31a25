//! Decoded rows (images of one size) collected in whatever order an archive yields them,
//! then put in dataset order in place, without a second copy of the whole dataset.

use std::collections::HashMap;

use crate::error::Result;
use crate::{bail, ensure};

/// The most bytes one set of decoded rows may take: wasm32 has 4 GiB in all.
#[cfg(target_pointer_width = "32")]
pub(crate) const MAX_BYTES: usize = 3 << 30;
#[cfg(not(target_pointer_width = "32"))]
pub(crate) const MAX_BYTES: usize = 1 << 40;

pub(crate) struct Rows {
    what: String,
    row_len: usize,
    data: Vec<u8>,
    slots: HashMap<String, usize>,
}

fn too_big(what: &str, rows: usize, row_len: usize) -> crate::error::Error {
    crate::error::Error::new(format!(
        "{what}: {rows} images of {row_len} bytes each would take more than {} MiB; use a smaller image size or fewer images",
        MAX_BYTES >> 20
    ))
}

impl Rows {
    /// Room for `rows` rows of `row_len` bytes, checked against [`MAX_BYTES`].
    pub(crate) fn with_capacity(what: &str, row_len: usize, rows: usize) -> Result<Rows> {
        let bytes = row_len
            .checked_mul(rows)
            .filter(|&b| b <= MAX_BYTES)
            .ok_or_else(|| too_big(what, rows, row_len))?;
        Ok(Rows {
            what: what.to_string(),
            row_len,
            data: Vec::with_capacity(bytes),
            slots: HashMap::with_capacity(rows),
        })
    }

    /// Stores `row` under `key`; a key seen before is overwritten.
    pub(crate) fn insert(&mut self, key: &str, row: &[u8]) -> Result<()> {
        ensure!(
            row.len() == self.row_len,
            "{key}: decoded to {} bytes, expected {}",
            row.len(),
            self.row_len
        );
        match self.slots.get(key) {
            Some(&i) => self.data[i * self.row_len..(i + 1) * self.row_len].copy_from_slice(row),
            None => {
                if self.data.len() + self.row_len > MAX_BYTES {
                    return Err(too_big(&self.what, self.slots.len() + 1, self.row_len));
                }
                if self.data.capacity() < self.data.len() + self.row_len {
                    // Grow by a quarter, not double: the peak while growing stays near 2.25x.
                    let more = (self.data.len() / 4)
                        .max(self.row_len * 16)
                        .min(MAX_BYTES - self.data.len());
                    self.data.reserve_exact(more.max(self.row_len));
                }
                self.slots.insert(key.to_string(), self.slots.len());
                self.data.extend_from_slice(row);
            }
        }
        Ok(())
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        self.slots.contains_key(key)
    }

    /// The rows of each group, in the group's order: one buffer per group. Rows in no
    /// group are dropped. Each key may appear once over all groups.
    pub(crate) fn into_groups(self, groups: &[&[String]]) -> Result<Vec<Vec<u8>>> {
        let Rows {
            row_len,
            mut data,
            slots,
            ..
        } = self;
        let m = slots.len();
        let mut used = vec![false; m];
        let mut perm = Vec::with_capacity(m);
        for key in groups.iter().flat_map(|g| g.iter()) {
            let Some(&s) = slots.get(key) else {
                bail!("{key}: was not read")
            };
            ensure!(!used[s], "{key}: listed twice");
            used[s] = true;
            perm.push(s);
        }
        let kept = perm.len();
        perm.extend((0..m).filter(|&s| !used[s]));
        // new row i = old row perm[i], following cycles with one spare row.
        let mut done = vec![false; m];
        let mut spare = vec![0u8; row_len];
        for start in 0..m {
            if done[start] {
                continue;
            }
            done[start] = true;
            if perm[start] == start {
                continue;
            }
            spare.copy_from_slice(&data[start * row_len..(start + 1) * row_len]);
            let mut i = start;
            loop {
                let j = perm[i];
                done[i] = true;
                if j == start {
                    data[i * row_len..(i + 1) * row_len].copy_from_slice(&spare);
                    break;
                }
                data.copy_within(j * row_len..(j + 1) * row_len, i * row_len);
                i = j;
            }
        }
        data.truncate(kept * row_len);
        let mut out = Vec::with_capacity(groups.len());
        for g in groups.iter().skip(1).rev() {
            let start = data.len() - g.len() * row_len;
            out.push(data.split_off(start));
            data.shrink_to_fit();
        }
        data.shrink_to_fit();
        out.push(data);
        out.reverse();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_come_out_in_order() {
        let mut rows = Rows::with_capacity("t", 2, 0).unwrap();
        for (k, v) in [("a", 1u8), ("b", 2), ("c", 3), ("d", 4), ("e", 5)] {
            rows.insert(k, &[v, v]).unwrap();
        }
        rows.insert("b", &[9, 9]).unwrap();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let (g1, g2) = (s(&["e", "c", "b"]), s(&["a"]));
        let out = rows.into_groups(&[&g1, &g2]).unwrap();
        assert_eq!(out, vec![vec![5, 5, 3, 3, 9, 9], vec![1, 1]]);
    }
}
