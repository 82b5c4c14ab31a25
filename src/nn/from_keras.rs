//! Build a model from Keras's own files: a Keras 3 `.keras` archive or a legacy `.h5`
//! (full model), and load weights from either or from a weights-only `.h5`
//! (`model.save_weights("x.weights.h5")`, or the legacy layout of the official
//! keras.applications weight files).
//!
//! Architecture: `config.json` (Keras 3 serialization) or the `model_config` attribute is
//! read by the same topology reader as TF.js files, after dropping the Keras 3 keys that
//! only say where a class lives (`module`, `registered_name`), as the TF.js converter does.
//!
//! A compiled `.keras` also restores the optimizer: its class and hyper-parameters from
//! `compile_config`, its step count and slots from `optimizer/vars` (see
//! `nn::keras_optimizer_vars`).
//!
//! Weights, two layouts:
//! - Keras 3 (`model.weights.h5`, `*.weights.h5`): `layers/<key>/vars/<i>`, nested models as
//!   `layers/<key>/layers/...`. `<key>` is the layer's class in snake case, numbered per
//!   model in layer order (`dense`, `dense_1`); recent Keras also stores the layer's name
//!   as the `name` attribute of `vars`, which is preferred when present.
//! - legacy (`model_weights/` in a full `.h5`, or the root of a weights file): the
//!   `layer_names` attribute lists layers, each group's `weight_names` its weights.
//!   Layers with weights are matched by name (by position, as Keras does, when the names
//!   are not all ours), and a layer's weights by their names in `weight_names`
//!   (`block1_conv/kernel:0` inside a nested model's group, as tf.keras 2 writes them),
//!   else by position in Keras's legacy order (trainable weights, then the others).

use std::collections::HashMap;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::io::hdf5::{H5Dataset, H5File, H5Group};
use crate::io::keras_file::{KerasArchive, ModelFormat};
use crate::io::tfjs::Topology;
use crate::nn::layer::{Layer, WeightRef};
use crate::nn::model::Model;
use crate::tensor::{DType, Tensor};
use crate::{bail, ensure, Device};

/// The keys Keras 3 adds to every serialized object that say where its class lives; the
/// layer registry finds classes by name.
const V3_ONLY_KEYS: [&str; 3] = ["module", "registered_name", "date_saved"];

fn discard_v3_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !V3_ONLY_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), discard_v3_keys(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(discard_v3_keys).collect()),
        other => other.clone(),
    }
}

/// A Keras 3 `compile_config` in the shape of the legacy `training_config` that
/// `Model::compile_from` reads (the same facts under other keys).
fn training_config_of(compile: &Value) -> Value {
    serde_json::json!({
        "loss": compile.get("loss").cloned().unwrap_or(Value::Null),
        "metrics": compile.get("metrics").cloned().unwrap_or(Value::Null),
        "loss_weights": compile.get("loss_weights").cloned().unwrap_or(Value::Null),
        "optimizer_config": compile.get("optimizer").cloned().unwrap_or(Value::Null),
    })
}

/// Keras's `naming.to_snake_case` (the key a layer's weights have in a Keras 3 file).
pub(crate) fn snake_case(class_name: &str) -> String {
    let chars: Vec<char> = class_name.chars().filter(|c| c.is_alphanumeric() || *c == '_').collect();
    // (.)([A-Z][a-z]+) -> \1_\2
    let mut first = String::new();
    let mut i = 0;
    while i < chars.len() {
        first.push(chars[i]);
        if i + 2 < chars.len() && chars[i + 1].is_ascii_uppercase() && chars[i + 2].is_ascii_lowercase() {
            first.push('_');
            let mut j = i + 1;
            first.push(chars[j]);
            j += 1;
            while j < chars.len() && chars[j].is_ascii_lowercase() {
                first.push(chars[j]);
                j += 1;
            }
            i = j;
            continue;
        }
        i += 1;
    }
    // ([a-z])([A-Z]) -> \1_\2
    let chars: Vec<char> = first.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        out.push(chars[i]);
        if i + 1 < chars.len() && chars[i].is_ascii_lowercase() && chars[i + 1].is_ascii_uppercase() {
            out.push('_');
            out.push(chars[i + 1]);
            i += 2;
            continue;
        }
        i += 1;
    }
    out.to_lowercase()
}

