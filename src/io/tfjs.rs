//! TensorFlow.js *layers* models: `model.json` (a Keras topology plus a weights manifest)
//! and the binary shard files it lists.
//!
//! Reading ([`TfjsModel::from_parts`]) turns the topology into a flat list of
//! [`LayerSpec`]s, whatever its style:
//!
//! - Keras 2 functional (`"class_name": "Model"` or `"Functional"`), inbound nodes as
//!   `[[["layer", node, tensor, {kwargs}], ...], ...]`;
//! - Keras 3 functional, inbound nodes as `[{"args": [...], "kwargs": {...}}]` whose
//!   tensors are `{"class_name": "__keras_tensor__", "config": {"keras_history": [layer, node, tensor]}}`;
//! - Sequential (Keras 1/2/3: `config` a list or `{"layers": [...]}`), turned into the same
//!   list with each layer fed by the one before; when the first layer is not an
//!   `InputLayer`, one named `<first layer>_input` is synthesized from its
//!   `batch_input_shape`/`batch_shape` (or the model's `build_input_shape`).
//!
//! The topology may sit directly under `modelTopology` or under `modelTopology.model_config`.
//!
//! Weights are decoded group by group: the group's shards are concatenated in manifest
//! order and cut into the listed weights, whose sizes are checked against their shapes.
//! `float32`, `int32`, `bool` and `uint8` are read as they are; quantized weights
//! (`quantization: {dtype: "uint8" | "uint16", scale, min}` and `{dtype: "float16"}`) are
//! dequantized the way TF.js does (`q * scale + min` in double precision, rounded to the
//! weight's dtype). That needs serde_json's `float_roundtrip` feature (enabled in
//! Cargo.toml): its default float parsing can be one ulp off, which shifts a dequantized
//! value that TF.js computes as exactly 0 to -2e-16.
//!
//! Writing ([`TfjsModel::to_parts`]) produces a Keras-2-style layers model that TF.js
//! loads: a Sequential when the layers form a plain chain from an `InputLayer`, else a
//! functional model, every weight in one shard `group1-shard1of1.bin`. Layer configs are
//! written as they are, so a model read from Keras 3 keeps its Keras 3 layer configs
//! (which TF.js itself may not understand).

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::io::npy::f16_to_f32;
use crate::shape::fmt_shape;
use crate::tensor::CpuData;
use crate::{bail, ensure};

/// A tensor in the graph: (layer name, node index, tensor index), as Keras writes it.
pub type TensorRef = (String, usize, usize);

/// The name `to_parts` gives the single weight shard.
pub(crate) const SHARD_NAME: &str = "group1-shard1of1.bin";

/// One layer of the topology.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerSpec {
    /// Keras class: "Conv2D", "InputLayer", ...
    pub class_name: String,
    /// The layer's unique name within its model.
    pub name: String,
    /// The layer's `config` object, untouched (Keras 2 or Keras 3 style).
    pub config: Value,
    /// One entry per call of the layer (a "node"); each lists the tensors of that call in
    /// order. Input layers have none. For Keras 3 nodes, the tensors found in `args`
    /// come first (depth first), then those in `kwargs`.
    pub inbound: Vec<Vec<TensorRef>>,
    /// Keyword arguments of each call, `{}` when there were none (same length as `inbound`).
    pub inbound_kwargs: Vec<Value>,
}

impl LayerSpec {
    /// Whether this is an `InputLayer`.
    pub fn is_input(&self) -> bool {
        self.class_name == "InputLayer"
    }

    /// `batch_input_shape` (Keras 2) or `batch_shape` (Keras 3) from the config, `None`
    /// entries for unknown dimensions.
    pub fn batch_input_shape(&self) -> Option<Vec<Option<usize>>> {
        let config = self.config.as_object()?;
        let shape = config.get("batch_input_shape").or_else(|| config.get("batch_shape"))?;
        parse_batch_shape(shape)
    }

    /// The nested model when this layer is one (a Sequential or functional model used as
    /// a layer).
    pub fn as_model(&self) -> Option<Result<Topology>> {
        matches!(self.class_name.as_str(), "Sequential" | "Model" | "Functional")
            .then(|| Topology::from_json(&json!({"class_name": self.class_name, "config": self.config})))
            .map(|r| r.map_err(|e| e.context(format!("nested model layer '{}'", self.name))))
    }
}

/// A model's graph: layers in file order plus the model's inputs and outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Topology {
    /// "Sequential", "Model" or "Functional" as the file says.
    pub class_name: String,
    /// The model's name.
    pub name: String,
    /// Every layer, in file order.
    pub layers: Vec<LayerSpec>,
    /// The model's inputs.
    pub input_layers: Vec<TensorRef>,
    /// The model's outputs.
    pub output_layers: Vec<TensorRef>,
}

