//! compile / fit / evaluate / predict for JavaScript. `fit` calls `onBatchEnd(logs)` and
//! `onEpochEnd(epoch, logs)` and awaits what they return: the notebook uses that to yield
//! to the event loop (so the page stays live) and to interrupt (by throwing).

use std::collections::BTreeMap;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::models::JsModel;
use super::{js_err, to_js, Engine, JsTensor};
use crate::error::{Error, Result};
use crate::nn::compile::per_output;
use crate::nn::losses::Loss;
use crate::nn::optimizers::Optimizer;
use crate::nn::train::{BatchLogs, Callback, EarlyStopping, FitObserver, FitOptions, ModelCheckpoint, Yield};
use crate::ops::optim_update::OptimizerConfig;
use crate::tensor::Tensor;
use crate::Device;

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum OptimizerArg {
    Name(String),
    Config { name: String, learning_rate: Option<f64> },
}

#[derive(serde::Deserialize)]
struct CompileArgs {
    optimizer: OptimizerArg,
    /// A loss name for every output, a list (output order) or an object by output name.
    loss: serde_json::Value,
    /// ["accuracy"] for every output, a list of lists, or an object by output name.
    #[serde(default)]
    metrics: serde_json::Value,
    /// A list (output order) or an object by output name.
    #[serde(default)]
    loss_weights: serde_json::Value,
    #[serde(default)]
    from_logits: bool,
}

#[derive(serde::Deserialize)]
#[serde(tag = "type")]
enum CallbackArg {
    EarlyStopping {
        #[serde(default = "val_loss")]
        monitor: String,
        #[serde(default)]
        patience: usize,
        #[serde(default)]
        min_delta: f64,
        #[serde(default)]
        restore_best_weights: bool,
    },
    ModelCheckpoint {
        #[serde(default = "val_loss")]
        monitor: String,
        #[serde(default)]
        save_best_only: bool,
    },
}

fn val_loss() -> String {
    "val_loss".into()
}

#[derive(serde::Deserialize, Default)]
struct FitArgs {
    epochs: Option<usize>,
    batch_size: Option<usize>,
    shuffle: Option<bool>,
    seed: Option<u64>,
    #[serde(default)]
    callbacks: Vec<CallbackArg>,
}

fn from_js<T: serde::de::DeserializeOwned + Default>(v: JsValue, what: &str) -> std::result::Result<T, JsError> {
    if v.is_undefined() || v.is_null() {
        return Ok(T::default());
    }
    serde_wasm_bindgen::from_value(v).map_err(|e| JsError::new(&format!("{what}: {e}")))
}

struct JsObserver {
    on_batch: Option<js_sys::Function>,
    on_epoch: Option<js_sys::Function>,
}

async fn call_and_await(f: &js_sys::Function, args: &[JsValue]) -> Result<()> {
    let arr: js_sys::Array = args.iter().collect();
    let out = f.apply(&JsValue::NULL, &arr).map_err(describe)?;
    if out.has_type::<js_sys::Promise>() {
        JsFuture::from(js_sys::Promise::from(out)).await.map_err(describe)?;
    }
    Ok(())
}

/// A JS exception (an interrupt, usually) as an engine error.
fn describe(e: JsValue) -> Error {
    let msg = js_sys::Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string()).or_else(|| e.as_string());
    Error::new(msg.unwrap_or_else(|| "stopped by a callback".into()))
}

impl FitObserver for JsObserver {
    fn on_batch_end<'a>(&'a mut self, logs: &'a BatchLogs) -> Yield<'a> {
        Box::pin(async move {
            if let Some(f) = &self.on_batch {
                let v = to_js(logs).map_err(|e| Error::new(format!("{:?}", JsValue::from(e))))?;
                call_and_await(f, &[v]).await?;
            }
            Ok(())
        })
    }