/// The Keras 3 file key of each layer of a model, in layer order (`dense`, `dense_1`, ...).
/// `nested_class` overrides the class of nested models (the writer saves them all as
/// `Functional`).
pub(crate) fn layer_keys(layers: &[Layer], nested_class: Option<&'static str>) -> Vec<String> {
    let mut used: HashMap<String, usize> = HashMap::new();
    layers
        .iter()
        .map(|l| {
            let class = match l.as_model() {
                Some(m) => nested_class.unwrap_or(m.class_name()),
                None => l.class_name(),
            };
            let base = snake_case(class);
            match used.get_mut(&base) {
                Some(n) => {
                    *n += 1;
                    format!("{base}_{n}")
                }
                None => {
                    used.insert(base.clone(), 0);
                    base
                }
            }
        })
        .collect()
}

/// Prefixes the file's name to an error that does not already say it.
fn naming(name: &str) -> impl Fn(Error) -> Error + '_ {
    move |e: Error| if e.message().contains(name) { e } else { e.context(name.to_string()) }
}

fn set_weight(w: &WeightRef, shape: &[usize], data: crate::tensor::CpuData, what: &str) -> Result<()> {
    w.set(Tensor::from_data(&Device::Cpu, data, shape)?.cast(DType::F32)?).map_err(|e| e.context(what.to_string()))
}

/// A weight of the model and the dataset of the file that holds its value.
struct Assignment<'a> {
    weight: WeightRef,
    dataset: H5Dataset<'a>,
    /// The dataset's path, for errors.
    what: String,
}

/// Reads each dataset and assigns it, one weight at a time, so a load holds the model
/// plus one weight being read, never the file's weights twice over. Every shape is
/// checked before anything is read, and a read that fails halfway puts back the values
/// assigned so far: nothing changes unless every weight loads.
fn assign_all(assignments: Vec<Assignment<'_>>) -> Result<()> {
    for a in &assignments {
        let ours = a.weight.shape();
        ensure!(
            a.dataset.shape == ours,
            "{}: {}: cannot assign a value of shape {} to a weight of shape {}",
            a.what,
            a.weight.path,
            crate::shape::fmt_shape(&a.dataset.shape),
            crate::shape::fmt_shape(&ours)
        );
    }
    let saved: Vec<_> = assignments.iter().map(|a| a.weight.saved()).collect();
    for a in &assignments {
        let loaded = a.dataset.read().and_then(|array| set_weight(&a.weight, &array.shape, array.data, &a.what));
        if let Err(e) = loaded {
            for (a, value) in assignments.iter().zip(saved) {
                a.weight.restore(value);
            }
            return Err(e);
        }
    }
    Ok(())
}

impl Model {
    /// A model from a Keras 3 `config.json` or a legacy `model_config`, with fresh weights
    /// (none drawn at random: the caller loads them).
    pub fn from_keras_config(config: &Value) -> Result<Model> {
        let topology = Topology::from_json(&discard_v3_keys(config))?;
        crate::nn::layer::deferring_init(|| Model::from_topology(&topology))
    }