/// A decoded weight: `data` holds `shape`'s elements in C order.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedWeight {
    /// As in the manifest, usually `<layer>/<weight>` ("conv2d/kernel").
    pub name: String,
    /// Tensor shape.
    pub shape: Vec<usize>,
    /// The values, in C order.
    pub data: CpuData,
}

impl NamedWeight {
    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A TF.js layers model: topology, weights and the metadata around them.
#[derive(Clone, Debug, PartialEq)]
pub struct TfjsModel {
    /// "Sequential", "Model" or "Functional" as the file says.
    pub class_name: String,
    /// The model's name.
    pub name: String,
    /// Every layer, in file order.
    pub layers: Vec<LayerSpec>,
    /// The model's inputs.
    pub input_layers: Vec<TensorRef>,
    /// The model's outputs.
    pub output_layers: Vec<TensorRef>,
    /// In manifest order.
    pub weights: Vec<NamedWeight>,
    /// `modelTopology.keras_version` ("2.2.4", "3.15.1").
    pub keras_version: Option<String>,
    /// `modelTopology.backend` ("tensorflow").
    pub backend: Option<String>,
    /// `generatedBy` / `convertedBy` at the top of model.json.
    pub(crate) generated_by: Option<String>,
    pub(crate) converted_by: Option<String>,
    /// `modelTopology.training_config`, untouched.
    pub training_config: Option<Value>,
    /// `userDefinedMetadata`, untouched.
    pub(crate) user_defined_metadata: Option<Value>,
}

// ---------------------------------------------------------------------------------------
// Reading

impl TfjsModel {
    /// Parse `model.json` and decode the weights, asking `fetch_shard` for each shard path
    /// listed in the manifest (paths as written there, relative to model.json).
    pub fn from_parts(model_json: &str, mut fetch_shard: impl FnMut(&str) -> Result<Vec<u8>>) -> Result<TfjsModel> {
        let root = parse_model_json(model_json)?;
        let topo_value = root
            .get("modelTopology")
            .filter(|v| !v.is_null())
            .ok_or_else(|| Error::new("model.json: no modelTopology (a weights-only manifest is not a model)"))?;
        ensure!(
            topo_value.get("node").is_none(),
            "model.json: this is a TF.js graph model (its topology is a TensorFlow GraphDef); only layers models can be read"
        );
        let (model_config, keras_version, backend, training_config) = match topo_value.get("model_config") {
            Some(config) => (
                config,
                topo_value
                    .get("keras_version")
                    .and_then(Value::as_str)
                    .map(String::from),
                topo_value.get("backend").and_then(Value::as_str).map(String::from),
                topo_value.get("training_config").filter(|v| !v.is_null()).cloned(),
            ),
            None => (topo_value, None, None, None),
        };
        let topology = Topology::from_json(model_config).map_err(|e| e.context("model.json: modelTopology"))?;
        let groups = parse_manifest(&root)?;
        let mut weights = Vec::new();
        for (g, group) in groups.iter().enumerate() {
            weights.extend(decode_group(g, group, &mut fetch_shard)?);
        }
        let mut seen = std::collections::HashSet::new();
        for w in &weights {
            ensure!(
                seen.insert(w.name.as_str()),
                "model.json: weight '{}' appears twice in the manifest",
                w.name
            );
        }
        Ok(TfjsModel {
            class_name: topology.class_name,
            name: topology.name,
            layers: topology.layers,
            input_layers: topology.input_layers,
            output_layers: topology.output_layers,
            weights,
            keras_version,
            backend,
            generated_by: root.get("generatedBy").and_then(Value::as_str).map(String::from),
            converted_by: root.get("convertedBy").and_then(Value::as_str).map(String::from),
            training_config,
            user_defined_metadata: root.get("userDefinedMetadata").filter(|v| !v.is_null()).cloned(),
        })
    }

    /// The shard paths model.json lists, in the order `from_parts` will ask for them
    /// (for callers that must fetch them asynchronously first).
    pub fn shard_paths(model_json: &str) -> Result<Vec<String>> {
        let root = parse_model_json(model_json)?;
        Ok(parse_manifest(&root)?.into_iter().flat_map(|g| g.paths).collect())
    }

