//! Model weights as handles for custom training steps: `model.trainableWeights` lists
//! `Variable`s (Keras's), and an optimizer's `applyGradients` updates them with the
//! same update rules and slot state as `fit`.

use wasm_bindgen::prelude::*;

use super::models::{JsLayer, JsModel};
use super::{js_err, json_of, Engine, JsTensor};
use crate::nn::layer::WeightRef;
use crate::nn::optimizers::{optimizer_from_value, Optimizer};
use crate::tensor::Tensor;

/// A layer's weight (Keras `Variable`): `name` ("conv2d/kernel"), `shape`, `trainable`,
/// `value()`, `assign(tensor)`.
#[wasm_bindgen(js_name = Variable)]
pub struct JsVariable {
    pub(crate) inner: WeightRef,
}

#[wasm_bindgen(js_class = Variable)]
impl JsVariable {
    /// Keras's path, "layer_name/kernel".
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.path.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn shape(&self) -> Vec<u32> {
        self.inner.shape().iter().map(|&d| d as u32).collect()
    }

    #[wasm_bindgen(getter)]
    pub fn trainable(&self) -> bool {
        self.inner.trainable
    }

    /// The current value.
    pub fn value(&self) -> JsTensor {
        JsTensor { inner: self.inner.value() }
    }

    /// Replace the value (same shape).
    pub fn assign(&self, value: &JsTensor) -> Result<(), JsError> {
        self.inner.set(value.inner.clone()).map_err(js_err)
    }

    /// Another handle to the same weight.
    #[wasm_bindgen(js_name = clone)]
    pub fn handle(&self) -> JsVariable {
        JsVariable { inner: self.inner.clone() }
    }

    #[wasm_bindgen(js_name = toString)]
    pub fn to_string_js(&self) -> String {
        format!("Variable({} {})", self.inner.path, crate::shape::fmt_shape(&self.inner.shape()))
    }
}

fn handles(ws: Vec<WeightRef>) -> Vec<JsVariable> {
    ws.into_iter().map(|inner| JsVariable { inner }).collect()
}

#[wasm_bindgen(js_class = Model)]
impl JsModel {
    /// Keras `model.trainable_weights`: what gradient descent updates (frozen layers left out).
    #[wasm_bindgen(js_name = trainableVariables)]
    pub fn trainable_variables(&self) -> Vec<JsVariable> {
        handles(self.inner.trainable_weights())
    }

    /// Keras `model.weights`: every weight, trainable or not.
    pub fn variables(&self) -> Vec<JsVariable> {
        handles(self.inner.weights())
    }
}

#[wasm_bindgen(js_class = Layer)]
impl JsLayer {
    /// The layer's weights as handles, in Keras order.
    pub fn variables(&self) -> Vec<JsVariable> {
        handles(self.inner.weights())
    }
}

/// An optimizer with its state (Adam's moments, the step count), for custom training
/// steps: `keras.optimizers.Adam(...).applyGradients(pairs)`.
#[wasm_bindgen(js_name = OptimizerState)]
pub struct JsOptimizer {
    inner: Optimizer,
    device: crate::Device,
}

#[wasm_bindgen(js_class = OptimizerState)]
impl JsOptimizer {
    /// One update: `grads[i]` for `variables[i]` (the kernel leaves out pairs whose
    /// gradient is null, as Keras skips them). Takes handles by value.
    pub fn apply(&mut self, grads: Vec<JsTensor>, variables: Vec<JsVariable>) -> Result<(), JsError> {
        if grads.len() != variables.len() {
            return Err(JsError::new(&format!("applyGradients: {} gradients for {} variables", grads.len(), variables.len())));
        }
        let weights: Vec<WeightRef> = variables.into_iter().map(|v| v.inner).collect();
        let mut gs: Vec<Option<Tensor>> = Vec::with_capacity(grads.len());
        for (g, w) in grads.into_iter().zip(&weights) {
            let t = g.inner;
            if t.shape() != w.shape().as_slice() {
                return Err(JsError::new(&format!(
                    "applyGradients: the gradient for {} has shape {}, the variable {}",
                    w.path,
                    crate::shape::fmt_shape(t.shape()),
                    crate::shape::fmt_shape(&w.shape())
                )));
            }
            // Weights may still be host tensors (a model never run); the update runs
            // on the engine's device.
            w.value_on(&self.device).map_err(js_err)?;
            let t = if t.device().same(&self.device) {
                t
            } else {
                Tensor::from_data(&self.device, t.cpu_data().map_err(js_err)?.clone(), t.shape()).map_err(js_err)?
            };
            gs.push(Some(t));
        }
        self.inner.apply(&weights, &gs).map_err(js_err)
    }

    /// Steps taken (Keras `optimizer.iterations`).
    #[wasm_bindgen(getter)]
    pub fn iterations(&self) -> usize {
        self.inner.iterations
    }
}

#[wasm_bindgen(js_class = Engine)]
impl Engine {
    /// The state of an optimizer given as `{class_name, config}` (what
    /// `keras.optimizers.Adam(...)` returns).
    #[wasm_bindgen(js_name = optimizerState)]
    pub fn optimizer_state(&self, config: JsValue) -> Result<JsOptimizer, JsError> {
        let config = optimizer_from_value(&json_of(config, "optimizer")?).map_err(js_err)?;
        Ok(JsOptimizer { inner: Optimizer::new(config), device: self.device().clone() })
    }
}
