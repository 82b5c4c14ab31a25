//! Build a model from a TF.js layers-format file (parsed by io::tfjs): layers from their
//! Keras configs, wired by the topology's inbound nodes, weights assigned per layer.

use std::collections::HashMap;

use crate::error::Result;
use crate::io::tfjs::{TensorRef, TfjsModel, Topology};
use crate::nn::layer::Layer;
use crate::nn::layers::LayerKind;
use crate::nn::model::Model;
use crate::nn::symbolic::{input, KerasTensor};
use crate::tensor::Tensor;
use crate::{bail, ensure, Device};

/// The layer a weight belongs to: "conv2d/kernel" or "model/conv2d/kernel" → "conv2d".
fn owner(weight_name: &str) -> &str {
    let parts: Vec<&str> = weight_name.split('/').collect();
    if parts.len() >= 2 {
        parts[parts.len() - 2]
    } else {
        weight_name
    }
}

impl Model {
    /// The model a TF.js layers file describes, with the file's weights (`tf.loadLayersModel`).
    pub fn from_tfjs(file: &TfjsModel) -> Result<Model> {
        // Every weight comes from the file: none is drawn first (a config may declare
        // sizes the shards do not hold; the shapes are checked on assignment).
        let model = crate::nn::layer::deferring_init(|| Model::from_topology(&file.topology()))?;
        model.load_named_weights(file.weights.iter().map(|w| (w.name.as_str(), w.shape.as_slice(), &w.data)))?;
        // Compiled as it was saved (Keras's load_model); settings this engine cannot
        // read (another loss, say) leave the model uncompiled rather than failing the load.
        if let Some(config) = &file.training_config {
            let _ = model.compile_from(config);
        }
        Ok(model)
    }

    /// The layers and their wiring, with fresh weights; nested models become layers.
    pub fn from_topology(file: &Topology) -> Result<Model> {
        let mut outputs: HashMap<(String, usize), KerasTensor> = HashMap::new();
        let resolve = |outputs: &HashMap<(String, usize), KerasTensor>, r: &TensorRef| -> Option<KerasTensor> {
            outputs.get(&(r.0.clone(), r.1)).cloned()
        };
        let mut pending: Vec<usize> = (0..file.layers.len()).collect();
        // Topologies list producers first, but tolerate any order.
        while !pending.is_empty() {
            let before = pending.len();
            let mut still = Vec::new();
            for i in pending {
                let spec = &file.layers[i];
                let ctx = |e: crate::Error| e.context(format!("layer \"{}\" ({})", spec.name, spec.class_name));
                if spec.is_input() {
                    let shape = spec.batch_input_shape().ok_or_else(|| ctx(crate::Error::new("input without a shape")))?;
                    let dims: Option<Vec<usize>> = shape[1..].iter().copied().collect();
                    let dims = dims.ok_or_else(|| ctx(crate::Error::new("input dimensions must be known")))?;
                    outputs.insert((spec.name.clone(), 0), input(&dims, Some(&spec.name)).map_err(ctx)?);
                    continue;
                }
                let ready = spec.inbound.iter().all(|node| node.iter().all(|r| resolve(&outputs, r).is_some()));
                if !ready {
                    still.push(i);
                    continue;
                }
                let layer = match spec.as_model() {
                    Some(topology) => Model::from_topology(&topology.map_err(ctx)?).map_err(ctx)?.as_layer(),
                    None => Layer::new(LayerKind::from_config(&spec.class_name, &spec.config).map_err(ctx)?, Some(&spec.name)),
                };
                if spec.config.get("trainable").and_then(|t| t.as_bool()) == Some(false) {
                    layer.set_trainable(false);
                }
                for (node_index, node) in spec.inbound.iter().enumerate() {
                    let mut args = Vec::with_capacity(node.len());
                    for r in node {
                        ensure!(r.2 == 0, "layer \"{}\": multi-output layers are not supported", r.0);
                        args.push(resolve(&outputs, r).unwrap_or_else(|| unreachable!("checked ready above")));
                    }
                    let out = layer.call(&args).map_err(ctx)?;
                    outputs.insert((spec.name.clone(), node_index), out);
                }
            }
            ensure!(
                still.len() < before,
                "model file: layers {} have inputs that are never produced",
                still.iter().map(|&i| file.layers[i].name.as_str()).collect::<Vec<_>>().join(", ")
            );
            pending = still;
        }
        let pick = |refs: &[TensorRef], what: &str| -> Result<Vec<KerasTensor>> {
            refs.iter()
                .map(|r| {
                    resolve(&outputs, r)
                        .ok_or_else(|| crate::Error::new(format!("model file: {what} \"{}\" is not a layer of the model", r.0)))
                })
                .collect()
        };
        let inputs = pick(&file.input_layers, "input")?;
        let outputs = pick(&file.output_layers, "output")?;
        if file.class_name == "Sequential" {
            Model::new_sequential(&inputs, &outputs, Some(&file.name))
        } else {
            Model::new(&inputs, &outputs, Some(&file.name))
        }
    }

    /// Assign weights named "layer/weight" (in each layer's Keras order), checking that
    /// every weight of the model gets exactly one value of the right shape.
    pub(crate) fn load_named_weights<'a>(
        &self,
        weights: impl Iterator<Item = (&'a str, &'a [usize], &'a crate::tensor::CpuData)>,
    ) -> Result<()> {
        let mut by_layer: HashMap<&str, Vec<(&str, &[usize], &crate::tensor::CpuData)>> = HashMap::new();
        for (name, shape, data) in weights {
            by_layer.entry(owner(name)).or_default().push((name, shape, data));
        }
        for layer in self.leaf_layers() {
            let ours = layer.weights();
            let theirs = by_layer.remove(layer.name()).unwrap_or_default();
            ensure!(
                ours.len() == theirs.len(),
                "layer \"{}\" has {} weights but the file gives {} ({})",
                layer.name(),
                ours.len(),
                theirs.len(),
                theirs.iter().map(|t| t.0).collect::<Vec<_>>().join(", ")
            );
            for (w, (name, shape, data)) in ours.iter().zip(theirs) {
                w.set(Tensor::from_data(&Device::Cpu, data.clone(), shape)?.cast(crate::tensor::DType::F32)?)
                    .map_err(|e| e.context(format!("file weight {name}")))?;
            }
        }
        if let Some((layer, ws)) = by_layer.into_iter().next() {
            bail!("the file has weights for \"{layer}\" ({}), which the model does not have", ws[0].0);
        }
        Ok(())
    }
}

impl Model {
    /// The model weight behind each file weight name (same per-layer order as loading),
    /// so a file can be written back with trained values.
    pub fn weights_for_names(&self, names: &[&str]) -> Result<Vec<crate::nn::layer::WeightRef>> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        names
            .iter()
            .map(|name| {
                let layer = self.leaf_layer(owner(name))?;
                let index = seen.entry(owner(name)).or_insert(0);
                let w = layer.weights().get(*index).cloned().ok_or_else(|| {
                    crate::Error::new(format!("file weight {name}: layer \"{}\" has no weight #{index}", layer.name()))
                })?;
                *index += 1;
                Ok(w)
            })
            .collect()
    }
}
