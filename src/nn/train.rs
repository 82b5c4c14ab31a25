//! compile / fit / evaluate / predict. One training step is recorded on a tape, the
//! gradient of the mean loss taken w.r.t. the trainable weights, and the optimizer's
//! fused update kernels applied; only the scalars shown to the user are read back.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use crate::data::batch::{batches, epoch_order, take_rows};
use crate::error::{Error, Result};
use crate::graph::{Tape, Var};
use crate::nn::losses::{accuracy, Loss};
use crate::nn::model::{Model, Run};
use crate::nn::optimizers::Optimizer;
use crate::tensor::{DType, Tensor};
use crate::{ensure, Device};

/// Loss, metrics and optimizer set by `compile`.
pub struct Compiled {
    pub loss: Loss,
    pub optimizer: Optimizer,
    /// Only "accuracy" is supported (Keras picks its flavour from the loss).
    pub metrics: Vec<String>,
}

/// Per-epoch values, as Keras's History.history.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct History {
    pub history: BTreeMap<String, Vec<f64>>,
    pub epochs_run: usize,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct BatchLogs {
    pub epoch: usize,
    pub epochs: usize,
    pub step: usize,
    pub steps: usize,
    /// Running means over the epoch so far.
    pub logs: BTreeMap<String, f64>,
}

pub type Yield<'a> = Pin<Box<dyn Future<Output = Result<()>> + 'a>>;

/// Hooks the notebook uses for progress bars, live charts and interruption. Returning
/// an Err from a hook stops training (the error is passed on).
pub trait FitObserver {
    fn on_batch_end<'a>(&'a mut self, logs: &'a BatchLogs) -> Yield<'a>;
    fn on_epoch_end<'a>(&'a mut self, epoch: usize, logs: &'a BTreeMap<String, f64>) -> Yield<'a>;
}

/// An observer that does nothing (native code, tests).
pub struct Silent;

impl FitObserver for Silent {
    fn on_batch_end<'a>(&'a mut self, _: &'a BatchLogs) -> Yield<'a> {
        Box::pin(async { Ok(()) })
    }
    fn on_epoch_end<'a>(&'a mut self, _: usize, _: &'a BTreeMap<String, f64>) -> Yield<'a> {
        Box::pin(async { Ok(()) })
    }
}

#[derive(Clone, Debug)]
pub struct EarlyStopping {
    pub monitor: String,
    pub patience: usize,
    pub min_delta: f64,
    pub restore_best_weights: bool,
}

#[derive(Clone, Debug)]
pub struct ModelCheckpoint {
    pub monitor: String,
    pub save_best_only: bool,
}

#[derive(Clone, Debug)]
pub enum Callback {
    EarlyStopping(EarlyStopping),
    ModelCheckpoint(ModelCheckpoint),
}

pub struct FitOptions {
    pub epochs: usize,
    pub batch_size: usize,
    pub validation_data: Option<(Tensor, Tensor)>,
    pub shuffle: bool,
    pub seed: u64,
    pub callbacks: Vec<Callback>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions { epochs: 1, batch_size: 32, validation_data: None, shuffle: true, seed: 0, callbacks: vec![] }
    }
}

/// Keras's "lower is better" unless the metric is an accuracy.
fn improves(monitor: &str, value: f64, best: f64, min_delta: f64) -> bool {
    if monitor.contains("acc") {
        value > best + min_delta
    } else {
        value < best - min_delta
    }
}

/// Running sums weighted by batch size, as Keras averages over samples.
#[derive(Default)]
struct Means {
    sums: BTreeMap<String, f64>,
    count: usize,
}

impl Means {
    fn add(&mut self, values: &[(&str, f64)], n: usize) {
        for (k, v) in values {
            *self.sums.entry(k.to_string()).or_insert(0.0) += v * n as f64;
        }
        self.count += n;
    }

    fn get(&self) -> BTreeMap<String, f64> {
        self.sums.iter().map(|(k, v)| (k.clone(), v / self.count.max(1) as f64)).collect()
    }
}

/// A batch on the device: inputs as float32 (uint8 images converted there), labels as
/// given (int labels become int32).
fn to_device(t: &Tensor, device: &Device, labels: bool) -> Result<Tensor> {
    let on = Tensor::from_data(device, t.cpu_data()?.clone(), t.shape())?;
    match (on.dtype(), labels) {
        (DType::U8, false) | (DType::I32, false) => on.cast(DType::F32),
        (DType::U8, true) => on.cast(DType::F32)?.cast(DType::I32),
        _ => Ok(on),
    }
}

