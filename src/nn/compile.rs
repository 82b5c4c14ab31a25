//! `compile`: a loss, loss weight and metrics per model output, and the optimizer; and
//! the per-batch log values they define (Keras's names: "loss", "digit_loss",
//! "digit_accuracy").

use crate::error::{Error, Result};
use crate::nn::losses::{accuracy, Loss};
use crate::nn::model::Model;
use crate::nn::optimizers::Optimizer;
use crate::options::Options;
use crate::tensor::Tensor;
use crate::ensure;
use serde_json::Value;

/// What `compile` set for one model output.
#[derive(Clone, Debug)]
pub struct Head {
    /// The output layer's name: Keras prefixes per-output logs with it ("age_loss").
    pub output: String,
    pub loss: Loss,
    /// Factor of this output's loss in the total (Keras `loss_weights`).
    pub weight: f64,
    /// Whether "accuracy" is reported (Keras picks its flavour from the loss).
    pub accuracy: bool,
}

/// Loss, metrics and optimizer set by `compile`.
pub struct Compiled {
    pub optimizer: Optimizer,
    /// One per model output, in output order.
    pub heads: Vec<Head>,
}

/// The log key of an output's value: plain for a single output, prefixed with the
/// output's name when there are several (as Keras names them).
fn log_key(heads: &[Head], i: usize, what: &str) -> String {
    if heads.len() == 1 {
        what.to_string()
    } else {
        format!("{}_{what}", heads[i].output)
    }
}

/// One entry per output from Keras's three spellings: a single value for all outputs, a
/// list in output order, or an object keyed by output name (missing names give null).
/// `single` says when a list or object is itself one value (a flat metrics list, a loss
/// config object). `what` prefixes the errors ("compile: loss").
pub fn per_output(v: &Value, outputs: &[String], what: &str, single: impl Fn(&Value) -> bool) -> Result<Vec<Value>> {
    Ok(match v {
        Value::Object(map) if !single(v) => {
            for k in map.keys() {
                ensure!(outputs.contains(k), "{what} names \"{k}\", which is not an output (outputs: {})", outputs.join(", "));
            }
            outputs.iter().map(|o| map.get(o).cloned().unwrap_or(Value::Null)).collect()
        }
        Value::Array(list) if !single(v) => {
            ensure!(
                list.len() == outputs.len(),
                "{what}: {} entries for {} output(s) ({})",
                list.len(),
                outputs.len(),
                outputs.join(", ")
            );
            list.clone()
        }
        other => vec![other.clone(); outputs.len()],
    })
}

impl Model {
    /// `model.compile(optimizer, loss, metrics)`: the same loss and metrics for every output.
    pub fn compile(&self, optimizer: Optimizer, loss: Loss, metrics: &[&str]) -> Result<()> {
        let n = self.outputs().len();
        let metrics: Vec<String> = metrics.iter().map(|m| m.to_string()).collect();
        self.compile_outputs(optimizer, vec![loss; n], None, vec![metrics; n])
    }