    /// `keras.models.load_model` for `.keras` and legacy `.h5` bytes; `name` (a file name
    /// or URL) is what errors call the file.
    pub fn from_keras_bytes(bytes: &[u8], name: &str) -> Result<Model> {
        match ModelFormat::detect(bytes) {
            Some(ModelFormat::KerasArchive) => {
                let archive = KerasArchive::from_bytes(bytes, name)?;
                let model = Model::from_keras_config(&archive.config).map_err(naming(&format!("{name}: config.json")))?;
                let weights = H5File::from_bytes(archive.weights_h5, &format!("{name}: model.weights.h5"))?;
                model.load_keras3_weights(&weights.root()).map_err(naming(name))?;
                // Compiled as it was saved, when this engine can read the settings, with
                // the optimizer's state (Keras's next training step continues from it).
                if let Some(compile) = archive.config.get("compile_config").filter(|c| c.is_object()) {
                    if model.compile_from(&training_config_of(&discard_v3_keys(compile))).is_ok() {
                        model.load_optimizer_vars(&weights.root()).map_err(naming(name))?;
                    }
                }
                Ok(model)
            }
            Some(ModelFormat::Hdf5) => {
                let file = H5File::from_bytes(bytes.to_vec(), name)?;
                let root = file.root();
                let Some(config) = root.attr_string("model_config")? else {
                    bail!(
                        "{name}: holds weights only (no model_config); build the architecture, then load the weights into it"
                    )
                };
                let config: Value = serde_json::from_str(&config)
                    .map_err(|e| Error::new(format!("{name}: model_config is not valid JSON: {e}")))?;
                let model = Model::from_keras_config(&config).map_err(naming(&format!("{name}: model_config")))?;
                let weights = if root.has_group("model_weights") { root.group("model_weights")? } else { root };
                model.load_legacy_weights(&weights).map_err(naming(name))?;
                // Compiled as it was saved, when this engine can read the settings.
                if let Some(training) = file.root().attr_string("training_config")? {
                    if let Ok(training) = serde_json::from_str::<Value>(&training) {
                        let _ = model.compile_from(&discard_v3_keys(&training));
                    }
                }
                Ok(model)
            }
            Some(ModelFormat::TfjsJson) => {
                bail!("{name}: is a TF.js model.json; it is loaded with its weight shards, not as a Keras file")
            }
            None => Err(ModelFormat::unknown(name, bytes)),
        }
    }

    /// `model.load_weights(file)` for a `.keras` archive, a Keras 3 `.weights.h5`, a legacy
    /// full-model `.h5` or a legacy weights `.h5`.
    pub fn load_weights_bytes(&self, bytes: &[u8], name: &str) -> Result<()> {
        let loaded = match ModelFormat::detect(bytes) {
            Some(ModelFormat::KerasArchive) => {
                let archive = KerasArchive::from_bytes(bytes, name)?;
                let weights = H5File::from_bytes(archive.weights_h5, &format!("{name}: model.weights.h5"))?;
                self.load_keras3_weights(&weights.root())
            }
            Some(ModelFormat::Hdf5) => self.load_h5_weights(&H5File::from_bytes(bytes.to_vec(), name)?, name),
            Some(ModelFormat::TfjsJson) => bail!("{name}: is a TF.js model.json; load it with its weight shards"),
            None => Err(ModelFormat::unknown(name, bytes)),
        };
        loaded.map_err(naming(name))
    }

    /// `model.load_weights(file)` for an HDF5 weights file (Keras 3 `.weights.h5`, legacy
    /// `.h5`) read through `reader` by ranges: only the file's metadata and the weight
    /// being read are in memory, never the whole file (in the browser, the reader reads
    /// a Blob kept on disk by Cache Storage or a picked File).
    pub fn load_weights_reader<R>(&self, reader: R, name: &str) -> Result<()>
    where
        R: std::io::Read + std::io::Seek + Send + 'static,
    {
        let source = hdf5_pure::ReadSeekSource::new(reader)
            .map_err(|e| Error::new(format!("{name}: cannot be read ({e})")))?;
        let file = H5File::from_source(source, name)?;
        self.load_h5_weights(&file, name).map_err(naming(name))
    }

    fn load_h5_weights(&self, file: &H5File, name: &str) -> Result<()> {
        let root = file.root();
        if root.has_group("layers") {
            self.load_keras3_weights(&root)
        } else if root.has_group("model_weights") {
            self.load_legacy_weights(&root.group("model_weights")?)
        } else if root.attr_strings("layer_names")?.is_some() {
            self.load_legacy_weights(&root)
        } else {
            bail!("{name}: an HDF5 file but not Keras weights (no layers group, model_weights group or layer_names attribute)")
        }
    }

    /// Keras 3 layout: `layers/<key>/vars/<i>` under `group`, nested models recursively.
    pub fn load_keras3_weights(&self, group: &H5Group<'_>) -> Result<()> {
        let mut assignments = Vec::new();
        self.collect_keras3(group, &mut assignments)?;
        assign_all(assignments)
    }

