//! `model.save("x.keras")`: a Keras 3 archive that `keras.models.load_model` opens.
//!
//! `config.json` is the model's topology in Keras 3's serialization: every layer with
//! `module`/`registered_name`, inbound nodes as `{"args": [...], "kwargs": {}}` holding
//! `__keras_tensor__` references. Every model, nested ones included, is written as a
//! `Functional` (a Sequential's graph is a functional one). `model.weights.h5` holds the
//! weights in the Keras 3 layout that `from_keras` reads (`layers/<key>/vars/<i>`, the
//! key numbered per class in layer order, the layer's name in the `name` attribute) and,
//! for a compiled model, the optimizer's state (`optimizer/vars/<i>`, see
//! `nn::keras_optimizer_vars`).

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::error::Result;
use crate::io::hdf5::H5Tree;
use crate::io::keras_file::KerasArchive;
use crate::io::tfjs::{LayerSpec, TensorRef};
use crate::nn::from_keras::layer_keys;
use crate::nn::model::Model;

/// The Keras release whose file format is written (Keras checks it to choose a loader).
const KERAS_FORMAT_VERSION: &str = "3.15.1";

type Shapes = HashMap<TensorRef, Vec<Option<usize>>>;

fn keras_tensor(r: &TensorRef, shapes: &Shapes) -> Value {
    let shape = shapes.get(r).cloned().unwrap_or_default();
    json!({"class_name": "__keras_tensor__", "config": {"shape": shape, "dtype": "float32", "keras_history": [r.0, r.1, r.2]}})
}

fn layer_v3(model: &Model, spec: &LayerSpec, shapes: &Shapes) -> Result<Value> {
    let nodes: Vec<Value> = spec
        .inbound
        .iter()
        .map(|refs| {
            // One tensor is passed as itself, several as a list (Add, Concatenate).
            let arg = match refs.as_slice() {
                [one] => keras_tensor(one, shapes),
                many => Value::Array(many.iter().map(|r| keras_tensor(r, shapes)).collect()),
            };
            json!({"args": [arg], "kwargs": {}})
        })
        .collect();
    let layer = model.get_layer(&spec.name)?;
    let mut entry = match layer.as_model() {
        Some(nested) => model_v3(nested, layer.trainable())?,
        None => {
            let mut config = spec.config.clone();
            if let Some(c) = config.as_object_mut() {
                c.insert("name".into(), json!(spec.name));
                if spec.is_input() {
                    if let Some(shape) = c.remove("batch_input_shape") {
                        c.insert("batch_shape".into(), shape);
                    }
                }
            }
            json!({"module": "keras.layers", "class_name": spec.class_name, "config": config, "registered_name": null})
        }
    };
    entry["name"] = json!(spec.name);
    entry["inbound_nodes"] = Value::Array(nodes);
    Ok(entry)
}

fn model_v3(model: &Model, trainable: bool) -> Result<Value> {
    let topology = model.topology();
    let shapes = model.tensor_shapes();
    let refs = |rs: &[TensorRef]| rs.iter().map(|r| json!([r.0, r.1, r.2])).collect::<Vec<_>>();
    let layers: Vec<Value> = topology.layers.iter().map(|l| layer_v3(model, l, &shapes)).collect::<Result<_>>()?;
    Ok(json!({
        "module": "keras.src.models.functional",
        "class_name": "Functional",
        "config": {
            "name": model.name(),
            "trainable": trainable,
            "layers": layers,
            "input_layers": refs(&topology.input_layers),
            "output_layers": refs(&topology.output_layers),
        },
        "registered_name": "Functional",
    }))
}

impl Model {
    /// The Keras 3 `config.json` of this model.
    pub fn keras_config(&self) -> Result<Value> {
        let mut config = model_v3(self, self.trainable())?;
        // Keras 3's compile_config: the same facts as the legacy training_config.
        if let Some(training) = self.training_config() {
            let mut optimizer = training["optimizer_config"].clone();
            if let Some(o) = optimizer.as_object_mut() {
                o.insert("module".into(), json!("keras.optimizers"));
                o.insert("registered_name".into(), Value::Null);
            }
            config["compile_config"] = json!({
                "optimizer": optimizer,
                "loss": training["loss"],
                "loss_weights": training["loss_weights"],
                "metrics": training["metrics"],
                "weighted_metrics": null,
                "run_eagerly": false,
                "steps_per_execution": 1,
                "jit_compile": false,
            });
        }
        Ok(config)
    }

    /// `model.weights.h5` of this model: weights read back from the device.
    pub async fn keras_weights_h5(&self) -> Result<Vec<u8>> {
        let mut root = H5Tree::default();
        self.fill_keras3(&mut root).await?;
        self.fill_optimizer_vars(&mut root).await?;
        root.to_bytes()
    }

    fn fill_keras3<'a>(&'a self, tree: &'a mut H5Tree) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + 'a>> {
        Box::pin(async move {
            tree.group("vars").attrs.push(("name".into(), self.name().to_string()));
            let layers = tree.group("layers");
            for (layer, key) in self.layers().iter().zip(layer_keys(self.layers(), Some("Functional"))) {
                let group = layers.group(&key);
                match layer.as_model() {
                    Some(model) => model.fill_keras3(group).await?,
                    None => {
                        let vars = group.group("vars");
                        vars.attrs.push(("name".into(), layer.name().to_string()));
                        for (i, w) in layer.weights().iter().enumerate() {
                            let value = w.value().cast(crate::tensor::DType::F32)?;
                            let shape = value.shape().to_vec();
                            let data = value.to_data().await?;
                            vars.datasets.push((i.to_string(), shape, data));
                        }
                    }
                }
            }
            Ok(())
        })
    }

    /// The whole model as a `.keras` file.
    pub async fn to_keras(&self) -> Result<Vec<u8>> {
        let archive = KerasArchive {
            config: self.keras_config()?,
            metadata: json!({"keras_version": KERAS_FORMAT_VERSION, "saved_by": concat!("convbook ", env!("CARGO_PKG_VERSION"))}),
            weights_h5: self.keras_weights_h5().await?,
        };
        archive.to_bytes()
    }
}
