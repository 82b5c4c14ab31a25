//! Layers and models for JavaScript: `engine.input(shape)`, `engine.layer(class, config)`
//! (the bridge turns these into callables: `layers.Conv2D(32, 3, {...})(x)`),
//! `engine.model(inputs, outputs)`, `summary()`.

use wasm_bindgen::prelude::*;

use super::{js_err, to_js, Engine, JsTensor};
use crate::nn::{input, KerasTensor, Layer, LayerKind, Model};

#[wasm_bindgen(js_name = KerasTensor)]
pub struct JsKerasTensor {
    pub(crate) inner: KerasTensor,
}

#[wasm_bindgen(js_class = KerasTensor)]
impl JsKerasTensor {
    /// Shape with `null` for unknown dimensions.
    #[wasm_bindgen(getter)]
    pub fn shape(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.shape().to_vec())
    }

    #[wasm_bindgen(js_name = toString)]
    pub fn to_string_js(&self) -> String {
        format!("{:?}", self.inner)
    }

    #[wasm_bindgen(js_name = clone)]
    pub fn handle(&self) -> JsKerasTensor {
        JsKerasTensor { inner: self.inner.clone() }
    }
}

#[wasm_bindgen(js_name = Layer)]
pub struct JsLayer {
    pub(crate) inner: Layer,
}

#[wasm_bindgen(js_class = Layer)]
impl JsLayer {
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.name().to_string()
    }

    #[wasm_bindgen(getter, js_name = className)]
    pub fn class_name(&self) -> String {
        self.inner.class_name().to_string()
    }

    #[wasm_bindgen(getter)]
    pub fn trainable(&self) -> bool {
        self.inner.trainable()
    }

    #[wasm_bindgen(setter)]
    pub fn set_trainable(&mut self, on: bool) {
        self.inner.set_trainable(on);
    }

    /// Apply to symbolic tensors. Takes handles by value: the bridge passes clones.
    pub fn apply(&self, inputs: Vec<JsKerasTensor>) -> Result<JsKerasTensor, JsError> {
        let kts: Vec<KerasTensor> = inputs.into_iter().map(|t| t.inner).collect();
        self.inner.call(&kts).map(|inner| JsKerasTensor { inner }).map_err(js_err)
    }

    #[wasm_bindgen(js_name = countParams)]
    pub fn count_params(&self) -> usize {
        self.inner.param_count()
    }

    /// The model, when this layer is a model used as a layer (`getLayer("vgg16")`).
    #[wasm_bindgen(js_name = asModel)]
    pub fn as_model(&self) -> Option<JsModel> {
        self.inner.as_model().map(|m| JsModel { inner: m.clone() })
    }

    /// Keras `get_weights()`: the current values, in Keras order (kernel, then bias, ...).
    #[wasm_bindgen(js_name = getWeights)]
    pub fn get_weights(&self) -> Vec<JsTensor> {
        self.inner.weights().iter().map(|w| JsTensor { inner: w.value() }).collect()
    }

    /// Keras `set_weights(list)`: as many tensors as `getWeights()` returns, each of the
    /// same shape and dtype; nothing changes unless all of them fit.
    #[wasm_bindgen(js_name = setWeights)]
    pub fn set_weights(&self, values: Vec<JsTensor>) -> Result<(), JsError> {
        let owner = format!("layer \"{}\" ({})", self.inner.name(), self.inner.class_name());
        assign_weights(&owner, &self.inner.weights(), values)
    }

    /// Weight names and shapes, in Keras order.
    pub fn weights(&self) -> Result<JsValue, JsError> {
        let list: Vec<(String, Vec<usize>)> = self.inner.weights().iter().map(|w| (w.path.clone(), w.shape())).collect();
        to_js(&list)
    }
}