    fn on_epoch_end<'a>(&'a mut self, epoch: usize, logs: &'a BTreeMap<String, f64>) -> Yield<'a> {
        Box::pin(async move {
            if let Some(f) = &self.on_epoch {
                let v = to_js(logs).map_err(|e| Error::new(format!("{:?}", JsValue::from(e))))?;
                call_and_await(f, &[JsValue::from(epoch as u32), v]).await?;
            }
            Ok(())
        })
    }
}

async fn hosts(ts: &[Tensor]) -> Result<Vec<Tensor>> {
    let mut out = Vec::with_capacity(ts.len());
    for t in ts {
        out.push(t.to_device(&Device::Cpu).await?);
    }
    Ok(out)
}

fn inners(ts: Vec<JsTensor>) -> Vec<Tensor> {
    ts.into_iter().map(|t| t.inner).collect()
}

#[wasm_bindgen(js_class = Model)]
impl JsModel {
    /// `{optimizer: "rmsprop" | {name, learning_rate}, loss, metrics: ["accuracy"], from_logits}`.
    pub fn compile(&self, args: JsValue) -> std::result::Result<(), JsError> {
        let a: CompileArgs =
            serde_wasm_bindgen::from_value(args).map_err(|e| JsError::new(&format!("compile: {e}")))?;
        let config = match a.optimizer {
            OptimizerArg::Name(n) => OptimizerConfig::from_keras_name(&n),
            OptimizerArg::Config { name, learning_rate } => OptimizerConfig::from_keras_name(&name).map(|mut c| {
                if let Some(lr) = learning_rate {
                    c.set_learning_rate(lr);
                }
                c
            }),
        }
        .map_err(js_err)?;
        let outputs: Vec<String> = self.inner.outputs().iter().map(|o| o.layer().name().to_string()).collect();
        let compile = || -> Result<()> {
            let losses = per_output(&a.loss, &outputs, "compile: loss", |_| false)?
                .iter()
                .zip(&outputs)
                .map(|(l, o)| match l.as_str() {
                    Some(name) => Loss::parse(name, a.from_logits),
                    None => Err(Error::new(format!("compile: output \"{o}\" needs a loss name, got {l}"))),
                })
                .collect::<Result<Vec<_>>>()?;
            // ["accuracy"] means accuracy for every output; [["accuracy"], []] is per output.
            let flat_list = |v: &serde_json::Value| v.as_array().is_some_and(|l| l.iter().all(|m| m.is_string()));
            // As Keras: with several outputs, a flat list would be ambiguous.
            crate::ensure!(
                outputs.len() == 1 || !flat_list(&a.metrics) || a.metrics.as_array().is_some_and(|l| l.is_empty()),
                "compile: model has {} outputs ({}): give metrics per output, as a list of lists ([[\"accuracy\"], []]) or an object by output name ({{{}: [\"accuracy\"]}})",
                outputs.len(),
                outputs.join(", "),
                outputs[0]
            );
            let metrics = per_output(&a.metrics, &outputs, "compile: metrics", flat_list)?
                .iter()
                .map(|m| match m {
                    serde_json::Value::Null => Ok(vec![]),
                    serde_json::Value::String(s) => Ok(vec![s.clone()]),
                    serde_json::Value::Array(l) => l
                        .iter()
                        .map(|x| x.as_str().map(str::to_string).ok_or_else(|| Error::new(format!("compile: bad metric {x}"))))
                        .collect(),
                    other => Err(Error::new(format!("compile: bad metrics {other}"))),
                })
                .collect::<Result<Vec<_>>>()?;
            let weights = match &a.loss_weights {
                serde_json::Value::Null => None,
                w => Some(
                    per_output(w, &outputs, "compile: loss_weights", |_| false)?
                        .iter()
                        .map(|x| match x {
                            serde_json::Value::Null => Ok(1.0),
                            x => x.as_f64().ok_or_else(|| Error::new(format!("compile: loss weight {x} is not a number"))),
                        })
                        .collect::<Result<Vec<_>>>()?,
                ),
            };
            self.inner.compile_outputs(Optimizer::new(config), losses, weights, metrics)
        };
        compile().map_err(js_err)
    }

