//! compile / fit / evaluate / predict for JavaScript. `fit` calls `onBatchEnd(logs)` and
//! `onEpochEnd(epoch, logs)` and awaits what they return: the notebook uses that to yield
//! to the event loop (so the page stays live) and to interrupt (by throwing).

use std::collections::BTreeMap;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::models::JsModel;
use super::{js_err, json_of, to_js, Engine, JsTensor};
use crate::error::{Error, Result};
use crate::nn::fit_options::BatchOptions;
use crate::nn::optimizers::{optimizer_config, optimizer_config_json};
use crate::nn::train::{BatchLogs, Callback, FitObserver, FitOptions, Yield};
use crate::tensor::Tensor;

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

fn inners(ts: Vec<JsTensor>) -> Vec<Tensor> {
    ts.into_iter().map(|t| t.inner).collect()
}

#[wasm_bindgen(js_class = Model)]
impl JsModel {
    /// Keras's `compile(**options)`: `{optimizer, loss, metrics, lossWeights, fromLogits}`
    /// (see `Model::compile_with_options`); an unknown key is an error naming it.
    pub fn compile(&self, options: JsValue) -> std::result::Result<(), JsError> {
        self.inner.compile_with_options(&json_of(options, "compile")?).map_err(js_err)
    }

    /// The compiled optimizer as `{class_name, config}` with every hyperparameter, or null.
    #[wasm_bindgen(js_name = optimizerConfig)]
    pub fn optimizer_config(&self) -> std::result::Result<JsValue, JsError> {
        let c = self.inner.compiled().borrow();
        match c.as_ref() {
            Some(c) => to_js(&optimizer_config_json(&c.optimizer.config)),
            None => Ok(JsValue::NULL),
        }
    }

    /// Compile ahead (see `Model::warm_up`): on a GPU engine, a dry pass on one zero
    /// sample, forward only or with `training` backward too, then a wait for the GPU.
    /// Resolves to true once done, false where there was nothing to do (CPU engine, or an
    /// input size left open).
    #[wasm_bindgen(js_name = warmUp)]
    pub fn warm_up(&self, engine: &Engine, training: bool) -> js_sys::Promise {
        let (model, device) = (self.inner.clone(), engine.device().clone());
        wasm_bindgen_futures::future_to_promise(async move {
            let run = async {
                if !device.is_gpu() || !model.warm_up(&device, training)? {
                    return Ok(false);
                }
                device.sync().await?;
                Ok(true)
            };
            let ran: Result<bool> = run.await;
            ran.map(JsValue::from).map_err(|e| JsValue::from(js_err(e)))
        })
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
        // A checkpoint's filepath is written by the notebook (its own file space).
        let mut opts = FitOptions::from_options(&json_of(args, "fit")?).map_err(js_err)?;
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
                    Some((vx, vy)) => Some((vx, vy)),
                    None => None,
                };
                opts.validation_data = validation_data;
                model.fit(&device, &x, &y, &opts, &mut observer).await
            };
            let history = run.await.map_err(|e| JsValue::from(js_err(e)))?;
            to_js(&history).map_err(JsValue::from)
        }))
    }

    /// Resolves to `{loss, accuracy?}` (per-output entries too for several outputs).
    /// Options: `batchSize` (32).
    pub fn evaluate(&self, engine: &Engine, x: Vec<JsTensor>, y: Vec<JsTensor>, options: JsValue) -> std::result::Result<js_sys::Promise, JsError> {
        let o = BatchOptions::from_options("evaluate", &json_of(options, "evaluate")?).map_err(js_err)?;
        let (model, device, x, y) = (self.inner.clone(), engine.device().clone(), inners(x), inners(y));
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            let run = async { model.evaluate(&device, &x, &y, o.batch_size).await };
            let logs = run.await.map_err(|e| JsValue::from(js_err(e)))?;
            to_js(&logs).map_err(JsValue::from)
        }))
    }

    /// Resolves to an array of Tensors (on the CPU), one per model output, for `x` (one
    /// array per input). Options: `batchSize` (32), `training` (false: with true the
    /// layers behave as in `fit`, random augmentation and dropout). `owner` names the call
    /// in errors ("predict", or "model(x)" for a model called on data).
    pub fn predict(&self, engine: &Engine, x: Vec<JsTensor>, options: JsValue, owner: Option<String>) -> std::result::Result<js_sys::Promise, JsError> {
        let owner = owner.unwrap_or_else(|| "predict".into());
        let o = BatchOptions::from_options(&owner, &json_of(options, &owner)?).map_err(js_err)?;
        let (model, device, x) = (self.inner.clone(), engine.device().clone(), inners(x));
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            let run = async { model.predict_in_mode(&device, &x, o.batch_size, o.training).await };
            let out = run.await.map_err(|e| JsValue::from(js_err(e)))?;
            Ok(out.into_iter().map(|inner| JsValue::from(JsTensor { inner })).collect::<js_sys::Array>().into())
        }))
    }
}