    fn collect_keras3<'a>(&self, group: &H5Group<'a>, out: &mut Vec<Assignment<'a>>) -> Result<()> {
        ensure!(group.has_group("layers"), "{}: no \"layers\" group (not Keras 3 weights)", group.path());
        let layers = group.group("layers")?;
        // Layer name -> key, from the `name` attribute recent Keras writes.
        let mut by_name: HashMap<String, String> = HashMap::new();
        for key in layers.groups()? {
            let sub = layers.group(&key)?;
            if sub.has_group("vars") {
                if let Some(name) = sub.group("vars")?.attr_string("name")? {
                    by_name.insert(name, key);
                }
            }
        }
        let keys = layer_keys(self.layers(), None);
        for (layer, key) in self.layers().iter().zip(keys) {
            let key = by_name.get(layer.name()).cloned().unwrap_or(key);
            let ours = layer.weights();
            if ours.is_empty() {
                continue;
            }
            ensure!(
                layers.has_group(&key),
                "layer \"{}\" ({}) has {} weights but the file has no group {}/{key}",
                layer.name(),
                layer.class_name(),
                ours.len(),
                layers.path()
            );
            let sub = layers.group(&key)?;
            if let Some(model) = layer.as_model() {
                model.collect_keras3(&sub, out).map_err(|e| e.context(format!("nested model \"{}\"", layer.name())))?;
                continue;
            }
            let vars = sub.group("vars")?;
            let stored = vars.datasets()?;
            ensure!(
                stored.len() == ours.len(),
                "layer \"{}\" ({}) has {} weights but {} holds {} ({})",
                layer.name(),
                layer.class_name(),
                ours.len(),
                vars.path(),
                stored.len(),
                stored.join(", ")
            );
            for (i, w) in ours.iter().enumerate() {
                let dataset = vars.dataset(&i.to_string())?;
                out.push(Assignment { weight: w.clone(), dataset, what: format!("{}/{i}", vars.path()) });
            }
        }
        Ok(())
    }

    /// Keras's legacy order of a layer's weights: trainable ones first, then the rest.
    fn legacy_order(layer: &Layer) -> Vec<WeightRef> {
        let all = layer.weights();
        let trainable: Vec<WeightRef> = match (layer.trainable(), layer.as_model()) {
            (false, _) => vec![],
            (true, Some(m)) => m.trainable_weights(),
            (true, None) => all.iter().filter(|w| w.trainable).cloned().collect(),
        };
        let rest = all.iter().filter(|w| !trainable.iter().any(|t| std::rc::Rc::ptr_eq(t, w))).cloned();
        trainable.iter().cloned().chain(rest).collect()
    }

    /// Legacy layout: `layer_names` on `group`, `<layer>/<weight_name>` datasets.
    pub fn load_legacy_weights(&self, group: &H5Group<'_>) -> Result<()> {
        let names = group
            .attr_strings("layer_names")?
            .ok_or_else(|| Error::new(format!("{}: no layer_names attribute (not Keras weights)", group.path())))?;
        let mut saved = Vec::new();
        for name in &names {
            let layer_group = group.group(name)?;
            let weight_names = layer_group.attr_strings("weight_names")?.unwrap_or_default();
            if !weight_names.is_empty() {
                saved.push((name.clone(), layer_group, weight_names));
            }
        }
        let mut ours: Vec<&Layer> = self.layers().iter().filter(|l| !l.weights().is_empty()).collect();
        ensure!(
            ours.len() == saved.len(),
            "the model has {} layers with weights but the file has {} ({} vs {})",
            ours.len(),
            saved.len(),
            ours.iter().map(|l| l.name()).collect::<Vec<_>>().join(", "),
            saved.iter().map(|s| s.0.as_str()).collect::<Vec<_>>().join(", ")
        );
        // Keras matches layers by position. When every saved name is a layer of ours,
        // names decide instead: the order of layers that are not on one chain (a shared
        // layer, a branch) is the builder's choice and may differ between engines.
        let named: Option<Vec<&Layer>> =
            saved.iter().map(|(name, _, _)| ours.iter().find(|l| l.name() == name).copied()).collect();
        if let Some(named) = named {
            ours = named;
        }
        let mut assignments = Vec::new();
        for (layer, (saved_name, layer_group, weight_names)) in ours.iter().zip(&saved) {
            let weights = Self::legacy_order(layer);
            for (w, weight_name) in pair_legacy_weights(layer, &weights, saved_name, layer_group, weight_names)? {
                let dataset = layer_group.dataset(weight_name)?;
                assignments.push(Assignment { weight: w, dataset, what: format!("{}/{weight_name}", layer_group.path()) });
            }
        }
        assign_all(assignments)
    }
}