/// `values` into `weights` (Keras `set_weights`): all of them or, when any count, shape
/// or dtype differs, none; the error names `owner` and every expected shape.
fn assign_weights(owner: &str, weights: &[crate::nn::layer::WeightRef], values: Vec<JsTensor>) -> Result<(), JsError> {
    let expected = || {
        weights
            .iter()
            .map(|w| format!("{} {}", w.path, crate::shape::fmt_shape(&w.shape())))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if values.len() != weights.len() {
        return Err(JsError::new(&format!(
            "{owner}: setWeights got {} tensors, expected {} ({})",
            values.len(),
            weights.len(),
            expected()
        )));
    }
    for (w, v) in weights.iter().zip(&values) {
        let (want, got) = (w.value(), &v.inner);
        if got.shape() != want.shape() || got.dtype() != want.dtype() {
            return Err(JsError::new(&format!(
                "{owner}: setWeights: {} is {} {}, got {} {} (expected {})",
                w.path,
                want.dtype().name(),
                crate::shape::fmt_shape(want.shape()),
                got.dtype().name(),
                crate::shape::fmt_shape(got.shape()),
                expected()
            )));
        }
    }
    for (w, v) in weights.iter().zip(values) {
        // Kept on the weight's device, so a GPU model stays on the GPU.
        let home = w.value().device().clone();
        w.set(v.inner).map_err(js_err)?;
        if home.is_gpu() {
            w.value_on(&home).map_err(js_err)?;
        }
    }
    Ok(())
}

#[wasm_bindgen(js_name = Model)]
pub struct JsModel {
    pub(crate) inner: Model,
}

#[wasm_bindgen(js_class = Model)]
impl JsModel {
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.name().to_string()
    }

    /// The Keras 3 summary table as text.
    pub fn summary(&self) -> String {
        self.inner.summary()
    }

    /// The same summary as data: {name, rows: [{name, class_name, output_shape, params,
    /// connected_to}], connected, total_params, trainable_params, non_trainable_params}.
    #[wasm_bindgen(js_name = summaryData)]
    pub fn summary_data(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.summary_data())
    }

    #[wasm_bindgen(js_name = countParams)]
    pub fn count_params(&self) -> usize {
        self.inner.count_params()
    }

    /// This model as a layer of another (`x = base(x)`, or an entry of a Sequential list).
    #[wasm_bindgen(js_name = asLayer)]
    pub fn as_layer(&self) -> JsLayer {
        JsLayer { inner: self.inner.as_layer() }
    }

    /// Keras `model.trainable`; setting it sets every layer inside, as Keras does.
    #[wasm_bindgen(getter)]
    pub fn trainable(&self) -> bool {
        self.inner.trainable()
    }

    #[wasm_bindgen(setter)]
    pub fn set_trainable(&mut self, on: bool) {
        self.inner.set_trainable(on);
    }

    /// Names of the input layers, in order (for fit's `{name: array}` form).
    #[wasm_bindgen(js_name = inputNames)]
    pub fn input_names(&self) -> Vec<String> {
        self.inner.inputs().iter().map(|t| t.layer().name().to_string()).collect()
    }

    /// Names of the output layers, in order (per-output losses and logs use them).
    #[wasm_bindgen(js_name = outputNames)]
    pub fn output_names(&self) -> Vec<String> {
        self.inner.outputs().iter().map(|t| t.layer().name().to_string()).collect()
    }

    /// Keras `model.get_weights()`: every weight's value, layer by layer in Keras order.
    #[wasm_bindgen(js_name = getWeights)]
    pub fn get_weights(&self) -> Vec<JsTensor> {
        self.inner.weights().iter().map(|w| JsTensor { inner: w.value() }).collect()
    }

    /// Keras `model.set_weights(list)`: as `getWeights()` gives them; nothing changes
    /// unless every tensor fits.
    #[wasm_bindgen(js_name = setWeights)]
    pub fn set_weights(&self, values: Vec<JsTensor>) -> Result<(), JsError> {
        assign_weights(&format!("model \"{}\"", self.inner.name()), &self.inner.weights(), values)
    }

    #[wasm_bindgen(js_name = countTrainableParams)]
    pub fn count_trainable_params(&self) -> usize {
        self.inner.count_trainable_params()
    }

    #[wasm_bindgen(js_name = getLayer)]
    pub fn get_layer(&self, name: &str) -> Result<JsLayer, JsError> {
        self.inner.get_layer(name).map(|inner| JsLayer { inner }).map_err(js_err)
    }

    /// Layer handles in Keras order.
    pub fn layers(&self) -> Vec<JsLayer> {
        self.inner.layers().iter().map(|l| JsLayer { inner: l.clone() }).collect()
    }

    /// Model inputs/outputs as symbolic tensors (to build sub-models).
    pub fn inputs(&self) -> Vec<JsKerasTensor> {
        self.inner.inputs().iter().map(|t| JsKerasTensor { inner: t.clone() }).collect()
    }

    pub fn outputs(&self) -> Vec<JsKerasTensor> {
        self.inner.outputs().iter().map(|t| JsKerasTensor { inner: t.clone() }).collect()
    }

    /// Symbolic output of a named layer (for `keras.Model(model.input, layer.output)`).
    #[wasm_bindgen(js_name = layerOutput)]
    pub fn layer_output(&self, name: &str) -> Result<JsKerasTensor, JsError> {
        let layer = self.inner.get_layer(name).map_err(js_err)?;
        let nodes = layer.0.nodes.borrow();
        let node = nodes.first().ok_or_else(|| JsError::new(&format!("layer \"{name}\" was never called")))?;
        let out = self
            .inner
            .tensor_by_id(node.output_id)
            .ok_or_else(|| JsError::new(&format!("layer \"{name}\" has no output in model \"{}\"", self.inner.name())))?;
        Ok(JsKerasTensor { inner: out })
    }
}