/// Keras's return of `train_on_batch` / `test_on_batch`: the loss alone, or the loss and
/// then the metrics, in the order `fit`'s logs name them.
fn scalars_js(logs: &[(String, f64)]) -> JsValue {
    match logs {
        [(_, loss)] => JsValue::from_f64(*loss),
        _ => logs.iter().map(|(_, v)| JsValue::from_f64(*v)).collect::<js_sys::Array>().into(),
    }
}

#[wasm_bindgen(js_class = Model)]
impl JsModel {
    /// Resolves to the loss (a number), or `[loss, ...metrics]`, of one optimization step
    /// on `x`, `y` taken as one batch (Keras `train_on_batch`).
    #[wasm_bindgen(js_name = trainOnBatch)]
    pub fn train_on_batch(&self, engine: &Engine, x: Vec<JsTensor>, y: Vec<JsTensor>) -> js_sys::Promise {
        let (model, device, x, y) = (self.inner.clone(), engine.device().clone(), inners(x), inners(y));
        wasm_bindgen_futures::future_to_promise(async move {
            let logs = model.train_on_batch(&device, &x, &y).await.map_err(|e| JsValue::from(js_err(e)))?;
            Ok(scalars_js(&logs))
        })
    }

    /// Resolves to the loss, or `[loss, ...metrics]`, on `x`, `y` as one batch, changing
    /// nothing (Keras `test_on_batch`).
    #[wasm_bindgen(js_name = testOnBatch)]
    pub fn test_on_batch(&self, engine: &Engine, x: Vec<JsTensor>, y: Vec<JsTensor>) -> js_sys::Promise {
        let (model, device, x, y) = (self.inner.clone(), engine.device().clone(), inners(x), inners(y));
        wasm_bindgen_futures::future_to_promise(async move {
            let logs = model.test_on_batch(&device, &x, &y).await.map_err(|e| JsValue::from(js_err(e)))?;
            Ok(scalars_js(&logs))
        })
    }

    /// Resolves to an array of Tensors, one per output, for `x` as one batch, left on the
    /// engine's device (Keras `predict_on_batch`).
    #[wasm_bindgen(js_name = predictOnBatch)]
    pub fn predict_on_batch(&self, engine: &Engine, x: Vec<JsTensor>) -> js_sys::Promise {
        let (model, device, x) = (self.inner.clone(), engine.device().clone(), inners(x));
        wasm_bindgen_futures::future_to_promise(async move {
            let out = model.predict_on_batch(&device, &x).await.map_err(|e| JsValue::from(js_err(e)))?;
            Ok(out.into_iter().map(|inner| JsValue::from(JsTensor { inner })).collect::<js_sys::Array>().into())
        })
    }
}

#[wasm_bindgen(js_class = Engine)]
impl Engine {
    /// `keras.optimizers.SGD(options)` and siblings: `{class_name, config}` with Keras's
    /// defaults filled in; an unknown or unsupported option is an error naming it.
    pub fn optimizer(&self, class_name: &str, options: JsValue) -> std::result::Result<JsValue, JsError> {
        let config = optimizer_config(class_name, &json_of(options, class_name)?).map_err(js_err)?;
        to_js(&optimizer_config_json(&config))
    }

    /// `keras.callbacks.EarlyStopping(options)` / `ModelCheckpoint(options)`: `{class_name,
    /// config}` with Keras's defaults filled in, as `fit` takes it.
    pub fn callback(&self, class_name: &str, options: JsValue) -> std::result::Result<JsValue, JsError> {
        let c = Callback::from_options(class_name, &json_of(options, class_name)?).map_err(js_err)?;
        to_js(&c.to_value())
    }
}
