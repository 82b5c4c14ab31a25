//! What `compile` set, saved with a model and restored on load, as Keras's
//! `load_model` does: the `training_config` of a TF.js layers-format file (loss, metrics,
//! loss weights, optimizer class and config). A TF.js file keeps no optimizer slots, so
//! its reloaded optimizer starts fresh; a `.keras` file keeps them (`nn::keras_optimizer_vars`).

use serde_json::{json, Map, Value};

use crate::error::Result;
use crate::nn::losses::Loss;
use crate::nn::model::Model;
use crate::nn::optimizers::{optimizer_config_json, optimizer_from_value, Optimizer};
use crate::nn::compile::{per_output, Head};
use crate::ops::optim_update::OptimizerConfig;
use crate::bail;

fn loss_json(loss: Loss) -> Value {
    let logits_class = match loss {
        Loss::SparseCategoricalCrossentropy { from_logits: true } => "SparseCategoricalCrossentropy",
        Loss::CategoricalCrossentropy { from_logits: true } => "CategoricalCrossentropy",
        Loss::BinaryCrossentropy { from_logits: true } => "BinaryCrossentropy",
        _ => return json!(loss.name()),
    };
    json!({"class_name": logits_class, "config": {"from_logits": true}})
}

fn loss_from(v: &Value) -> Result<Loss> {
    match v {
        Value::String(name) => Loss::parse(name, false),
        Value::Object(o) => {
            let class = o.get("class_name").and_then(Value::as_str).unwrap_or("");
            let from_logits = o.get("config").and_then(|c| c.get("from_logits")).and_then(Value::as_bool).unwrap_or(false);
            Loss::parse(class, from_logits)
        }
        other => bail!("training_config: cannot read loss {other}"),
    }
}

impl Model {
    /// The compile settings as a TF.js `training_config`, if the model is compiled.
    pub fn training_config(&self) -> Option<Value> {
        let c = self.compiled().borrow();
        let c = c.as_ref()?;
        let by_output = |f: &dyn Fn(&Head) -> Value| -> Value {
            if c.heads.len() == 1 {
                f(&c.heads[0])
            } else {
                Value::Object(c.heads.iter().map(|h| (h.output.clone(), f(h))).collect::<Map<_, _>>())
            }
        };
        let metrics = |h: &Head| if h.accuracy { json!(["accuracy"]) } else { json!([]) };
        Some(json!({
            "loss": by_output(&|h| loss_json(h.loss)),
            "metrics": by_output(&metrics),
            "loss_weights": if c.heads.iter().all(|h| h.weight == 1.0) { Value::Null } else { by_output(&|h| json!(h.weight)) },
            "optimizer_config": optimizer_config_json(&c.optimizer.config),
        }))
    }

    /// Compile from a file's `training_config`.
    pub fn compile_from(&self, config: &Value) -> Result<()> {
        let outputs: Vec<String> = self.outputs().iter().map(|o| o.layer().name().to_string()).collect();
        // A loss config object ({class_name, config}) is one loss, not a map by output;
        // with one output a list is that output's value.
        let single = |v: &Value| v.get("class_name").is_some() || (outputs.len() == 1 && v.is_array());
        let losses = per_output(&config["loss"], &outputs, "training_config: loss", single)?
            .iter()
            .zip(&outputs)
            .map(|(v, o)| match v {
                Value::Null => bail!("training_config: no loss for output \"{o}\""),
                v => loss_from(v),
            })
            .collect::<Result<Vec<_>>>()?;
        let metrics = per_output(&config["metrics"], &outputs, "training_config: metrics", single)?
            .into_iter()
            .map(|v| {
                let names: Vec<String> = match v {
                    Value::Array(l) => l.iter().filter_map(|m| m.as_str().map(str::to_string)).collect(),
                    Value::String(s) => vec![s],
                    _ => vec![],
                };
                names.into_iter().filter(|m| m == "accuracy" || m == "acc").collect()
            })
            .collect();
        let weights = match &config["loss_weights"] {
            Value::Null => None,
            w => Some(
                per_output(w, &outputs, "training_config: loss_weights", single)?.iter().map(|v| v.as_f64().unwrap_or(1.0)).collect(),
            ),
        };
        let optimizer = match config.get("optimizer_config") {
            Some(o) if !o.is_null() => optimizer_from_value(o).map_err(|e| e.context("training_config"))?,
            _ => OptimizerConfig::default(),
        };
        self.compile_outputs(Optimizer::new(optimizer), losses, weights, metrics)
    }
}
