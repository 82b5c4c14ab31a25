//! Keras's one-batch entry points: `train_on_batch`, `test_on_batch`, `predict_on_batch`.
//! The arrays are the batch: no shuffling, no splitting, no callbacks. They may live on
//! the host or already on the model's device (then nothing is read back but the scalars).

use crate::error::Result;
use crate::nn::model::Model;
use crate::tensor::Tensor;
use crate::{ensure, Device};

impl Model {
    fn whole_batch(&self, what: &str, x: &[Tensor], y: Option<&[Tensor]>) -> Result<Vec<usize>> {
        self.check_arity(what, x, y)?;
        let n = x.first().and_then(|t| t.shape().first().copied()).unwrap_or(0);
        ensure!(n > 0, "{what}: model \"{}\" got an empty batch", self.name());
        Ok((0..n).collect())
    }

    /// One optimization step on `x`, `y` as one batch (Keras `train_on_batch`): the loss
    /// and metrics before the update, loss first, as `fit`'s batch logs name them.
    pub async fn train_on_batch(&self, device: &Device, x: &[Tensor], y: &[Tensor]) -> Result<Vec<(String, f64)>> {
        self.with_compiled(|_| Ok(()))?;
        let rows = self.whole_batch("train_on_batch", x, Some(y))?;
        self.to_device(device)?;
        let xb = super::train::batch_on(x, &rows, device, false).await?;
        let yb = super::train::batch_on(y, &rows, device, true).await?;
        self.train_step(&xb, &yb).await.map_err(|e| e.context(format!("train_on_batch of model \"{}\"", self.name())))
    }

    /// Loss and metrics on `x`, `y` as one batch, without updating anything (Keras
    /// `test_on_batch`), loss first.
    pub async fn test_on_batch(&self, device: &Device, x: &[Tensor], y: &[Tensor]) -> Result<Vec<(String, f64)>> {
        let heads = self.heads()?;
        let rows = self.whole_batch("test_on_batch", x, Some(y))?;
        let device = self.working_device(device)?;
        let xb = super::train::batch_on(x, &rows, &device, false).await?;
        let yb = super::train::batch_on(y, &rows, &device, true).await?;
        self.test_step(&heads, &xb, &yb).await.map_err(|e| e.context(format!("test_on_batch of model \"{}\"", self.name())))
    }

    /// Every output for `x` as one batch (Keras `predict_on_batch`), left on the model's
    /// device: read them back with `to_data` when needed.
    pub async fn predict_on_batch(&self, device: &Device, x: &[Tensor]) -> Result<Vec<Tensor>> {
        let rows = self.whole_batch("predict_on_batch", x, None)?;
        let device = self.working_device(device)?;
        let xb = super::train::batch_on(x, &rows, &device, false).await?;
        self.call(&xb, false)
    }
}
