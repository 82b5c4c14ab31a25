//! fit / evaluate / predict (compile is in compile.rs). One training step is recorded on
//! a tape, the gradient of the total loss taken w.r.t. the trainable weights, and the
//! optimizer's fused update kernels applied; only the scalars shown to the user are read back.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use crate::data::batch::{batches, epoch_order, select_rows};
use crate::error::{Error, Result};
use crate::graph::{Tape, Var};
use crate::nn::model::{Model, Run};
use crate::tensor::{DType, Tensor};
use crate::{ensure, Device};

/// Per-epoch values, as Keras's History.history.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct History {
    /// Metric name ("loss", "val_accuracy", ...) to one value per epoch.
    pub history: BTreeMap<String, Vec<f64>>,
    /// Epochs completed (fewer than asked when EarlyStopping stops).
    pub epochs_run: usize,
}

/// Progress after one training batch, for progress bars.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BatchLogs {
    /// Current epoch, from 0.
    pub epoch: usize,
    /// Epochs asked for.
    pub epochs: usize,
    /// Batches done in this epoch.
    pub step: usize,
    /// Batches per epoch.
    pub steps: usize,
    /// Running means over the epoch so far.
    pub logs: BTreeMap<String, f64>,
}

/// What an observer hook returns: a future the training loop awaits (so the page stays live).
pub type Yield<'a> = Pin<Box<dyn Future<Output = Result<()>> + 'a>>;