    /// Read `model.json` and the shards beside it.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<TfjsModel> {
        let path = path.as_ref();
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::new(format!("{}: cannot read: {e}", path.display())))?;
        let dir = path.parent().unwrap_or_else(|| std::path::Path::new("."));
        TfjsModel::from_parts(&text, |shard| {
            let shard_path = dir.join(shard);
            std::fs::read(&shard_path).map_err(|e| Error::new(format!("cannot read {}: {e}", shard_path.display())))
        })
        .map_err(|e| e.context(path.display()))
    }

    /// Write `model.json` and `group1-shard1of1.bin` into `dir` (created if missing).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn save(&self, dir: impl AsRef<std::path::Path>) -> Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::new(format!("{}: cannot create: {e}", dir.display())))?;
        let (model_json, shards) = self.to_parts();
        let write = |name: &str, bytes: &[u8]| {
            let p = dir.join(name);
            std::fs::write(&p, bytes).map_err(|e| Error::new(format!("{}: cannot write: {e}", p.display())))
        };
        write("model.json", model_json.as_bytes())?;
        for (name, bytes) in &shards {
            write(name, bytes)?;
        }
        Ok(())
    }

    /// A model from a graph and its weights (what an engine saves), without metadata.
    pub fn new(topology: Topology, weights: Vec<NamedWeight>) -> TfjsModel {
        TfjsModel {
            class_name: topology.class_name,
            name: topology.name,
            layers: topology.layers,
            input_layers: topology.input_layers,
            output_layers: topology.output_layers,
            weights,
            keras_version: None,
            backend: None,
            generated_by: None,
            converted_by: None,
            training_config: None,
            user_defined_metadata: None,
        }
    }

    /// The graph part, for code that works on a [`Topology`].
    pub fn topology(&self) -> Topology {
        Topology {
            class_name: self.class_name.clone(),
            name: self.name.clone(),
            layers: self.layers.clone(),
            input_layers: self.input_layers.clone(),
            output_layers: self.output_layers.clone(),
        }
    }

    /// The layer of this name, if any.
    pub fn layer(&self, name: &str) -> Option<&LayerSpec> {
        self.layers.iter().find(|l| l.name == name)
    }

    /// The weight of this manifest name, if any.
    pub fn weight(&self, name: &str) -> Option<&NamedWeight> {
        self.weights.iter().find(|w| w.name == name)
    }

    /// Weights whose name starts with `<layer>/`, in manifest order.
    pub fn weights_of_layer(&self, layer: &str) -> Vec<&NamedWeight> {
        self.weights
            .iter()
            .filter(|w| w.name.strip_prefix(layer).is_some_and(|rest| rest.starts_with('/')))
            .collect()
    }

    /// Total number of weight elements.
    pub fn num_params(&self) -> usize {
        self.weights.iter().map(NamedWeight::numel).sum()
    }
}

fn parse_model_json(model_json: &str) -> Result<Map<String, Value>> {
    let root: Value =
        serde_json::from_str(model_json).map_err(|e| Error::new(format!("model.json: invalid JSON: {e}")))?;
    let Value::Object(root) = root else {
        bail!("model.json: expected a JSON object at the top level")
    };
    if let Some(format) = root.get("format").filter(|f| !f.is_null()) {
        let format = format.as_str().unwrap_or_default();
        ensure!(
            format == "layers-model",
            "model.json: format is {:?}; only TF.js layers models (\"layers-model\") can be read{}",
            format,
            if format == "graph-model" {
                " (a graph model is a frozen TensorFlow graph, not Keras layers)"
            } else {
                ""
            }
        );
    }
    Ok(root)
}