    /// `model.compile(**options)` as a notebook cell writes it: `optimizer` ("rmsprop", a
    /// name or `{class_name, config}`), `loss` (one name, a list in output order or an
    /// object by output name), `metrics` (["accuracy"], a list of lists or an object),
    /// `loss_weights`, and `from_logits` (for loss names). Unknown keys are refused.
    pub fn compile_with_options(&self, options: &Value) -> Result<()> {
        let o = Options::new("compile", options)?;
        let optimizer = Optimizer::from_value(o.get("optimizer").unwrap_or(&Value::String("rmsprop".into())))
            .map_err(|e| e.context("compile"))?;
        let outputs: Vec<String> = self.outputs().iter().map(|o| o.layer().name().to_string()).collect();
        let from_logits = o.bool("from_logits", false)?;
        let loss = o.get("loss").cloned().unwrap_or(Value::Null);
        let metrics = o.get("metrics").cloned().unwrap_or(Value::Null);
        let loss_weights = o.get("loss_weights").cloned().unwrap_or(Value::Null);
        // Settings of Keras's compile that change how, not what, it computes.
        o.accept(&["run_eagerly", "steps_per_execution", "jit_compile", "auto_scale_loss"]);
        o.unsupported("weighted_metrics", &Value::Null)?;
        o.finish()?;
        let losses = per_output(&loss, &outputs, "compile: loss", |_| false)?
            .iter()
            .zip(&outputs)
            .map(|(l, o)| match l.as_str() {
                Some(name) => Loss::parse(name, from_logits),
                None => Err(Error::new(format!("compile: output \"{o}\" needs a loss name, got {l}"))),
            })
            .collect::<Result<Vec<_>>>()?;
        // ["accuracy"] means accuracy for every output; [["accuracy"], []] is per output.
        let flat_list = |v: &Value| v.as_array().is_some_and(|l| l.iter().all(|m| m.is_string()));
        // As Keras: with several outputs, a flat list would be ambiguous.
        ensure!(
            outputs.len() == 1 || !flat_list(&metrics) || metrics.as_array().is_some_and(|l| l.is_empty()),
            "compile: model has {} outputs ({}): give metrics per output, as a list of lists ([[\"accuracy\"], []]) or an object by output name ({{{}: [\"accuracy\"]}})",
            outputs.len(),
            outputs.join(", "),
            outputs[0]
        );
        let metrics = per_output(&metrics, &outputs, "compile: metrics", flat_list)?
            .iter()
            .map(|m| match m {
                Value::Null => Ok(vec![]),
                Value::String(s) => Ok(vec![s.clone()]),
                Value::Array(l) => l
                    .iter()
                    .map(|x| x.as_str().map(str::to_string).ok_or_else(|| Error::new(format!("compile: bad metric {x}"))))
                    .collect(),
                other => Err(Error::new(format!("compile: bad metrics {other}"))),
            })
            .collect::<Result<Vec<_>>>()?;
        let weights = match &loss_weights {
            Value::Null => None,
            w => Some(
                per_output(w, &outputs, "compile: loss_weights", |_| false)?
                    .iter()
                    .map(|x| match x {
                        Value::Null => Ok(1.0),
                        x => x.as_f64().ok_or_else(|| Error::new(format!("compile: loss weight {x} is not a number"))),
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
        };
        self.compile_outputs(optimizer, losses, weights, metrics)
    }

    /// `compile` with a loss, a loss weight and metrics per output (Keras's list or dict
    /// forms, in output order).
    pub fn compile_outputs(
        &self,
        optimizer: Optimizer,
        losses: Vec<Loss>,
        loss_weights: Option<Vec<f64>>,
        metrics: Vec<Vec<String>>,
    ) -> Result<()> {
        let n = self.outputs().len();
        let names: Vec<String> = self.outputs().iter().map(|o| o.layer().name().to_string()).collect();
        ensure!(
            losses.len() == n,
            "compile: model \"{}\" has {n} output(s) ({}) but {} loss(es) were given",
            self.name(),
            names.join(", "),
            losses.len()
        );
        let weights = loss_weights.unwrap_or_else(|| vec![1.0; n]);
        ensure!(weights.len() == n, "compile: {} loss weight(s) for {n} output(s) ({})", weights.len(), names.join(", "));
        ensure!(metrics.len() == n, "compile: metrics for {} output(s) but the model has {n} ({})", metrics.len(), names.join(", "));
        for m in metrics.iter().flatten() {
            ensure!(m == "accuracy" || m == "acc", "compile: unsupported metric '{m}' (use \"accuracy\")");
        }
        for ((loss, m), name) in losses.iter().zip(&metrics).zip(&names) {
            ensure!(
                m.is_empty() || loss.accuracy().is_some(),
                "compile: \"accuracy\" needs a classification loss, but output \"{name}\" uses {}",
                loss.name()
            );
        }
        let heads = names
            .into_iter()
            .zip(losses)
            .zip(weights)
            .zip(metrics)
            .map(|(((output, loss), weight), m)| Head { output, loss, weight, accuracy: !m.is_empty() })
            .collect();
        *self.compiled().borrow_mut() = Some(Compiled { optimizer, heads });
        Ok(())
    }

    pub(crate) fn with_compiled<R>(&self, f: impl FnOnce(&mut Compiled) -> Result<R>) -> Result<R> {
        let mut c = self.compiled().borrow_mut();
        match c.as_mut() {
            Some(c) => f(c),
            None => Err(Error::new(format!(
                "model \"{}\" must be compiled before training or evaluation: call model.compile(...) first",
                self.name()
            ))),
        }
    }

    /// Training steps the optimizer has taken (Keras `model.optimizer.iterations`),
    /// `None` before `compile`.
    pub fn optimizer_iterations(&self) -> Option<usize> {
        self.compiled().borrow().as_ref().map(|c| c.optimizer.iterations())
    }

    pub(crate) fn heads(&self) -> Result<Vec<Head>> {
        self.with_compiled(|c| Ok(c.heads.clone()))
    }

    /// The total loss of one batch from each output's unweighted loss: the weighted sum,
    /// as Keras reports it under "loss".
    pub(crate) fn weighted_total(heads: &[Head], losses: &[Tensor]) -> Result<Tensor> {
        let mut total: Option<Tensor> = None;
        for (h, loss) in heads.iter().zip(losses) {
            let weighted = if h.weight == 1.0 { loss.clone() } else { loss.affine(h.weight, 0.0)? };
            total = Some(match total {
                None => weighted,
                Some(t) => t.add(&weighted)?,
            });
        }
        total.ok_or_else(|| Error::new("internal: no outputs"))
    }

    /// The log scalars (still on the device) of one batch: the total loss, each output's
    /// unweighted loss when there are several outputs (as Keras lists them), then the
    /// accuracies.
    pub(crate) fn batch_scalars(
        heads: &[Head],
        total: Tensor,
        losses: Vec<Tensor>,
        preds: &[Tensor],
        ys: &[Tensor],
    ) -> Result<Vec<(String, Tensor)>> {
        let mut out = vec![("loss".to_string(), total)];
        if heads.len() > 1 {
            for (i, loss) in losses.into_iter().enumerate() {
                out.push((log_key(heads, i, "loss"), loss));
            }
        }
        for (i, h) in heads.iter().enumerate() {
            if h.accuracy {
                let kind = h.loss.accuracy().ok_or_else(|| Error::new("internal: accuracy on a regression output"))?;
                let acc = accuracy(kind, &preds[i], &ys[i]).map_err(|e| e.context(format!("output \"{}\"", h.output)))?;
                out.push((log_key(heads, i, "accuracy"), acc));
            }
        }
        Ok(out)
    }
}
