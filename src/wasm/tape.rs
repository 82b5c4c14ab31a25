//! Gradients through a model for cells: `model.inputGradient(image, classIndex)` and
//! `model.gradCam(layerName, image, classIndex)` (listing 9-20). Both resolve to plain
//! objects of Tensors; the class index defaults to the top prediction.

use wasm_bindgen::prelude::*;

use super::{js_err, JsTensor};
use crate::nn::gradients;
use crate::wasm::models::JsModel;

fn set(obj: &js_sys::Object, key: &str, value: JsValue) -> Result<(), JsValue> {
    js_sys::Reflect::set(obj, &JsValue::from_str(key), &value).map(|_| ())
}

#[wasm_bindgen(js_class = Model)]
impl JsModel {
    /// Resolves to `{classIndex, gradient}`: d(class score)/d(image), same shape as the image.
    #[wasm_bindgen(js_name = inputGradient)]
    pub fn input_gradient(&self, image: &JsTensor, class_index: Option<u32>) -> js_sys::Promise {
        let (model, image) = (self.inner.clone(), image.inner.clone());
        wasm_bindgen_futures::future_to_promise(async move {
            let (class, g) = gradients::input_gradient(&model, &image, class_index.map(|c| c as usize))
                .await
                .map_err(|e| JsValue::from(js_err(e.context(format!("model \"{}\": inputGradient", model.name())))))?;
            let out = js_sys::Object::new();
            set(&out, "classIndex", JsValue::from(class as u32))?;
            set(&out, "gradient", JsTensor { inner: g }.into())?;
            Ok(out.into())
        })
    }

    /// Resolves to `{classIndex, activations, gradients, heatmap}` for the named layer;
    /// the heatmap is (h, w) in [0, 1].
    #[wasm_bindgen(js_name = gradCam)]
    pub fn grad_cam(&self, layer_name: String, image: &JsTensor, class_index: Option<u32>) -> js_sys::Promise {
        let (model, image) = (self.inner.clone(), image.inner.clone());
        wasm_bindgen_futures::future_to_promise(async move {
            let cam = gradients::grad_cam(&model, &layer_name, &image, class_index.map(|c| c as usize))
                .await
                .map_err(|e| JsValue::from(js_err(e.context(format!("model \"{}\": gradCam", model.name())))))?;
            let out = js_sys::Object::new();
            set(&out, "classIndex", JsValue::from(cam.class_index as u32))?;
            set(&out, "activations", JsTensor { inner: cam.activations }.into())?;
            set(&out, "gradients", JsTensor { inner: cam.gradients }.into())?;
            set(&out, "heatmap", JsTensor { inner: cam.heatmap }.into())?;
            Ok(out.into())
        })
    }
}