#[wasm_bindgen]
impl Engine {
    /// `keras.Input(shape)` (shape without the batch axis).
    pub fn input(&self, shape: Vec<usize>, name: Option<String>) -> Result<JsKerasTensor, JsError> {
        input(&shape, name.as_deref()).map(|inner| JsKerasTensor { inner }).map_err(js_err)
    }

    /// A layer by Keras class name (or alias) and config object (snake_case or camelCase
    /// keys); `config.name` overrides the automatic name, `config.trainable: false` freezes it.
    pub fn layer(&self, class_name: &str, config: JsValue) -> Result<JsLayer, JsError> {
        let cfg: serde_json::Value = if config.is_undefined() || config.is_null() {
            serde_json::Value::Null
        } else {
            serde_wasm_bindgen::from_value(config).map_err(|e| JsError::new(&format!("{class_name}: bad options: {e}")))?
        };
        let kind = LayerKind::from_config(class_name, &cfg).map_err(js_err)?;
        let name = cfg.get("name").and_then(|n| n.as_str()).map(str::to_string);
        let layer = Layer::new(kind, name.as_deref());
        // Keras's constructor argument, as a model file's flag is read when loading.
        if cfg.get("trainable").and_then(|t| t.as_bool()) == Some(false) {
            layer.set_trainable(false);
        }
        Ok(JsLayer { inner: layer })
    }

    /// Every layer class cells can build, with its positional arguments in Keras's
    /// order: `{Dense: ["units", "activation", "use_bias"], MaxPool2D: [...], ...}`
    /// (aliases included). The bridge builds `layers.X` from this.
    #[wasm_bindgen(js_name = layerSignatures)]
    pub fn layer_signatures(&self) -> Result<JsValue, JsError> {
        let mut all = std::collections::BTreeMap::new();
        for r in crate::nn::layers::registry() {
            for name in r.names {
                all.insert(*name, r.signature);
            }
        }
        to_js(&all)
    }

