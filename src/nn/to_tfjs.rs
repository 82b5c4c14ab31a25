//! Saving a model: each layer's Keras config (what `config.rs` reads back), the graph as
//! a Keras-2-style layers topology (what TF.js and `Model::from_tfjs` load), and the
//! weights under their Keras names. Nested models are written as nested topologies.

use serde_json::{json, Value};

use crate::error::Result;
use crate::io::tfjs::{LayerSpec, NamedWeight, TfjsModel, Topology};
use crate::nn::layer::Layer;
use crate::nn::layers::{ConvConfig, LayerKind};
use crate::nn::model::Model;
use crate::ops::pool2d::PoolKind;

fn conv_config(c: &ConvConfig) -> Value {
    json!({
        "kernel_size": c.kernel,
        "strides": c.strides,
        "padding": c.padding.name(),
        "data_format": "channels_last",
        "dilation_rate": c.dilation,
        "activation": c.activation.name(),
        "use_bias": c.use_bias,
    })
}

fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

impl LayerKind {
    /// The layer's Keras config (without name and trainable, which the layer adds).
    pub fn to_config(&self) -> Value {
        match self {
            LayerKind::Input { shape } => json!({"batch_input_shape": shape, "dtype": "float32"}),
            LayerKind::Dense { units, activation, use_bias } => {
                json!({"units": units, "activation": activation.name(), "use_bias": use_bias})
            }
            LayerKind::Conv2D(c) => with(conv_config(c), json!({"filters": c.filters})),
            LayerKind::Conv2DTranspose { conv, output_padding } => {
                with(conv_config(conv), json!({"filters": conv.filters, "output_padding": output_padding}))
            }
            LayerKind::SeparableConv2D { conv, depth_multiplier } => {
                with(conv_config(conv), json!({"filters": conv.filters, "depth_multiplier": depth_multiplier}))
            }
            LayerKind::DepthwiseConv2D { conv, depth_multiplier } => {
                with(conv_config(conv), json!({"depth_multiplier": depth_multiplier}))
            }
            LayerKind::BatchNormalization { momentum, epsilon, center, scale } => {
                json!({"axis": -1, "momentum": momentum, "epsilon": epsilon, "center": center, "scale": scale})
            }
            LayerKind::Pooling2D { pool, strides, padding, .. } => json!({
                "pool_size": pool,
                "strides": strides.unwrap_or(*pool),
                "padding": padding.name(),
                "data_format": "channels_last",
            }),
            LayerKind::GlobalAveragePooling2D => json!({"data_format": "channels_last", "keepdims": false}),
            LayerKind::Flatten => json!({"data_format": "channels_last"}),
            LayerKind::Dropout { rate } => json!({"rate": rate}),
            LayerKind::Rescaling { scale, offset } => json!({"scale": scale, "offset": offset}),
            LayerKind::Activation(a) => json!({"activation": a.name()}),
            LayerKind::Add => json!({}),
            LayerKind::Concatenate { axis } => json!({"axis": axis}),
            LayerKind::ReLU { max_value } => json!({"max_value": max_value, "negative_slope": 0.0, "threshold": 0.0}),
            LayerKind::ZeroPadding2D { padding } => json!({"padding": padding, "data_format": "channels_last"}),
            LayerKind::RandomFlip { horizontal, vertical } => json!({"mode": match (horizontal, vertical) {
                (true, false) => "horizontal",
                (false, true) => "vertical",
                _ => "horizontal_and_vertical",
            }}),
            LayerKind::RandomRotation { factor } => json!({"factor": factor, "fill_mode": "reflect", "interpolation": "bilinear"}),
            LayerKind::RandomZoom { height_factor, width_factor } => json!({
                "height_factor": height_factor,
                "width_factor": width_factor,
                "fill_mode": "reflect",
                "interpolation": "bilinear",
            }),
            LayerKind::Model(m) => m.0.topology().to_json()["config"].clone(),
        }
    }

    /// The Keras class name a file uses (pooling layers have one name per kind).
    fn file_class_name(&self) -> &'static str {
        match self {
            LayerKind::Pooling2D { kind: PoolKind::Max, .. } => "MaxPooling2D",
            LayerKind::Pooling2D { kind: PoolKind::Average, .. } => "AveragePooling2D",
            other => other.class_name(),
        }
    }
}

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
        None => (layer.kind().file_class_name().to_string(), layer.kind().to_config()),
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
