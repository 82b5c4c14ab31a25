//! keras.applications for JavaScript: `engine.application("VGG16", {includeTop: false})`
//! builds the model (random weights), `engine.applicationWeights(...)` says which Keras
//! file holds its ImageNet weights and where, and the free functions `preprocessInput`
//! and `decodePredictions` are Keras's imagenet_utils. The kernel's applications.js
//! gives them Keras's names and does the fetching.

use wasm_bindgen::prelude::*;

use super::{js_err, json_of, to_js, wrap, Engine, JsTensor};
use crate::nn::applications::{self, AppArgs, Mode};
use crate::wasm::models::JsModel;

#[wasm_bindgen]
impl Engine {
    /// The application `name` (Keras's spelling) built from Keras's arguments, camelCase
    /// or snake_case; `weights` must be null here (the kernel loads ImageNet weights).
    pub fn application(&self, name: &str, options: JsValue) -> Result<JsModel, JsError> {
        let args = AppArgs::from_options(name, &json_of(options, name)?).map_err(js_err)?;
        applications::build(name, &args).map(|inner| JsModel { inner }).map_err(js_err)
    }

    /// `{application, file_name, path, url}`: the Keras file with the ImageNet weights of
    /// `name` built with `options`, under `baseUrl` (default: where Keras gets it).
    #[wasm_bindgen(js_name = applicationWeights)]
    pub fn application_weights(&self, name: &str, options: JsValue, base_url: Option<String>) -> Result<JsValue, JsError> {
        let mut value = json_of(options, name)?;
        // The file depends on the architecture, not on whether weights were asked for.
        if let Some(map) = value.as_object_mut() {
            map.remove("weights");
        }
        let args = AppArgs::from_options(name, &value).map_err(js_err)?;
        args.check_imagenet(name).map_err(js_err)?;
        to_js(&applications::imagenet_weights(name, &args, base_url.as_deref()).map_err(js_err)?)
    }
}

/// Keras's `preprocess_input`: `mode` is "caffe", "tf" or "torch", or an application
/// name for its family's mode. Channels-last images in 0–255; float32 out.
#[wasm_bindgen(js_name = preprocessInput)]
pub fn preprocess_input(x: &JsTensor, mode: &str) -> Result<JsTensor, JsError> {
    let m = match Mode::parse(mode) {
        Ok(m) => m,
        Err(e) => Mode::of_application(mode).map_err(|_| js_err(e))?,
    };
    wrap(applications::preprocess_input(&x.inner, m))
}

/// Keras's `decode_predictions(preds, top)`: resolves to one list per sample of
/// `[wnid, name, score]`, best first.
#[wasm_bindgen(js_name = decodePredictions)]
pub fn decode_predictions(preds: &JsTensor, top: Option<u32>) -> js_sys::Promise {
    let preds = preds.inner.clone();
    let top = top.unwrap_or(5) as usize;
    wasm_bindgen_futures::future_to_promise(async move {
        let rows = applications::decode_predictions(&preds, top).await.map_err(|e| JsValue::from(js_err(e)))?;
        let out: Vec<Vec<(String, String, f64)>> =
            rows.into_iter().map(|r| r.into_iter().map(|p| (p.wnid, p.name, p.score)).collect()).collect();
        to_js(&out).map_err(JsValue::from)
    })
}

/// The 1,000 ImageNet classes as `[wnid, name]`, in index order (Keras's class index).
#[wasm_bindgen(js_name = imagenetClasses)]
pub fn imagenet_classes() -> Result<JsValue, JsError> {
    let list: Vec<(&str, &str)> = applications::imagenet::classes().iter().map(|c| (c.wnid.as_str(), c.name.as_str())).collect();
    to_js(&list)
}