    /// Resolves to `{history: {loss: [...], ...}, epochs_run}`.
    #[allow(clippy::too_many_arguments)]
    pub fn fit(
        &self,
        engine: &Engine,
        x: Vec<JsTensor>,
        y: Vec<JsTensor>,
        args: JsValue,
        validation_x: Vec<JsTensor>,
        validation_y: Vec<JsTensor>,
        on_batch_end: Option<js_sys::Function>,
        on_epoch_end: Option<js_sys::Function>,
    ) -> std::result::Result<js_sys::Promise, JsError> {
        let a: FitArgs = from_js(args, "fit options")?;
        let callbacks = a
            .callbacks
            .into_iter()
            .map(|c| match c {
                CallbackArg::EarlyStopping { monitor, patience, min_delta, restore_best_weights } => {
                    Callback::EarlyStopping(EarlyStopping { monitor, patience, min_delta, restore_best_weights })
                }
                CallbackArg::ModelCheckpoint { monitor, save_best_only } => {
                    Callback::ModelCheckpoint(ModelCheckpoint { monitor, save_best_only, filepath: None })
                }
            })
            .collect();
        let (model, device) = (self.inner.clone(), engine.device().clone());
        let (x, y) = (inners(x), inners(y));
        let validation = match (validation_x.is_empty(), validation_y.is_empty()) {
            (false, false) => Some((inners(validation_x), inners(validation_y))),
            (true, true) => None,
            _ => return Err(JsError::new("fit: validation data needs both x and y")),
        };
        let mut observer = JsObserver { on_batch: on_batch_end, on_epoch: on_epoch_end };
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            let run = async {
                let validation_data = match validation {
                    Some((vx, vy)) => Some((hosts(&vx).await?, hosts(&vy).await?)),
                    None => None,
                };
                let opts = FitOptions {
                    epochs: a.epochs.unwrap_or(1),
                    batch_size: a.batch_size.unwrap_or(32),
                    validation_data,
                    shuffle: a.shuffle.unwrap_or(true),
                    seed: a.seed.unwrap_or(0),
                    callbacks,
                };
                model.fit(&device, &hosts(&x).await?, &hosts(&y).await?, &opts, &mut observer).await
            };
            let history = run.await.map_err(|e| JsValue::from(js_err(e)))?;
            to_js(&history).map_err(JsValue::from)
        }))
    }

    /// Resolves to `{loss, accuracy?}` (per-output entries too for several outputs).
    pub fn evaluate(&self, engine: &Engine, x: Vec<JsTensor>, y: Vec<JsTensor>, batch_size: Option<usize>) -> js_sys::Promise {
        let (model, device, x, y) = (self.inner.clone(), engine.device().clone(), inners(x), inners(y));
        wasm_bindgen_futures::future_to_promise(async move {
            let run = async { model.evaluate(&device, &hosts(&x).await?, &hosts(&y).await?, batch_size.unwrap_or(32)).await };
            let logs = run.await.map_err(|e| JsValue::from(js_err(e)))?;
            to_js(&logs).map_err(JsValue::from)
        })
    }

    /// Resolves to an array of Tensors (on the CPU), one per model output, for `x` (one
    /// array per input); with `training` the layers behave as in `fit` (random
    /// augmentation, dropout).
    pub fn predict(&self, engine: &Engine, x: Vec<JsTensor>, batch_size: Option<usize>, training: Option<bool>) -> js_sys::Promise {
        let (model, device, x) = (self.inner.clone(), engine.device().clone(), inners(x));
        let training = training.unwrap_or(false);
        wasm_bindgen_futures::future_to_promise(async move {
            let run = async { model.predict_in_mode(&device, &hosts(&x).await?, batch_size.unwrap_or(32), training).await };
            let out = run.await.map_err(|e| JsValue::from(js_err(e)))?;
            Ok(out.into_iter().map(|inner| JsValue::from(JsTensor { inner })).collect::<js_sys::Array>().into())
        })
    }
}