impl Topology {
    /// Parse `{"class_name": ..., "config": ...}` (a `model_config`, or the value of a
    /// nested model layer). A `{"model_config": ...}` wrapper is looked through.
    pub(crate) fn from_json(value: &Value) -> Result<Topology> {
        let value = value.get("model_config").unwrap_or(value);
        let class_name = value
            .get("class_name")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::new("no class_name (expected {\"class_name\": \"Sequential\" | \"Model\" | \"Functional\", \"config\": ...})"))?;
        let config = value
            .get("config")
            .ok_or_else(|| Error::new(format!("{class_name} has no config")))?;
        let topology = match class_name {
            "Sequential" => parse_sequential(config)?,
            "Model" | "Functional" => parse_functional(class_name, config)?,
            other => bail!("unsupported model class {other:?} (expected Sequential, Model or Functional)"),
        };
        topology.validate()?;
        Ok(topology)
    }

    /// The Keras-2-style `model_config` that [`TfjsModel::to_parts`] writes.
    pub fn to_json(&self) -> Value {
        if self.class_name == "Sequential" && self.is_chain() {
            let layers: Vec<Value> = self
                .layers
                .iter()
                .map(|l| json!({"class_name": l.class_name, "config": config_with_name(l)}))
                .collect();
            return json!({"class_name": "Sequential", "config": {"name": self.name, "layers": layers}});
        }
        let class_name = if self.class_name == "Sequential" {
            "Model"
        } else {
            self.class_name.as_str()
        };
        let ref_json = |r: &TensorRef| json!([r.0, r.1, r.2]);
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|l| {
                let nodes: Vec<Value> = l
                    .inbound
                    .iter()
                    .enumerate()
                    .map(|(n, refs)| {
                        let kwargs = match l.inbound_kwargs.get(n) {
                            Some(Value::Object(m)) => Value::Object(m.clone()),
                            _ => json!({}),
                        };
                        Value::Array(refs.iter().map(|r| json!([r.0, r.1, r.2, kwargs])).collect())
                    })
                    .collect();
                json!({"name": l.name, "class_name": l.class_name, "config": config_with_name(l), "inbound_nodes": nodes})
            })
            .collect();
        json!({
            "class_name": class_name,
            "config": {
                "name": self.name,
                "layers": layers,
                "input_layers": self.input_layers.iter().map(ref_json).collect::<Vec<_>>(),
                "output_layers": self.output_layers.iter().map(ref_json).collect::<Vec<_>>(),
            }
        })
    }

    /// The layer of this name, if any.
    pub fn layer(&self, name: &str) -> Option<&LayerSpec> {
        self.layers.iter().find(|l| l.name == name)
    }

    /// Layers fed one by one from the first, no keyword arguments: what a Sequential holds.
    fn is_chain(&self) -> bool {
        let Some(first) = self.layers.first() else { return false };
        let empty_kwargs = |v: &Value| v.is_null() || v.as_object().is_some_and(Map::is_empty);
        let first_ok = first.inbound.is_empty()
            && if first.is_input() {
                self.input_layers == [(first.name.clone(), 0, 0)]
            } else {
                self.input_layers.is_empty()
            };
        let rest_ok = self
            .layers
            .windows(2)
            .all(|w| w[1].inbound == [vec![(w[0].name.clone(), 0, 0)]] && w[1].inbound_kwargs.iter().all(empty_kwargs));
        let last = &self.layers[self.layers.len() - 1];
        first_ok && rest_ok && self.output_layers == [(last.name.clone(), 0, 0)]
    }

    fn validate(&self) -> Result<()> {
        let mut nodes = std::collections::HashMap::new();
        for l in &self.layers {
            // A layer without inbound nodes (an input layer, or the first layer of a
            // Sequential with no input shape) has one implicit node of its own.
            let count = l.inbound.len().max(1);
            ensure!(
                nodes.insert(l.name.as_str(), count).is_none(),
                "two layers are named '{}'",
                l.name
            );
        }
        let check = |r: &TensorRef, whose: &str| -> Result<()> {
            let Some(&count) = nodes.get(r.0.as_str()) else {
                bail!("{whose} refers to layer '{}', which the model does not have", r.0)
            };
            ensure!(
                r.1 < count,
                "{whose} refers to node {} of layer '{}', which has {count} node(s)",
                r.1,
                r.0
            );
            Ok(())
        };
        for l in &self.layers {
            for r in l.inbound.iter().flatten() {
                check(r, &format!("layer '{}'", l.name))?;
            }
        }
        for r in &self.input_layers {
            check(r, "input_layers")?;
        }
        for r in &self.output_layers {
            check(r, "output_layers")?;
        }
        Ok(())
    }
}

fn config_with_name(l: &LayerSpec) -> Value {
    let mut config = l.config.clone();
    if let Value::Object(m) = &mut config {
        m.entry("name").or_insert_with(|| Value::String(l.name.clone()));
    }
    config
}

fn layer_name(entry: &Value, config: &Value) -> Option<String> {
    entry
        .get("name")
        .or_else(|| config.get("name"))
        .and_then(Value::as_str)
        .map(String::from)
}