impl Model {
    /// `model.compile(optimizer, loss, metrics)`.
    pub fn compile(&self, optimizer: Optimizer, loss: Loss, metrics: &[&str]) -> Result<()> {
        for m in metrics {
            ensure!(*m == "accuracy" || *m == "acc", "compile: unsupported metric '{m}' (use \"accuracy\")");
        }
        ensure!(self.outputs().len() == 1, "compile: models with several outputs are not supported yet");
        *self.compiled().borrow_mut() =
            Some(Compiled { loss, optimizer, metrics: metrics.iter().map(|m| m.to_string()).collect() });
        Ok(())
    }

    fn with_compiled<R>(&self, f: impl FnOnce(&mut Compiled) -> Result<R>) -> Result<R> {
        let mut c = self.compiled().borrow_mut();
        match c.as_mut() {
            Some(c) => f(c),
            None => Err(Error::new(format!(
                "model \"{}\" must be compiled before training or evaluation: call model.compile(...) first",
                self.name()
            ))),
        }
    }

    /// One optimization step on a batch already on the device; returns (loss, accuracy?).
    pub async fn train_step(&self, x: &Tensor, y: &Tensor) -> Result<(f64, Option<f64>)> {
        let (loss_kind, want_acc) = self.with_compiled(|c| Ok((c.loss, !c.metrics.is_empty())))?;
        let tape = Tape::new();
        let mut run = Run::new(Some(tape.clone()), true);
        let out = self.run(&[Var::constant(x)], &mut run)?;
        let loss = loss_kind.apply(&out[0], y)?;
        let weights = self.trainable_weights();
        let vars: Vec<Var> = weights
            .iter()
            .map(|w| run.var_of(w).cloned().unwrap_or_else(|| Var::constant(&w.value())))
            .collect();
        let grads = tape.gradient(&loss, &vars.iter().collect::<Vec<_>>(), None)?;
        self.with_compiled(|c| c.optimizer.apply(&weights, &grads))?;
        run.apply_updates()?;
        let acc = if want_acc { Some(accuracy(loss_kind.accuracy(), out[0].value(), y)?) } else { None };
        let loss_value = loss.value().item().await?;
        let acc_value = match acc {
            Some(a) => Some(a.item().await?),
            None => None,
        };
        ensure!(loss_value.is_finite(), "training diverged: the loss became {loss_value}");
        Ok((loss_value, acc_value))
    }

    fn device_of_weights(&self, fallback: &Device) -> Device {
        self.weights().first().map(|w| w.value().device().clone()).unwrap_or_else(|| fallback.clone())
    }

