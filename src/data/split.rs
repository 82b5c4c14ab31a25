//! Seeded train / validation / test splits of (images, labels) on the host. Rows keep
//! their dtype (uint8 stays uint8); only the row order changes.

use crate::data::batch::take_rows;
use crate::data::rng::numpy_permutation;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::{bail, ensure};

/// Inputs and their targets, row for row: `x` and `y` of `fit`.
#[derive(Debug, Clone)]
pub struct Labeled {
    /// Inputs, one row per example.
    pub images: Tensor,
    /// Targets, one row per example.
    pub labels: Tensor,
}

impl Labeled {
    /// Checks that both have the same number of rows.
    pub fn new(images: Tensor, labels: Tensor) -> Result<Labeled> {
        rows_of(&images, &labels)?;
        Ok(Labeled { images, labels })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.images.shape().first().copied().unwrap_or(0)
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows `indices`, in that order.
    pub fn take(&self, indices: &[usize]) -> Result<Labeled> {
        Ok(Labeled {
            images: take_rows(&self.images, indices)?,
            labels: take_rows(&self.labels, indices)?,
        })
    }
}

/// How many rows a split gets: a count, or a fraction of all rows (rounded down, as
/// Keras's `validation_split` does).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SplitSize {
    /// This many rows.
    Count(usize),
    /// This fraction of the rows, rounded down.
    Fraction(f64),
}

impl SplitSize {
    /// The row count out of `total`; `what` labels errors.
    pub fn rows(self, total: usize, what: &str) -> Result<usize> {
        match self {
            SplitSize::Count(n) => {
                ensure!(n <= total, "{what}: asks for {n} rows but there are only {total}");
                Ok(n)
            }
            SplitSize::Fraction(f) => {
                ensure!(
                    f.is_finite() && (0.0..=1.0).contains(&f),
                    "{what}: fraction must be in [0, 1], got {f}"
                );
                Ok((f * total as f64).floor() as usize)
            }
        }
    }
}

fn rows_of(images: &Tensor, labels: &Tensor) -> Result<usize> {
    ensure!(
        images.rank() >= 1 && labels.rank() >= 1,
        "split: images and labels need a row axis, got {} and {}",
        images.describe(),
        labels.describe()
    );
    let n = images.shape()[0];
    ensure!(
        labels.shape()[0] == n,
        "split: {} images but {} labels (images {}, labels {})",
        n,
        labels.shape()[0],
        images.describe(),
        labels.describe()
    );
    Ok(n)
}

/// The row order used by the splits: `np.random.RandomState(seed).permutation(n)` when
/// shuffling, else `0..n`.
pub(crate) fn split_order(n: usize, shuffle: bool, seed: u64) -> Result<Vec<usize>> {
    if !shuffle {
        return Ok((0..n).collect());
    }
    let Ok(seed32) = u32::try_from(seed) else {
        bail!("split: seed must be between 0 and 2**32 - 1 (as in NumPy), got {seed}");
    };
    Ok(numpy_permutation(n, seed32))
}

/// Train / validation / test: rows are (optionally) shuffled with `seed`, then the test
/// rows are the last `test`, the validation rows the `validation` before them, and the
/// training rows everything else.
pub fn train_val_test_split(
    data: &Labeled,
    validation: SplitSize,
    test: SplitSize,
    shuffle: bool,
    seed: u64,
) -> Result<(Labeled, Labeled, Labeled)> {
    let n = rows_of(&data.images, &data.labels)?;
    let n_val = validation.rows(n, "validation split")?;
    let n_test = test.rows(n, "test split")?;
    ensure!(
        n_val + n_test <= n,
        "split: validation ({n_val}) and test ({n_test}) rows exceed the {n} rows there are"
    );
    let order = split_order(n, shuffle, seed)?;
    let n_train = n - n_val - n_test;
    Ok((
        data.take(&order[..n_train])?,
        data.take(&order[n_train..n_train + n_val])?,
        data.take(&order[n_train + n_val..])?,
    ))
}

/// Train / validation, as `train_val_test_split` without a test split.
pub fn train_val_split(data: &Labeled, validation: SplitSize, shuffle: bool, seed: u64) -> Result<(Labeled, Labeled)> {
    let (train, val, _) = train_val_test_split(data, validation, SplitSize::Count(0), shuffle, seed)?;
    Ok((train, val))
}

/// `x[:-n], x[-n:]` without shuffling: the book's "last 1000 for validation".
pub fn split_off_last(data: &Labeled, n: usize) -> Result<(Labeled, Labeled)> {
    let total = rows_of(&data.images, &data.labels)?;
    ensure!(n <= total, "split: cannot take the last {n} rows of {total}");
    let order: Vec<usize> = (0..total).collect();
    Ok((data.take(&order[..total - n])?, data.take(&order[total - n..])?))
}