fn parse_sequential(config: &Value) -> Result<Topology> {
    let (name, entries, build_shape) = match config {
        Value::Array(layers) => ("sequential".to_string(), layers, None),
        Value::Object(m) => (
            m.get("name")
                .and_then(Value::as_str)
                .unwrap_or("sequential")
                .to_string(),
            m.get("layers")
                .and_then(Value::as_array)
                .ok_or_else(|| Error::new("Sequential config has no layers list"))?,
            m.get("build_input_shape"),
        ),
        _ => bail!("Sequential config is neither a list of layers nor an object"),
    };
    ensure!(!entries.is_empty(), "Sequential model {name:?} has no layers");
    let mut layers = Vec::with_capacity(entries.len() + 1);
    for (i, entry) in entries.iter().enumerate() {
        let class_name = entry
            .get("class_name")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::new(format!("layer {i} of Sequential {name:?} has no class_name")))?;
        let config = entry.get("config").cloned().unwrap_or_else(|| json!({}));
        let lname = layer_name(entry, &config)
            .ok_or_else(|| Error::new(format!("layer {i} ({class_name}) of Sequential {name:?} has no name")))?;
        layers.push(LayerSpec {
            class_name: class_name.to_string(),
            name: lname,
            config,
            inbound: vec![],
            inbound_kwargs: vec![],
        });
    }
    if !layers[0].is_input() {
        let first = &layers[0];
        let shape = first
            .config
            .get("batch_input_shape")
            .map(|s| ("batch_input_shape", s))
            .or_else(|| first.config.get("batch_shape").map(|s| ("batch_shape", s)))
            .or_else(|| build_shape.filter(|s| !s.is_null()).map(|s| ("batch_input_shape", s)));
        if let Some((key, shape)) = shape {
            ensure!(
                parse_batch_shape(shape).is_some(),
                "first layer '{}' has an invalid {key} {shape}",
                first.name
            );
            let dtype = match first.config.get("dtype") {
                Some(Value::String(s)) => s.clone(),
                // Keras 3 writes a DTypePolicy object.
                Some(policy) => policy
                    .pointer("/config/name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.starts_with("mixed"))
                    .unwrap_or("float32")
                    .to_string(),
                None => "float32".to_string(),
            };
            let input_name = format!("{}_input", first.name);
            let mut config = Map::new();
            config.insert(key.to_string(), shape.clone());
            config.insert("dtype".into(), Value::String(dtype));
            config.insert("sparse".into(), Value::Bool(false));
            config.insert("name".into(), Value::String(input_name.clone()));
            layers.insert(
                0,
                LayerSpec {
                    class_name: "InputLayer".into(),
                    name: input_name,
                    config: Value::Object(config),
                    inbound: vec![],
                    inbound_kwargs: vec![],
                },
            );
        }
    }
    for i in 1..layers.len() {
        let prev = layers[i - 1].name.clone();
        ensure!(
            !layers[i].is_input(),
            "Sequential {name:?}: InputLayer '{}' is not the first layer",
            layers[i].name
        );
        layers[i].inbound = vec![vec![(prev, 0, 0)]];
        layers[i].inbound_kwargs = vec![json!({})];
    }
    let input_layers = if layers[0].is_input() {
        vec![(layers[0].name.clone(), 0, 0)]
    } else {
        vec![]
    };
    let output_layers = vec![(layers[layers.len() - 1].name.clone(), 0, 0)];
    Ok(Topology {
        class_name: "Sequential".into(),
        name,
        layers,
        input_layers,
        output_layers,
    })
}

fn parse_functional(class_name: &str, config: &Value) -> Result<Topology> {
    let name = config
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("model")
        .to_string();
    let entries = config
        .get("layers")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::new(format!("{class_name} {name:?} has no layers list")))?;
    let mut layers = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let class = entry
            .get("class_name")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::new(format!("layer {i} of {name:?} has no class_name")))?;
        let config = entry.get("config").cloned().unwrap_or_else(|| json!({}));
        let lname = layer_name(entry, &config)
            .ok_or_else(|| Error::new(format!("layer {i} ({class}) of {name:?} has no name")))?;
        let mut inbound = Vec::new();
        let mut inbound_kwargs = Vec::new();
        let nodes = match entry.get("inbound_nodes") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(nodes)) => &nodes[..],
            Some(other) => bail!("layer '{lname}': inbound_nodes is not a list: {other}"),
        };
        for (n, node) in nodes.iter().enumerate() {
            let (refs, kwargs) =
                parse_node(node).map_err(|e| e.context(format!("layer '{lname}', inbound node {n}")))?;
            inbound.push(refs);
            inbound_kwargs.push(kwargs);
        }
        layers.push(LayerSpec {
            class_name: class.to_string(),
            name: lname,
            config,
            inbound,
            inbound_kwargs,
        });
    }
    let refs = |key: &str| -> Result<Vec<TensorRef>> {
        match config.get(key) {
            None | Some(Value::Null) => Ok(vec![]),
            Some(v) => parse_ref_list(v).map_err(|e| e.context(key)),
        }
    };
    let mut topology = Topology {
        class_name: class_name.to_string(),
        name,
        layers,
        input_layers: refs("input_layers")?,
        output_layers: refs("output_layers")?,
    };
    topology.skip_built_in_nodes();
    Ok(topology)
}

impl Topology {
    /// Keras 2 counts a nested model's own graph, built with its `Input`, as its node 0
    /// and leaves it out of the file, so the first call in the outer model is node 1
    /// (tf-keras `functional._should_skip_first_node`); Keras 3, TF.js and this engine
    /// count calls from 0. A reference past a nested model's last call can only mean the
    /// Keras 2 count: that model's references are renumbered as calls.
    fn skip_built_in_nodes(&mut self) {
        let refs_to = |name: &str, layers: &[LayerSpec], outputs: &[TensorRef]| -> Vec<usize> {
            let inbound = layers.iter().flat_map(|l| l.inbound.iter().flatten());
            inbound.chain(outputs).filter(|r| r.0 == name).map(|r| r.1).collect()
        };
        let shifted: Vec<String> = self
            .layers
            .iter()
            .filter(|l| matches!(l.class_name.as_str(), "Sequential" | "Model" | "Functional"))
            .filter(|l| {
                let calls = l.inbound.len();
                refs_to(&l.name, &self.layers, &self.output_layers).iter().any(|&i| i >= calls && i > 0)
            })
            .map(|l| l.name.clone())
            .collect();
        let renumber = |r: &mut TensorRef| {
            if r.1 > 0 && shifted.contains(&r.0) {
                r.1 -= 1;
            }
        };
        for layer in &mut self.layers {
            layer.inbound.iter_mut().flatten().for_each(renumber);
        }
        self.output_layers.iter_mut().for_each(renumber);
    }
}