    /// `model.fit(x, y, ...)` on host data (the batches move to `device`).
    pub async fn fit(
        &self,
        device: &Device,
        x: &Tensor,
        y: &Tensor,
        opts: &FitOptions,
        observer: &mut dyn FitObserver,
    ) -> Result<History> {
        ensure!(
            x.shape().first() == y.shape().first(),
            "fit: x has {} samples but y has {}",
            x.shape().first().copied().unwrap_or(0),
            y.shape().first().copied().unwrap_or(0)
        );
        ensure!(opts.batch_size > 0 && opts.epochs > 0, "fit: epochs and batch_size must be positive");
        self.with_compiled(|_| Ok(()))?;
        self.to_device(device)?;
        let n = x.shape()[0];
        let steps = n.div_ceil(opts.batch_size);
        let mut history = History::default();
        let mut best: BTreeMap<String, f64> = BTreeMap::new();
        let mut waits: Vec<usize> = vec![0; opts.callbacks.len()];
        let mut best_weights: Option<Vec<Tensor>> = None;
        for epoch in 0..opts.epochs {
            let order = epoch_order(n, opts.shuffle, opts.seed.wrapping_add(epoch as u64));
            let mut means = Means::default();
            for (step, rows) in batches(&order, opts.batch_size).enumerate() {
                let xb = to_device(&take_rows(x, rows)?, device, false)?;
                let yb = to_device(&take_rows(y, rows)?, device, true)?;
                let (loss, acc) = self.train_step(&xb, &yb).await?;
                let mut vals = vec![("loss", loss)];
                if let Some(a) = acc {
                    vals.push(("accuracy", a));
                }
                means.add(&vals, rows.len());
                let logs = BatchLogs { epoch, epochs: opts.epochs, step: step + 1, steps, logs: means.get() };
                observer.on_batch_end(&logs).await?;
            }
            let mut logs = means.get();
            if let Some((xv, yv)) = &opts.validation_data {
                for (k, v) in self.evaluate(device, xv, yv, opts.batch_size).await? {
                    logs.insert(format!("val_{k}"), v);
                }
            }
            for (k, v) in &logs {
                history.history.entry(k.clone()).or_default().push(*v);
            }
            history.epochs_run = epoch + 1;
            observer.on_epoch_end(epoch, &logs).await?;
            let mut stop = false;
            for (i, cb) in opts.callbacks.iter().enumerate() {
                let (monitor, min_delta) = match cb {
                    Callback::EarlyStopping(e) => (&e.monitor, e.min_delta),
                    Callback::ModelCheckpoint(m) => (&m.monitor, 0.0),
                };
                let value = *logs.get(monitor).ok_or_else(|| {
                    Error::new(format!(
                        "callback monitors '{monitor}', which is not among the logs ({})",
                        logs.keys().cloned().collect::<Vec<_>>().join(", ")
                    ))
                })?;
                let key = format!("{i}:{monitor}");
                let better = best.get(&key).is_none_or(|&b| improves(monitor, value, b, min_delta));
                if better {
                    best.insert(key, value);
                    waits[i] = 0;
                } else {
                    waits[i] += 1;
                }
                match cb {
                    Callback::EarlyStopping(e) => {
                        if better && e.restore_best_weights {
                            best_weights = Some(self.weights().iter().map(|w| w.value()).collect());
                        }
                        if waits[i] > e.patience {
                            stop = true;
                        }
                    }
                    Callback::ModelCheckpoint(m) => {
                        if better || !m.save_best_only {
                            self.set_checkpoint(self.weights().iter().map(|w| w.value()).collect());
                        }
                    }
                }
            }
            if stop {
                if let Some(ws) = best_weights.take() {
                    for (w, v) in self.weights().iter().zip(ws) {
                        w.set(v)?;
                    }
                }
                break;
            }
        }
        Ok(history)
    }

    /// Mean loss (and accuracy) over host data, batch by batch.
    pub async fn evaluate(&self, device: &Device, x: &Tensor, y: &Tensor, batch_size: usize) -> Result<BTreeMap<String, f64>> {
        let (loss_kind, want_acc) = self.with_compiled(|c| Ok((c.loss, !c.metrics.is_empty())))?;
        ensure!(x.shape().first() == y.shape().first(), "evaluate: x and y have different numbers of samples");
        let device = self.device_of_weights(device);
        let order: Vec<usize> = (0..x.shape()[0]).collect();
        let mut means = Means::default();
        for rows in batches(&order, batch_size) {
            let xb = to_device(&take_rows(x, rows)?, &device, false)?;
            let yb = to_device(&take_rows(y, rows)?, &device, true)?;
            let pred = self.call(&[xb], false)?.remove(0);
            let mut vals = vec![("loss", loss_kind.value(&pred, &yb)?.item().await?)];
            if want_acc {
                vals.push(("accuracy", accuracy(loss_kind.accuracy(), &pred, &yb)?.item().await?));
            }
            means.add(&vals, rows.len());
        }
        Ok(means.get())
    }

    /// Outputs for host data, batch by batch, gathered back on the host.
    pub async fn predict(&self, device: &Device, x: &Tensor, batch_size: usize) -> Result<Tensor> {
        self.predict_in_mode(device, x, batch_size, false).await
    }

    /// `predict`, or with `training` the forward pass `fit` runs (Keras `model(x,
    /// training=True)`): augmentation layers transform, dropout drops, and batch
    /// normalization uses and updates the batch statistics.
    pub async fn predict_in_mode(&self, device: &Device, x: &Tensor, batch_size: usize, training: bool) -> Result<Tensor> {
        let device = self.device_of_weights(device);
        let order: Vec<usize> = (0..x.shape()[0]).collect();
        let mut parts = Vec::new();
        for rows in batches(&order, batch_size) {
            let xb = to_device(&take_rows(x, rows)?, &device, false)?;
            let pred = self.call(&[xb], training)?.remove(0);
            parts.push(pred.to_device(&Device::Cpu).await?);
        }
        ensure!(!parts.is_empty(), "predict: no samples");
        crate::ops::copy::concat(&parts.iter().collect::<Vec<_>>(), 0)
    }
}
