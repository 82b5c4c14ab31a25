//! Gradients for cells: `keras.GradientTape()` (watch, recorded tensor ops and model
//! calls, gradient), and the shortcuts `model.inputGradient(image, classIndex)` and
//! `model.gradCam(layerName, image, classIndex)` (listing 9-20), which resolve to plain
//! objects of Tensors with the class index defaulting to the top prediction.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::variables::JsVariable;
use super::{js_err, json_of, Engine, JsTensor};
use crate::nn::gradient_tape::{GradientTape, Operand, Source, TapeOp, VarId};
use crate::nn::gradients;
use crate::wasm::models::{JsKerasTensor, JsModel};

fn set(obj: &js_sys::Object, key: &str, value: JsValue) -> Result<(), JsValue> {
    js_sys::Reflect::set(obj, &JsValue::from_str(key), &value).map(|_| ())
}

#[wasm_bindgen(js_class = Model)]
impl JsModel {
    /// Keras `layer.input` of the named layer: its symbolic inputs (for model surgery).
    #[wasm_bindgen(js_name = layerInputs)]
    pub fn layer_inputs(&self, name: &str) -> Result<Vec<JsKerasTensor>, JsError> {
        let inputs = gradients::layer_inputs(&self.inner, name).map_err(js_err)?;
        Ok(inputs.into_iter().map(|inner| JsKerasTensor { inner }).collect())
    }

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

/// `keras.GradientTape()`: the engine's tape for cells. The kernel attaches the ids
/// returned here to its tensor handles and routes tensor methods and model calls made
/// while the tape records through `apply` and `callModel`.
#[wasm_bindgen(js_name = GradientTape)]
pub struct JsGradientTape {
    inner: Rc<RefCell<GradientTape>>,
}

/// Operands from JS: a tensor and its id on the tape, or -1 for a plain tensor.
fn operands(tensors: Vec<JsTensor>, ids: &[i32]) -> Result<Vec<Operand>, JsError> {
    if tensors.len() != ids.len() {
        return Err(JsError::new("GradientTape: internal: tensors and ids differ in count"));
    }
    Ok(tensors
        .into_iter()
        .zip(ids)
        .map(|(t, &id)| if id >= 0 { Operand::Recorded(id as usize) } else { Operand::Constant(t.inner) })
        .collect())
}

/// `[tensor, id]` for the kernel.
fn pair(tape: &GradientTape, id: VarId) -> Result<js_sys::Array, JsError> {
    let t = tape.value(id).map_err(js_err)?.clone();
    Ok(js_sys::Array::of2(&JsTensor { inner: t }.into(), &JsValue::from(id as u32)))
}

#[wasm_bindgen(js_class = GradientTape)]
impl JsGradientTape {
    /// Watch `x`; returns its id on the tape.
    pub fn watch(&self, x: &JsTensor) -> Result<u32, JsError> {
        self.inner.borrow_mut().watch(&x.inner).map(|id| id as u32).map_err(js_err)
    }

    /// The tensor method `method` (with its non-tensor `args` as a list) on `tensors`,
    /// recorded: resolves to `[result, id]`. Takes handles by value.
    pub fn apply(&self, method: &str, tensors: Vec<JsTensor>, ids: Vec<i32>, args: JsValue) -> Result<js_sys::Array, JsError> {
        let op = TapeOp::from_method(method, &json_of(args, method)?).map_err(js_err)?;
        let ops = operands(tensors, &ids)?;
        let mut tape = self.inner.borrow_mut();
        let id = tape.apply(&op, &ops).map_err(|e| js_err(e.context(method.to_string())))?;
        pair(&tape, id)
    }

    /// `model(x)` on the tape: resolves to `[[output, id], ...]`, one pair per output.
    #[wasm_bindgen(js_name = callModel)]
    pub fn call_model(&self, model: &JsModel, tensors: Vec<JsTensor>, ids: Vec<i32>, training: bool) -> Result<js_sys::Promise, JsError> {
        let ops = operands(tensors, &ids)?;
        let (tape, model) = (self.inner.clone(), model.inner.clone());
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            let fail = |e: crate::Error| JsValue::from(js_err(e.context(format!("model \"{}\" on a GradientTape", model.name()))));
            let device = tape.borrow().device().clone();
            model.move_to(&device).await.map_err(fail)?;
            let mut tape = tape.borrow_mut();
            let ids = tape.call_model(&model, &ops, training).map_err(fail)?;
            let pairs = ids.into_iter().map(|id| pair(&tape, id).map(JsValue::from)).collect::<Result<js_sys::Array, JsError>>()?;
            Ok(pairs.into())
        }))
    }

    /// `tape.gradient(target, sources)`: `sourceIds[i]` is a tensor's id, or -1 for the
    /// next of `variables`. One entry per source: a Tensor, or null where the target
    /// does not depend on it.
    pub fn gradient(&self, target: u32, source_ids: Vec<i32>, variables: Vec<JsVariable>) -> Result<js_sys::Array, JsError> {
        let mut vars = variables.into_iter();
        let sources = source_ids
            .iter()
            .map(|&id| match id {
                id if id >= 0 => Ok(Source::Recorded(id as usize)),
                _ => vars.next().map(|v| Source::Weight(v.inner)).ok_or_else(|| JsError::new("GradientTape: internal: a variable is missing")),
            })
            .collect::<Result<Vec<_>, JsError>>()?;
        let grads = self.inner.borrow_mut().gradient(target as usize, &sources).map_err(js_err)?;
        Ok(grads.into_iter().map(|g| g.map_or(JsValue::NULL, |inner| JsTensor { inner }.into())).collect())
    }
}

#[wasm_bindgen(js_class = Engine)]
impl Engine {
    /// A new tape on this engine's device (see `GradientTape`).
    #[wasm_bindgen(js_name = gradientTape)]
    pub fn gradient_tape(&self, persistent: Option<bool>) -> JsGradientTape {
        JsGradientTape { inner: Rc::new(RefCell::new(GradientTape::new(self.device(), persistent.unwrap_or(false)))) }
    }
}