/// One inbound node, Keras 2 (`[[layer, node, tensor, kwargs], ...]`) or Keras 3
/// (`{"args": [...], "kwargs": {...}}`).
fn parse_node(node: &Value) -> Result<(Vec<TensorRef>, Value)> {
    match node {
        Value::Array(items) => {
            // A lone `[layer, node, tensor]` (some writers drop the outer list).
            if items.first().is_some_and(Value::is_string) {
                let kwargs = items.get(3).cloned().unwrap_or_else(|| json!({}));
                return Ok((vec![parse_ref(node)?], kwargs));
            }
            let refs = items.iter().map(parse_ref).collect::<Result<Vec<_>>>()?;
            let kwargs = items
                .first()
                .and_then(|r| r.get(3))
                .cloned()
                .unwrap_or_else(|| json!({}));
            Ok((refs, kwargs))
        }
        Value::Object(m) if m.contains_key("args") || m.contains_key("kwargs") => {
            let mut refs = Vec::new();
            if let Some(args) = m.get("args") {
                collect_keras_tensors(args, &mut refs, 0)?;
            }
            let kwargs = m.get("kwargs").cloned().unwrap_or_else(|| json!({}));
            collect_keras_tensors(&kwargs, &mut refs, 0)?;
            Ok((refs, kwargs))
        }
        other => bail!("expected a list of [layer, node, tensor] or an {{args, kwargs}} object, found {other}"),
    }
}

