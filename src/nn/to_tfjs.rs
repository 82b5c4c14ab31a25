//! Saving a model: each layer's Keras config (its `get_config`, what `from_config` reads back), the graph as
//! a Keras-2-style layers topology (what TF.js and `Model::from_tfjs` load), and the
//! weights under their Keras names. Nested models are written as nested topologies.

use serde_json::json;

use crate::error::Result;
use crate::io::tfjs::{LayerSpec, NamedWeight, TfjsModel, Topology};
use crate::nn::layer::Layer;
use crate::nn::model::Model;

/// Node numbers as the file sees them: a layer shared with other models keeps only the
/// calls made inside this one, renumbered from 0 in call order.
struct NodeNumbers(Vec<(Layer, Vec<usize>)>);

impl NodeNumbers {
    fn of(model: &Model) -> NodeNumbers {
        let mut list: Vec<(Layer, Vec<usize>)> = Vec::new();
        for (layer, node) in model.steps() {
            match list.iter_mut().find(|(l, _)| l.same(layer)) {
                Some((_, nodes)) => nodes.push(*node),
                None => list.push((layer.clone(), vec![*node])),
            }
        }
        for (_, nodes) in &mut list {
            nodes.sort_unstable();
        }
        NodeNumbers(list)
    }

    fn nodes(&self, layer: &Layer) -> &[usize] {
        self.0.iter().find(|(l, _)| l.same(layer)).map(|(_, n)| n.as_slice()).unwrap_or(&[])
    }

    fn reference(&self, t: &crate::nn::KerasTensor) -> (String, usize, usize) {
        let index = self.nodes(t.layer()).iter().position(|&n| n == t.node_index()).unwrap_or(0);
        (t.layer().name().to_string(), index, 0)
    }
}

fn layer_spec(numbers: &NodeNumbers, layer: &Layer) -> LayerSpec {
    let (class_name, mut config) = match layer.as_model() {
        Some(m) => {
            let t = m.topology().to_json();
            (t["class_name"].as_str().unwrap_or("Model").to_string(), t["config"].clone())
        }
        None => (layer.class_name().to_string(), layer.kind().to_config()),
    };
    if let Some(c) = config.as_object_mut() {
        c.insert("name".into(), json!(layer.name()));
        c.insert("trainable".into(), json!(layer.trainable()));
    }
    let nodes = layer.0.nodes.borrow();
    let inbound: Vec<Vec<(String, usize, usize)>> = numbers
        .nodes(layer)
        .iter()
        .map(|&n| nodes[n].inputs.iter().map(|t| numbers.reference(t)).collect::<Vec<_>>())
        .filter(|refs| !refs.is_empty())
        .collect();
    let kwargs = inbound.iter().map(|_| json!({})).collect();
    LayerSpec { class_name, name: layer.name().to_string(), config, inbound, inbound_kwargs: kwargs }
}

impl Model {
    /// The graph as a TF.js / Keras topology (functional form, which loads as either).
    pub fn topology(&self) -> Topology {
        let numbers = NodeNumbers::of(self);
        let refs = |ts: &[crate::nn::KerasTensor]| ts.iter().map(|t| numbers.reference(t)).collect();
        Topology {
            class_name: if self.class_name() == "Sequential" { "Sequential" } else { "Model" }.to_string(),
            name: self.name().to_string(),
            layers: self.layers().iter().map(|l| layer_spec(&numbers, l)).collect(),
            input_layers: refs(self.inputs()),
            output_layers: refs(self.outputs()),
        }
    }

    /// The whole model as a TF.js layers-format file: topology plus every weight (read
    /// back from the device), named "layer/weight" as TF.js names them.
    pub async fn to_tfjs(&self) -> Result<TfjsModel> {
        let mut weights = Vec::new();
        for layer in self.leaf_layers() {
            for w in layer.weights() {
                let value = w.value();
                let shape = value.shape().to_vec();
                weights.push(NamedWeight { name: w.path.clone(), shape, data: value.to_data().await? });
            }
        }
        let mut file = TfjsModel::new(self.topology(), weights);
        file.training_config = self.training_config();
        Ok(file)
    }
}

impl Model {
    /// The shape of every tensor the topology refers to, keyed as [`Model::topology`]
    /// numbers it (Keras 3 files write each reference with its shape).
    pub(crate) fn tensor_shapes(&self) -> std::collections::HashMap<(String, usize, usize), Vec<Option<usize>>> {
        let numbers = NodeNumbers::of(self);
        let mut shapes = std::collections::HashMap::new();
        for (layer, node) in self.steps() {
            for t in &layer.0.nodes.borrow()[*node].inputs {
                shapes.insert(numbers.reference(t), t.shape().to_vec());
            }
        }
        for t in self.outputs() {
            shapes.insert(numbers.reference(t), t.shape().to_vec());
        }
        shapes
    }
}