    /// `keras.Model(inputs, outputs, name)`.
    pub fn model(
        &self,
        inputs: Vec<JsKerasTensor>,
        outputs: Vec<JsKerasTensor>,
        name: Option<String>,
    ) -> Result<JsModel, JsError> {
        let i: Vec<KerasTensor> = inputs.into_iter().map(|t| t.inner).collect();
        let o: Vec<KerasTensor> = outputs.into_iter().map(|t| t.inner).collect();
        let model = Model::new(&i, &o, name.as_deref()).map_err(js_err)?;
        // On this engine's device from the start, so predict does not run on the CPU.
        model.place_on(&self.device).map_err(js_err)?;
        Ok(JsModel { inner: model })
    }

    /// `keras.Sequential(layers)` with a known input shape.
    pub fn sequential(&self, input_shape: Vec<usize>, layers: Vec<JsLayer>, name: Option<String>) -> Result<JsModel, JsError> {
        let ls: Vec<Layer> = layers.into_iter().map(|l| l.inner).collect();
        let model = crate::nn::sequential(&input_shape, &ls, name.as_deref()).map_err(js_err)?;
        model.place_on(&self.device).map_err(js_err)?;
        Ok(JsModel { inner: model })
    }
}

/// Keras's own files (`.keras`, `.h5`): the kernel hands over the bytes, detected by
/// signature; `source` (a file name or URL) is what errors call the file.
#[wasm_bindgen]
impl Engine {
    /// `keras.models.loadModel` for a `.keras` archive or a legacy full-model `.h5`.
    #[wasm_bindgen(js_name = loadKerasModel)]
    pub fn load_keras_model(&self, bytes: &[u8], source: String) -> Result<JsModel, JsError> {
        let model = Model::from_keras_bytes(bytes, &source).map_err(js_err)?;
        // On this engine's device from the start, so predict does not run on the CPU.
        model.to_device(&self.device).map_err(js_err)?;
        Ok(JsModel { inner: model })
    }
}

#[wasm_bindgen(js_class = Model)]
impl JsModel {
    /// `model.loadWeights(src)`: weights from a `.keras`, `.weights.h5` or legacy `.h5`;
    /// nothing changes unless every weight loads.
    #[wasm_bindgen(js_name = loadWeights)]
    pub fn load_weights(&self, bytes: &[u8], source: String) -> Result<(), JsError> {
        let device = self.inner.weights().first().map(|w| w.value().device().clone());
        self.inner.load_weights_bytes(bytes, &source).map_err(js_err)?;
        if let Some(device) = device {
            self.inner.to_device(&device).map_err(js_err)?;
        }
        Ok(())
    }

    /// `model.loadWeights(blob)` for an HDF5 weights file (`.weights.h5`, legacy `.h5`)
    /// in a Blob or File, read by ranges: wasm memory holds the model and the weight being
    /// read, not the file. Only in a worker (where the kernel runs).
    #[wasm_bindgen(js_name = loadWeightsBlob)]
    pub fn load_weights_blob(&self, blob: web_sys::Blob, source: String) -> Result<(), JsError> {
        let device = self.inner.weights().first().map(|w| w.value().device().clone());
        let reader = super::blob_reader::BlobReader::new(blob)
            .map_err(|_| JsError::new(&format!("{source}: a Blob is read by ranges only in a worker; pass its bytes")))?;
        self.inner.load_weights_reader(reader, &source).map_err(js_err)?;
        if let Some(device) = device {
            self.inner.to_device(&device).map_err(js_err)?;
        }
        Ok(())
    }

    /// Resolves to the model as a `.keras` archive (Uint8Array; weights read back from the GPU).
    #[wasm_bindgen(js_name = toKeras)]
    pub fn to_keras(&self) -> js_sys::Promise {
        let model = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let bytes = model
                .to_keras()
                .await
                .map_err(|e| JsValue::from(js_err(e.context(format!("saving model \"{}\"", model.name())))))?;
            Ok(js_sys::Uint8Array::from(bytes.as_slice()).into())
        })
    }
}