fn collect_keras_tensors(v: &Value, out: &mut Vec<TensorRef>, depth: usize) -> Result<()> {
    ensure!(depth < 64, "arguments nested too deeply");
    match v {
        Value::Object(m) if m.get("class_name").and_then(Value::as_str) == Some("__keras_tensor__") => {
            let history = v
                .pointer("/config/keras_history")
                .ok_or_else(|| Error::new("a __keras_tensor__ without config.keras_history"))?;
            out.push(parse_ref(history)?);
        }
        Value::Object(m) => {
            for x in m.values() {
                collect_keras_tensors(x, out, depth + 1)?;
            }
        }
        Value::Array(items) => {
            for x in items {
                collect_keras_tensors(x, out, depth + 1)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `[layer, node, tensor, ...]`.
fn parse_ref(v: &Value) -> Result<TensorRef> {
    let bad = || Error::new(format!("expected [layer name, node index, tensor index], found {v}"));
    let items = v.as_array().ok_or_else(bad)?;
    let layer = items.first().and_then(Value::as_str).ok_or_else(bad)?;
    let index = |i: usize| items.get(i).and_then(Value::as_u64).map(|x| x as usize).ok_or_else(bad);
    Ok((layer.to_string(), index(1)?, index(2)?))
}

/// `input_layers` / `output_layers`: a list of refs, a single ref (Keras 3 with one
/// input), or an object of refs (Keras 3 dict inputs; taken in key order).
fn parse_ref_list(v: &Value) -> Result<Vec<TensorRef>> {
    match v {
        Value::Array(items) if items.first().is_some_and(Value::is_string) => Ok(vec![parse_ref(v)?]),
        Value::Array(items) => items.iter().map(parse_ref).collect(),
        Value::Object(m) => m.values().map(parse_ref).collect(),
        other => bail!("expected a list of [layer, node, tensor], found {other}"),
    }
}

fn parse_batch_shape(v: &Value) -> Option<Vec<Option<usize>>> {
    v.as_array()?
        .iter()
        .map(|d| match d {
            Value::Null => Some(None),
            d => d.as_u64().map(|x| Some(x as usize)),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Weights

#[derive(Deserialize)]
struct ManifestGroup {
    paths: Vec<String>,
    weights: Vec<Value>,
}

#[derive(Deserialize)]
struct WeightEntry {
    name: String,
    shape: Vec<usize>,
    dtype: String,
    #[serde(default)]
    quantization: Option<Quantization>,
}

#[derive(Deserialize)]
struct Quantization {
    dtype: String,
    #[serde(default)]
    scale: Option<f64>,
    #[serde(default)]
    min: Option<f64>,
}

struct Group {
    paths: Vec<String>,
    weights: Vec<WeightEntry>,
}

fn parse_manifest(root: &Map<String, Value>) -> Result<Vec<Group>> {
    let groups = match root.get("weightsManifest") {
        None | Some(Value::Null) => return Ok(vec![]),
        Some(Value::Array(groups)) => groups,
        Some(_) => bail!("model.json: weightsManifest is not a list"),
    };
    groups
        .iter()
        .enumerate()
        .map(|(g, v)| {
            let group = ManifestGroup::deserialize(v)
                .map_err(|e| Error::new(format!("model.json: weightsManifest[{g}]: {e}")))?;
            let weights = group
                .weights
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    WeightEntry::deserialize(w).map_err(|e| {
                        let name = w
                            .get("name")
                            .and_then(Value::as_str)
                            .map(|n| format!(" ('{n}')"))
                            .unwrap_or_default();
                        Error::new(format!("model.json: weightsManifest[{g}].weights[{i}]{name}: {e}"))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Group {
                paths: group.paths,
                weights,
            })
        })
        .collect()
}

/// Bytes per stored element and a description for messages.
fn stored_size(w: &WeightEntry) -> Result<usize> {
    if let Some(q) = &w.quantization {
        let size = match q.dtype.as_str() {
            "uint8" => 1,
            "uint16" | "float16" => 2,
            other => bail!(
                "weight '{}': unsupported quantization dtype {other:?} (known: uint8, uint16, float16)",
                w.name
            ),
        };
        match (q.dtype.as_str(), w.dtype.as_str()) {
            ("float16", "float32") | ("uint8" | "uint16", "float32" | "int32") => {}
            (qd, d) => bail!("weight '{}': {qd} quantization of a {d} weight is not defined", w.name),
        }
        if q.dtype != "float16" {
            ensure!(
                q.scale.is_some() && q.min.is_some(),
                "weight '{}': {} quantization needs both scale and min",
                w.name,
                q.dtype
            );
        }
        return Ok(size);
    }
    Ok(match w.dtype.as_str() {
        "float32" | "int32" => 4,
        "bool" | "uint8" => 1,
        "string" => bail!("weight '{}': string weights are not supported", w.name),
        "complex64" => bail!("weight '{}': complex64 weights are not supported", w.name),
        other => bail!(
            "weight '{}': unsupported dtype {other:?} (known: float32, int32, bool, uint8)",
            w.name
        ),
    })
}

fn decode_group(
    g: usize,
    group: &Group,
    fetch_shard: &mut impl FnMut(&str) -> Result<Vec<u8>>,
) -> Result<Vec<NamedWeight>> {
    // Sizes first, so a bad manifest fails before any shard is fetched.
    let mut sizes = Vec::with_capacity(group.weights.len());
    for w in &group.weights {
        let numel = w
            .shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| {
                Error::new(format!(
                    "weight '{}': shape {} is too large",
                    w.name,
                    fmt_shape(&w.shape)
                ))
            })?;
        let bytes = numel.checked_mul(stored_size(w)?).ok_or_else(|| {
            Error::new(format!(
                "weight '{}': shape {} is too large",
                w.name,
                fmt_shape(&w.shape)
            ))
        })?;
        sizes.push(bytes);
    }
    let needed = sizes
        .iter()
        .try_fold(0usize, |a, &b| a.checked_add(b))
        .unwrap_or(usize::MAX);
    if group.weights.is_empty() {
        return Ok(vec![]);
    }
    ensure!(
        !group.paths.is_empty(),
        "weights group {} lists {} weights but no shard paths",
        g + 1,
        group.weights.len()
    );
    let mut buffer = Vec::new();
    for path in &group.paths {
        let shard = fetch_shard(path).map_err(|e| e.context(format!("weight shard '{path}'")))?;
        buffer.extend_from_slice(&shard);
    }
    let describe_paths = || group.paths.join(", ");
    ensure!(
        buffer.len() >= needed,
        "weights group {}: the manifest's {} weights need {needed} bytes but the shard(s) [{}] hold {} — a shard is truncated or missing (first weight past the end: '{}')",
        g + 1,
        group.weights.len(),
        describe_paths(),
        buffer.len(),
        first_weight_past(&group.weights, &sizes, buffer.len())
    );
    ensure!(
        buffer.len() == needed,
        "weights group {}: the shard(s) [{}] hold {} bytes but the manifest describes {needed}; the manifest does not match the data",
        g + 1,
        describe_paths(),
        buffer.len()
    );
    // The shards hold what the manifest says; decoding must also fit the budget (dequantizing
    // goes through f64 levels, 8 bytes each), checked before any weight is allocated.
    let decoded = group
        .weights
        .iter()
        .zip(&sizes)
        .map(|(w, &bytes)| match &w.quantization {
            Some(q) if q.dtype == "uint8" => bytes.saturating_mul(8),
            Some(q) if q.dtype == "uint16" => bytes.saturating_mul(4),
            Some(_) => bytes.saturating_mul(2),
            None => bytes,
        })
        .fold(0usize, usize::saturating_add);
    crate::limits::check_budget(
        format_args!("weights group {} ({} weights)", g + 1, group.weights.len()),
        needed.max(decoded),
    )?;
    let mut offset = 0;
    let mut out = Vec::with_capacity(group.weights.len());
    for (w, &size) in group.weights.iter().zip(&sizes) {
        let bytes = &buffer[offset..offset + size];
        offset += size;
        out.push(NamedWeight {
            name: w.name.clone(),
            shape: w.shape.clone(),
            data: decode_weight(w, bytes),
        });
    }
    Ok(out)
}

fn first_weight_past<'a>(weights: &'a [WeightEntry], sizes: &[usize], available: usize) -> &'a str {
    let mut end = 0usize;
    for (w, &s) in weights.iter().zip(sizes) {
        end = end.saturating_add(s);
        if end > available {
            return &w.name;
        }
    }
    ""
}

/// `bytes` has exactly the weight's stored size (checked by the caller).
fn decode_weight(w: &WeightEntry, bytes: &[u8]) -> CpuData {
    let f32s = |b: &[u8]| {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    match &w.quantization {
        None => match w.dtype.as_str() {
            "float32" => CpuData::F32(f32s(bytes)),
            "int32" => CpuData::I32(
                bytes
                    .chunks_exact(4)
                    .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            ),
            "bool" => CpuData::U8(bytes.iter().map(|&b| (b != 0) as u8).collect()),
            _ => CpuData::U8(bytes.to_vec()),
        },
        Some(q) if q.dtype == "float16" => CpuData::F32(
            bytes
                .chunks_exact(2)
                .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
        ),
        Some(q) => {
            let (scale, min) = (q.scale.unwrap_or(1.0), q.min.unwrap_or(0.0));
            let levels: Vec<f64> = if q.dtype == "uint8" {
                bytes.iter().map(|&b| b as f64).collect()
            } else {
                bytes
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]) as f64)
                    .collect()
            };
            // TF.js: Float32Array.from(q, v => v * scale + min), or Math.round for int32.
            if w.dtype == "int32" {
                CpuData::I32(levels.iter().map(|&v| (v * scale + min + 0.5).floor() as i32).collect())
            } else {
                CpuData::F32(levels.iter().map(|&v| (v * scale + min) as f32).collect())
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Writing

impl TfjsModel {
    /// Serialize as a TF.js layers model: `model.json` text and one shard
    /// (`group1-shard1of1.bin`) holding every weight, little-endian, in `weights` order.
    /// f32 weights are written as float32, f64 ones narrowed to float32, i32 as int32,
    /// and u8 as int32 (TF.js tensors have no uint8 dtype).
    pub fn to_parts(&self) -> (String, Vec<(String, Vec<u8>)>) {
        let mut shard = Vec::with_capacity(self.weights.iter().map(|w| w.data.len() * 4).sum());
        let mut entries = Vec::with_capacity(self.weights.len());
        for w in &self.weights {
            let dtype = match &w.data {
                CpuData::F32(v) => {
                    v.iter().for_each(|x| shard.extend_from_slice(&x.to_le_bytes()));
                    "float32"
                }
                CpuData::F64(v) => {
                    v.iter()
                        .for_each(|&x| shard.extend_from_slice(&(x as f32).to_le_bytes()));
                    "float32"
                }
                CpuData::I32(v) => {
                    v.iter().for_each(|x| shard.extend_from_slice(&x.to_le_bytes()));
                    "int32"
                }
                CpuData::U8(v) => {
                    v.iter()
                        .for_each(|&x| shard.extend_from_slice(&(x as i32).to_le_bytes()));
                    "int32"
                }
            };
            entries.push(json!({"name": w.name, "shape": w.shape, "dtype": dtype}));
        }
        let mut topology = Map::new();
        if let Some(v) = &self.keras_version {
            topology.insert("keras_version".into(), json!(v));
        }
        if let Some(v) = &self.backend {
            topology.insert("backend".into(), json!(v));
        }
        topology.insert("model_config".into(), self.topology().to_json());
        if let Some(v) = &self.training_config {
            topology.insert("training_config".into(), v.clone());
        }
        let generated_by = self
            .generated_by
            .clone()
            .or_else(|| self.keras_version.as_ref().map(|v| format!("keras v{v}")))
            .unwrap_or_else(|| format!("convbook {}", env!("CARGO_PKG_VERSION")));
        let mut root = Map::new();
        root.insert("format".into(), json!("layers-model"));
        root.insert("generatedBy".into(), json!(generated_by));
        root.insert(
            "convertedBy".into(),
            json!(format!("convbook {}", env!("CARGO_PKG_VERSION"))),
        );
        if let Some(v) = &self.user_defined_metadata {
            root.insert("userDefinedMetadata".into(), v.clone());
        }
        root.insert("modelTopology".into(), Value::Object(topology));
        let (manifest, shards) = if entries.is_empty() {
            (json!([]), vec![])
        } else {
            (
                json!([{"paths": [SHARD_NAME], "weights": entries}]),
                vec![(SHARD_NAME.to_string(), shard)],
            )
        };
        root.insert("weightsManifest".into(), manifest);
        (Value::Object(root).to_string(), shards)
    }
}
