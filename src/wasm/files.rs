//! Model files for JavaScript: `model.toFiles()` gives the TF.js layers format (model.json
//! text and one weight shard), `engine.loadModel(modelJson, shards)` builds a model from
//! such files, whoever wrote them (this engine, Keras through the TF.js converter).

use wasm_bindgen::prelude::*;

use super::models::JsModel;
use super::{js_err, Engine};
use crate::error::Error;
use crate::io::tfjs::TfjsModel;
use crate::nn::Model;

#[wasm_bindgen(js_class = Model)]
impl JsModel {
    /// Resolves to `{modelJson, shards: [[name, Uint8Array]]}` (weights read back from the GPU).
    #[wasm_bindgen(js_name = toFiles)]
    pub fn to_files(&self) -> js_sys::Promise {
        let model = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let file = model.to_tfjs().await.map_err(|e| JsValue::from(js_err(e.context(format!("saving model \"{}\"", model.name())))))?;
            let (json, shards) = file.to_parts();
            let out = js_sys::Object::new();
            let list: js_sys::Array = shards
                .iter()
                .map(|(name, bytes)| {
                    let pair = js_sys::Array::new();
                    pair.push(&JsValue::from_str(name));
                    pair.push(&js_sys::Uint8Array::from(bytes.as_slice()));
                    JsValue::from(pair)
                })
                .collect();
            js_sys::Reflect::set(&out, &"modelJson".into(), &JsValue::from_str(&json))?;
            js_sys::Reflect::set(&out, &"shards".into(), &list)?;
            Ok(out.into())
        })
    }
}

#[wasm_bindgen]
impl Engine {
    /// A model from TF.js layers-format files: the model.json text and an object mapping
    /// each shard path the manifest names to its bytes (Uint8Array).
    #[wasm_bindgen(js_name = loadModel)]
    pub fn load_model(&self, model_json: &str, shards: &js_sys::Object, source: Option<String>) -> Result<JsModel, JsError> {
        let source = source.unwrap_or_else(|| "model.json".into());
        let fetch = |path: &str| -> crate::Result<Vec<u8>> {
            let v = js_sys::Reflect::get(shards, &JsValue::from_str(path)).unwrap_or(JsValue::UNDEFINED);
            if v.is_undefined() || v.is_null() {
                return Err(Error::new(format!("weight shard \"{path}\" was not given")));
            }
            Ok(js_sys::Uint8Array::new(&v).to_vec())
        };
        let file = TfjsModel::from_parts(model_json, fetch).map_err(|e| js_err(e.context(&source)))?;
        let model = Model::from_tfjs(&file).map_err(|e| js_err(e.context(&source)))?;
        // On this engine's device from the start, so predict does not run on the CPU.
        model.to_device(&self.device).map_err(js_err)?;
        Ok(JsModel { inner: model })
    }
}