/// `<layer>/<variable>` of a weight name in any writer's spelling: Keras 2's
/// `dense/kernel:0` (a nested model's `block1_conv/kernel:0`, or with the outer model's
/// scope, `model/dense/kernel:0`), Keras 3's `inner/inner_dense/kernel`, ours
/// `dense/kernel`.
fn weight_key(name: &str) -> &str {
    let name = match name.rsplit_once(':') {
        Some((stem, index)) if !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) => stem,
        _ => name,
    };
    match name.rmatch_indices('/').nth(1) {
        Some((slash, _)) => &name[slash + 1..],
        None => name,
    }
}

/// Which file weight goes to which of a layer's weights (`weights` in legacy order). By
/// name when the file's `weight_names` name exactly this layer's weights (Keras 2 names
/// them after the layer that owns them, nested models' layers included), so their order
/// and the trainable flags that decide it do not matter; otherwise by position, as
/// Keras's own loader does (files whose names predate the layers' current names).
fn pair_legacy_weights<'w>(
    layer: &Layer,
    weights: &[WeightRef],
    saved_name: &str,
    group: &H5Group<'_>,
    weight_names: &'w [String],
) -> Result<Vec<(WeightRef, &'w String)>> {
    let by_name: HashMap<&str, &'w String> = weight_names.iter().map(|n| (weight_key(n), n)).collect();
    let named: Option<Vec<(WeightRef, &String)>> =
        weights.iter().map(|w| by_name.get(weight_key(&w.path)).map(|n| (w.clone(), *n))).collect();
    match named {
        Some(pairs) if by_name.len() == weight_names.len() && pairs.len() == weight_names.len() => return Ok(pairs),
        _ => {}
    }
    if weights.len() == weight_names.len() {
        return Ok(weights.iter().cloned().zip(weight_names).collect());
    }
    // Neither fits: name what is missing when the names say it.
    let missing: Vec<&str> = weights.iter().map(|w| weight_key(&w.path)).filter(|k| !by_name.contains_key(k)).collect();
    if !missing.is_empty() && missing.len() < weights.len() {
        bail!(
            "layer \"{}\" ({}): the file has no weight {} in {} (it holds {})",
            layer.name(),
            layer.class_name(),
            missing.join(", "),
            group.path(),
            weight_names.join(", ")
        );
    }
    bail!(
        "layer \"{}\" ({}) has {} weights but the file's layer \"{saved_name}\" has {} ({})",
        layer.name(),
        layer.class_name(),
        weights.len(),
        weight_names.len(),
        weight_names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::{snake_case, weight_key};

    #[test]
    fn weight_keys_of_every_writer_agree() {
        for (name, key) in [
            ("dense/kernel:0", "dense/kernel"),
            ("block1_conv/bias:0", "block1_conv/bias"),
            ("model/dense/kernel:0", "dense/kernel"),
            ("inner/inner_dense/kernel", "inner_dense/kernel"),
            ("bn/moving_mean", "bn/moving_mean"),
            ("dense_1_W", "dense_1_W"),
        ] {
            assert_eq!(weight_key(name), key, "{name}");
        }
    }

    #[test]
    fn snake_case_matches_keras() {
        for (class, key) in [
            ("Conv2D", "conv2d"),
            ("ReLU", "re_lu"),
            ("BatchNormalization", "batch_normalization"),
            ("GlobalAveragePooling2D", "global_average_pooling2d"),
            ("InputLayer", "input_layer"),
            ("SeparableConv2D", "separable_conv2d"),
            ("Functional", "functional"),
            ("ZeroPadding2D", "zero_padding2d"),
            ("Conv2DTranspose", "conv2d_transpose"),
        ] {
            assert_eq!(snake_case(class), key, "{class}");
        }
    }
}
