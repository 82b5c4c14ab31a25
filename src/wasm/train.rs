//! compile / fit / evaluate / predict for JavaScript. `fit` calls `onBatchEnd(logs)` and
//! `onEpochEnd(epoch, logs)` and awaits what they return: the notebook uses that to yield
//! to the event loop (so the page stays live) and to interrupt (by throwing).

use std::collections::BTreeMap;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::models::JsModel;
use super::{js_err, to_js, Engine, JsTensor};
use crate::error::{Error, Result};
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
    loss: String,
    #[serde(default)]
    metrics: Vec<String>,
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

async fn host(t: &Tensor) -> Result<Tensor> {
    t.to_device(&Device::Cpu).await
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
        let loss = Loss::parse(&a.loss, a.from_logits).map_err(js_err)?;
        let metrics: Vec<&str> = a.metrics.iter().map(String::as_str).collect();
        self.inner.compile(Optimizer::new(config), loss, &metrics).map_err(js_err)
    }

    /// Resolves to `{history: {loss: [...], ...}, epochs_run}`.
    #[allow(clippy::too_many_arguments)]
    pub fn fit(
        &self,
        engine: &Engine,
        x: &JsTensor,
        y: &JsTensor,
        args: JsValue,
        validation_x: Option<JsTensor>,
        validation_y: Option<JsTensor>,
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
                    Callback::ModelCheckpoint(ModelCheckpoint { monitor, save_best_only })
                }
            })
            .collect();
        let (model, device) = (self.inner.clone(), engine.device().clone());
        let (x, y) = (x.inner.clone(), y.inner.clone());
        let validation = match (validation_x, validation_y) {
            (Some(vx), Some(vy)) => Some((vx.inner, vy.inner)),
            (None, None) => None,
            _ => return Err(JsError::new("fit: validation data needs both x and y")),
        };
        let mut observer = JsObserver { on_batch: on_batch_end, on_epoch: on_epoch_end };
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            let run = async {
                let validation_data = match validation {
                    Some((vx, vy)) => Some((host(&vx).await?, host(&vy).await?)),
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
                model.fit(&device, &host(&x).await?, &host(&y).await?, &opts, &mut observer).await
            };
            let history = run.await.map_err(|e| JsValue::from(js_err(e)))?;
            to_js(&history).map_err(JsValue::from)
        }))
    }

    /// Resolves to `{loss, accuracy?}`.
    pub fn evaluate(&self, engine: &Engine, x: &JsTensor, y: &JsTensor, batch_size: Option<usize>) -> js_sys::Promise {
        let (model, device, x, y) = (self.inner.clone(), engine.device().clone(), x.inner.clone(), y.inner.clone());
        wasm_bindgen_futures::future_to_promise(async move {
            let run = async { model.evaluate(&device, &host(&x).await?, &host(&y).await?, batch_size.unwrap_or(32)).await };
            let logs = run.await.map_err(|e| JsValue::from(js_err(e)))?;
            to_js(&logs).map_err(JsValue::from)
        })
    }

    /// Resolves to a Tensor (on the CPU) with the model's outputs for `x`; with `training`
    /// the layers behave as in `fit` (random augmentation, dropout).
    pub fn predict(&self, engine: &Engine, x: &JsTensor, batch_size: Option<usize>, training: Option<bool>) -> js_sys::Promise {
        let (model, device, x) = (self.inner.clone(), engine.device().clone(), x.inner.clone());
        let training = training.unwrap_or(false);
        wasm_bindgen_futures::future_to_promise(async move {
            let run = async { model.predict_in_mode(&device, &host(&x).await?, batch_size.unwrap_or(32), training).await };
            let out = run.await.map_err(|e| JsValue::from(js_err(e)))?;
            Ok(JsTensor { inner: out }.into())
        })
    }
}