/// Hooks the notebook uses for progress bars, live charts and interruption. Returning
/// an Err from a hook stops training (the error is passed on).
pub trait FitObserver {
    /// After each training batch.
    fn on_batch_end<'a>(&'a mut self, logs: &'a BatchLogs) -> Yield<'a>;
    /// After each epoch, with its final logs (validation included).
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

/// `keras.callbacks.EarlyStopping`: stop when `monitor` stops improving.
#[derive(Clone, Debug)]
pub struct EarlyStopping {
    /// The logged metric watched (Keras default "val_loss").
    pub monitor: String,
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// Smallest change that counts as an improvement.
    pub min_delta: f64,
    /// Put back the best epoch's weights when stopping.
    pub restore_best_weights: bool,
}

/// `keras.callbacks.ModelCheckpoint`: keep the weights of the best (or every) epoch.
#[derive(Clone, Debug)]
pub struct ModelCheckpoint {
    /// The logged metric watched (Keras default "val_loss").
    pub monitor: String,
    /// Save only when `monitor` improves.
    pub save_best_only: bool,
    /// Native only: a folder to write the model to (TF.js layers format), "{epoch}" or
    /// "{epoch:02d}" replaced by the epoch number. Without it the weights stay in memory
    /// (`restore_checkpoint`). The notebook saves through its own file space instead.
    pub filepath: Option<String>,
}

/// "{epoch}" / "{epoch:02d}" in a checkpoint path, as Keras formats it.
pub fn checkpoint_path(template: &str, epoch: usize) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{epoch") {
        let Some(len) = rest[start..].find('}') else { break };
        let spec = &rest[start + 6..start + len];
        let width = spec.strip_prefix(":0").or_else(|| spec.strip_prefix(':')).and_then(|w| w.strip_suffix('d')).and_then(|w| w.parse().ok()).unwrap_or(0);
        out.push_str(&rest[..start]);
        out.push_str(&format!("{:0width$}", epoch, width = width));
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// A Keras callback `fit` honours.
#[derive(Clone, Debug)]
pub enum Callback {
    /// Stop early.
    EarlyStopping(EarlyStopping),
    /// Save checkpoints.
    ModelCheckpoint(ModelCheckpoint),
}

/// The arguments of `model.fit` besides x and y, with Keras's defaults.
pub struct FitOptions {
    /// Passes over the data (default 1).
    pub epochs: usize,
    /// Rows per step (default 32).
    pub batch_size: usize,
    /// (x arrays, y arrays), one per model input and output.
    pub validation_data: Option<(Vec<Tensor>, Vec<Tensor>)>,
    /// Shuffle the rows each epoch (default true).
    pub shuffle: bool,
    /// Seed of the shuffle.
    pub seed: u64,
    /// Callbacks, in order.
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
    fn add(&mut self, values: &[(String, f64)], n: usize) {
        for (k, v) in values {
            *self.sums.entry(k.clone()).or_insert(0.0) += v * n as f64;
        }
        self.count += n;
    }

    fn get(&self) -> BTreeMap<String, f64> {
        self.sums.iter().map(|(k, v)| (k.clone(), v / self.count.max(1) as f64)).collect()
    }
}

/// The same rows of every array, each on the device (see `to_device`). Arrays already on
/// the device are sliced there: nothing is read back.
pub(super) async fn batch_on(arrays: &[Tensor], rows: &[usize], device: &Device, labels: bool) -> Result<Vec<Tensor>> {
    let mut out = Vec::with_capacity(arrays.len());
    for a in arrays {
        out.push(to_device(&select_rows(a, rows)?, device, labels).await?);
    }
    Ok(out)
}

/// A batch on the device: inputs as float32 (uint8 images converted there), labels as
/// given (int labels become int32).
async fn to_device(t: &Tensor, device: &Device, labels: bool) -> Result<Tensor> {
    let on = t.to_device(device).await?;
    match (on.dtype(), labels) {
        (DType::U8, false) | (DType::I32, false) => on.cast(DType::F32),
        (DType::U8, true) => on.cast(DType::F32)?.cast(DType::I32),
        _ => Ok(on),
    }
}

impl Model {
    pub(super) fn check_arity(&self, what: &str, xs: &[Tensor], ys: Option<&[Tensor]>) -> Result<()> {
        let names = |ts: &[crate::nn::KerasTensor]| ts.iter().map(|t| t.layer().name().to_string()).collect::<Vec<_>>().join(", ");
        ensure!(
            xs.len() == self.inputs().len(),
            "{what}: model \"{}\" has {} input(s) ({}) but {} array(s) were given as x",
            self.name(),
            self.inputs().len(),
            names(self.inputs()),
            xs.len()
        );
        if let Some(ys) = ys {
            ensure!(
                ys.len() == self.outputs().len(),
                "{what}: model \"{}\" has {} output(s) ({}) but {} array(s) were given as y",
                self.name(),
                self.outputs().len(),
                names(self.outputs()),
                ys.len()
            );
        }
        let n = xs.first().and_then(|t| t.shape().first().copied()).unwrap_or(0);
        for (i, t) in xs.iter().chain(ys.unwrap_or(&[])).enumerate() {
            let got = t.shape().first().copied().unwrap_or(0);
            ensure!(
                got == n,
                "{what}: model \"{}\": every x and y needs the same number of samples: array {i} is {}, the first has {n}",
                self.name(),
                t.describe()
            );
        }
        Ok(())
    }

    /// One optimization step on a batch already on the device; returns the batch's logs
    /// ("loss", per-output losses, accuracies).
    pub async fn train_step(&self, xs: &[Tensor], ys: &[Tensor]) -> Result<Vec<(String, f64)>> {
        let heads = self.heads()?;
        self.check_arity("train_step", xs, Some(ys))?;
        let tape = Tape::new();
        let mut run = Run::new(Some(tape.clone()), true);
        let out = self.run(&xs.iter().map(Var::constant).collect::<Vec<_>>(), &mut run)?;
        let mut losses = Vec::with_capacity(heads.len());
        let mut total: Option<Var> = None;
        for (i, h) in heads.iter().enumerate() {
            let loss = h.loss.apply(&out[i], &ys[i]).map_err(|e| e.context(format!("output \"{}\"", h.output)))?;
            losses.push(loss.value().clone());
            let weighted = if h.weight == 1.0 { loss } else { loss.unary(crate::ops::elementwise::UnaryOp::Affine(h.weight, 0.0))? };
            total = Some(match total {
                None => weighted,
                Some(t) => t.add(&weighted)?,
            });
        }
        let total = total.ok_or_else(|| Error::new("internal: no outputs"))?;
        let weights = self.trainable_weights();
        let vars: Vec<Var> = weights
            .iter()
            .map(|w| run.var_of(w).cloned().unwrap_or_else(|| Var::constant(&w.value())))
            .collect();
        let grads = tape.gradient(&total, &vars.iter().collect::<Vec<_>>(), None)?;
        self.with_compiled(|c| c.optimizer.apply(&weights, &grads))?;
        run.apply_updates()?;
        let preds: Vec<Tensor> = out.iter().map(|v| v.value().clone()).collect();
        let mut logs = Vec::new();
        // The total was already summed on the tape for the gradient.
        for (key, value) in Self::batch_scalars(&heads, total.value().clone(), losses, &preds, ys)? {
            logs.push((key, value.item().await?));
        }
        let loss = logs[0].1;
        ensure!(loss.is_finite(), "training diverged: the loss became {loss}");
        Ok(logs)
    }

    /// Where evaluate and predict run: where the weights are when they are on a GPU;
    /// host weights go to `asked` first when it is a GPU, so a freshly built model runs
    /// on the engine's device rather than on the CPU.
    pub(crate) fn working_device(&self, asked: &Device) -> Result<Device> {
        let weights = self.weights();
        if let Some(gpu) = weights.iter().map(|w| w.value().device().clone()).find(Device::is_gpu) {
            return Ok(gpu);
        }
        if asked.is_gpu() {
            self.to_device(asked)?;
            return Ok(asked.clone());
        }
        Ok(Device::Cpu)
    }

    /// `model.fit(x, y, ...)`: one x array per model input and one y array per output,
    /// on the host (each batch moves to `device`) or already on `device` (sliced there).
    pub async fn fit(
        &self,
        device: &Device,
        x: &[Tensor],
        y: &[Tensor],
        opts: &FitOptions,
        observer: &mut dyn FitObserver,
    ) -> Result<History> {
        self.with_compiled(|_| Ok(()))?;
        self.check_arity("fit", x, Some(y))?;
        if let Some((xv, yv)) = &opts.validation_data {
            self.check_arity("fit (validation_data)", xv, Some(yv))?;
        }
        ensure!(opts.batch_size > 0 && opts.epochs > 0, "fit: epochs and batch_size must be positive");
        self.to_device(device)?;
        let n = x[0].shape().first().copied().unwrap_or(0);
        ensure!(n > 0, "fit: no samples");
        let steps = n.div_ceil(opts.batch_size);
        let mut history = History::default();
        let mut best: BTreeMap<String, f64> = BTreeMap::new();
        let mut waits: Vec<usize> = vec![0; opts.callbacks.len()];
        let mut best_weights: Option<Vec<Tensor>> = None;
        for epoch in 0..opts.epochs {
            let order = epoch_order(n, opts.shuffle, opts.seed.wrapping_add(epoch as u64));
            let mut means = Means::default();
            for (step, rows) in batches(&order, opts.batch_size).enumerate() {
                let xb = batch_on(x, rows, device, false).await?;
                let yb = batch_on(y, rows, device, true).await?;
                let logs = self.train_step(&xb, &yb).await?;
                means.add(&logs, rows.len());
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
                            #[cfg(not(target_arch = "wasm32"))]
                            if let Some(template) = &m.filepath {
                                let dir = checkpoint_path(template, epoch + 1);
                                let file = self.to_tfjs().await?;
                                file.save(&dir).map_err(|e| e.context(format!("ModelCheckpoint: writing {dir}")))?;
                            }
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

    /// Loss and metrics of one batch already on the device, in Keras's order (loss first).
    pub(super) async fn test_step(&self, heads: &[crate::nn::compile::Head], xb: &[Tensor], yb: &[Tensor]) -> Result<Vec<(String, f64)>> {
        let preds = self.call(xb, false)?;
        let losses = heads
            .iter()
            .zip(&preds)
            .zip(yb)
            .map(|((h, p), t)| h.loss.value(p, t).map_err(|e| e.context(format!("output \"{}\"", h.output))))
            .collect::<Result<Vec<_>>>()?;
        let total = Self::weighted_total(heads, &losses)?;
        let mut logs = Vec::new();
        for (key, value) in Self::batch_scalars(heads, total, losses, &preds, yb)? {
            logs.push((key, value.item().await?));
        }
        Ok(logs)
    }

    /// Mean loss and metrics over host or device data, batch by batch (Keras `evaluate` logs).
    pub async fn evaluate(&self, device: &Device, x: &[Tensor], y: &[Tensor], batch_size: usize) -> Result<BTreeMap<String, f64>> {
        let heads = self.heads()?;
        self.check_arity("evaluate", x, Some(y))?;
        ensure!(batch_size > 0, "evaluate: batch_size must be positive");
        let device = self.working_device(device)?;
        let order: Vec<usize> = (0..x[0].shape().first().copied().unwrap_or(0)).collect();
        let mut means = Means::default();
        for rows in batches(&order, batch_size) {
            let xb = batch_on(x, rows, &device, false).await?;
            let yb = batch_on(y, rows, &device, true).await?;
            means.add(&self.test_step(&heads, &xb, &yb).await?, rows.len());
        }
        ensure!(means.count > 0, "evaluate: no samples");
        Ok(means.get())
    }

    /// Outputs of a single-output model for host data (see `predict_in_mode`).
    pub async fn predict(&self, device: &Device, x: &Tensor, batch_size: usize) -> Result<Tensor> {
        ensure!(self.outputs().len() == 1, "predict: model \"{}\" has {} outputs; use predict_in_mode", self.name(), self.outputs().len());
        Ok(self.predict_in_mode(device, std::slice::from_ref(x), batch_size, false).await?.remove(0))
    }

    /// Every output for host data, batch by batch, gathered back on the host. With
    /// `training`, the forward pass `fit` runs (Keras `model(x, training=True)`):
    /// augmentation layers transform, dropout drops, and batch normalization uses and
    /// updates the batch statistics.
    pub async fn predict_in_mode(&self, device: &Device, x: &[Tensor], batch_size: usize, training: bool) -> Result<Vec<Tensor>> {
        self.check_arity("predict", x, None)?;
        ensure!(batch_size > 0, "predict: batch_size must be positive");
        let device = self.working_device(device)?;
        let order: Vec<usize> = (0..x[0].shape().first().copied().unwrap_or(0)).collect();
        let mut parts: Vec<Vec<Tensor>> = vec![Vec::new(); self.outputs().len()];
        for rows in batches(&order, batch_size) {
            let xb = batch_on(x, rows, &device, false).await?;
            for (i, pred) in self.call(&xb, training)?.into_iter().enumerate() {
                parts[i].push(pred.to_device(&Device::Cpu).await?);
            }
        }
        ensure!(!order.is_empty(), "predict: no samples");
        parts.iter().map(|p| crate::ops::copy::concat(&p.iter().collect::<Vec<_>>(), 0)).collect()
    }
}
