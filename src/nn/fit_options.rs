//! The keyword arguments of `fit`, `evaluate`, `predict` and the callbacks, read with
//! Keras's defaults (stated here, nowhere else) through the one option reader.

use serde_json::{json, Value};

use crate::bail;
use crate::error::Result;
use crate::nn::train::{Callback, EarlyStopping, FitOptions, ModelCheckpoint};
use crate::options::Options;

impl Callback {
    /// `keras.callbacks.EarlyStopping(**options)` / `ModelCheckpoint(**options)`.
    pub fn from_options(class: &str, options: &Value) -> Result<Callback> {
        let o = Options::new(class, options)?;
        // Printing is the notebook's business; "auto" is the mode `improves` implements.
        o.accept(&["verbose"]);
        o.unsupported("mode", &json!("auto"))?;
        let monitor = o.str("monitor", "val_loss")?;
        let callback = match class {
            "EarlyStopping" => {
                o.unsupported("baseline", &Value::Null)?;
                o.unsupported("start_from_epoch", &json!(0))?;
                Callback::EarlyStopping(EarlyStopping {
                    monitor,
                    patience: o.usize_or("patience", 0)?,
                    min_delta: o.f64("min_delta", 0.0)?.abs(),
                    restore_best_weights: o.bool("restore_best_weights", false)?,
                })
            }
            "ModelCheckpoint" => {
                o.unsupported("save_weights_only", &json!(false))?;
                o.unsupported("save_freq", &json!("epoch"))?;
                o.unsupported("initial_value_threshold", &Value::Null)?;
                Callback::ModelCheckpoint(ModelCheckpoint {
                    monitor,
                    save_best_only: o.bool("save_best_only", false)?,
                    filepath: o.opt_str("filepath")?,
                })
            }
            other => bail!("unknown callback '{other}': use EarlyStopping or ModelCheckpoint"),
        };
        o.finish()?;
        Ok(callback)
    }

    /// A callback as `fit` receives it: `{class_name, config}`.
    pub fn from_value(v: &Value) -> Result<Callback> {
        match (v.get("class_name").and_then(Value::as_str), v.get("config")) {
            (Some(class), config) if v.as_object().is_some_and(|m| m.len() <= 2) => {
                Callback::from_options(class, config.unwrap_or(&Value::Null))
            }
            _ => bail!("fit: callbacks are made by keras.callbacks.EarlyStopping(...) or ModelCheckpoint(...), got {v}"),
        }
    }

    /// `{class_name, config}` with every setting, defaults filled in.
    pub fn to_value(&self) -> Value {
        match self {
            Callback::EarlyStopping(e) => json!({"class_name": "EarlyStopping", "config": {
                "monitor": e.monitor, "patience": e.patience, "min_delta": e.min_delta,
                "restore_best_weights": e.restore_best_weights,
            }}),
            Callback::ModelCheckpoint(m) => json!({"class_name": "ModelCheckpoint", "config": {
                "monitor": m.monitor, "save_best_only": m.save_best_only, "filepath": m.filepath,
            }}),
        }
    }
}

impl FitOptions {
    /// `model.fit(x, y, **options)`: `epochs` (1), `batch_size` (32), `shuffle` (true),
    /// `seed` (0), `callbacks`, `verbose` (the caller's). Validation data travels apart
    /// (it holds tensors); Keras arguments we do not implement are refused by name.
    pub fn from_options(options: &Value) -> Result<FitOptions> {
        let o = Options::new("fit", options)?;
        let d = FitOptions::default();
        o.accept(&["verbose"]);
        for key in [
            "validation_split",
            "class_weight",
            "sample_weight",
            "initial_epoch",
            "steps_per_epoch",
            "validation_steps",
            "validation_batch_size",
            "validation_freq",
        ] {
            o.unsupported(key, &Value::Null)?;
        }
        let callbacks = match o.get("callbacks") {
            None => vec![],
            Some(Value::Array(list)) => list.iter().map(Callback::from_value).collect::<Result<Vec<_>>>()?,
            Some(v) => bail!("fit: callbacks must be a list, got {v}"),
        };
        let opts = FitOptions {
            epochs: o.usize_or("epochs", d.epochs)?,
            batch_size: o.usize_or("batch_size", d.batch_size)?,
            validation_data: None,
            shuffle: o.bool("shuffle", d.shuffle)?,
            seed: o.u64("seed")?.unwrap_or(d.seed),
            callbacks,
        };
        o.finish()?;
        Ok(opts)
    }
}

/// The options of `evaluate`, `predict` and a model called on data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchOptions {
    /// Rows per batch (Keras default 32).
    pub batch_size: usize,
    /// Layers behave as in `fit` (augmentation, dropout): Keras's `model(x, training=True)`.
    pub training: bool,
}

impl BatchOptions {
    /// `owner` is "evaluate", "predict" or "model(x)"; only the latter two take `training`.
    pub fn from_options(owner: &str, options: &Value) -> Result<BatchOptions> {
        let o = Options::new(owner, options)?;
        o.accept(&["verbose"]);
        o.unsupported("steps", &Value::Null)?;
        let training = if owner == "evaluate" {
            o.unsupported("sample_weight", &Value::Null)?;
            // Keras returns a list unless asked; the notebook always gives the dict.
            o.accept(&["return_dict"]);
            false
        } else {
            o.bool("training", false)?
        };
        let batch_size = o.usize_or("batch_size", 32)?;
        crate::ensure!(batch_size > 0, "{owner}: batch_size must be positive");
        o.finish()?;
        Ok(BatchOptions { batch_size, training })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_defaults_and_spellings() {
        let o = FitOptions::from_options(&Value::Null).unwrap();
        assert_eq!((o.epochs, o.batch_size, o.shuffle, o.seed, o.callbacks.len()), (1, 32, true, 0, 0));
        let o = FitOptions::from_options(&json!({"epochs": 3, "batchSize": 4, "shuffle": false, "seed": 7, "verbose": 0})).unwrap();
        assert_eq!((o.epochs, o.batch_size, o.shuffle, o.seed), (3, 4, false, 7));
    }

    #[test]
    fn fit_refuses_typos_and_what_it_does_not_do() {
        let e = FitOptions::from_options(&json!({"epochs": 1, "batchSise": 4})).err().unwrap().to_string();
        assert_eq!(e, "fit: unrecognized keyword argument \"batchSise\" (did you mean \"batchSize\"?)");
        let e = FitOptions::from_options(&json!({"validation_split": 0.2})).err().unwrap().to_string();
        assert_eq!(e, "fit: validation_split=0.2 is not supported (leave it out)");
        let e = FitOptions::from_options(&json!({"callbacks": [{"type": "EarlyStopping"}]})).err().unwrap().to_string();
        assert!(e.contains("keras.callbacks.EarlyStopping"), "{e}");
    }

    #[test]
    fn callbacks_take_keras_defaults_and_refuse_typos() {
        let c = Callback::from_options("EarlyStopping", &json!({"patience": 2, "restoreBestWeights": true})).unwrap();
        let Callback::EarlyStopping(e) = &c else { panic!("{c:?}") };
        assert_eq!((e.monitor.as_str(), e.patience, e.min_delta, e.restore_best_weights), ("val_loss", 2, 0.0, true));
        // The filled-in form reads back to the same callback.
        let again = Callback::from_value(&c.to_value()).unwrap();
        assert_eq!(again.to_value(), c.to_value());
        let c = Callback::from_options("ModelCheckpoint", &json!({"filepath": "best.keras", "saveBestOnly": true})).unwrap();
        let Callback::ModelCheckpoint(m) = &c else { panic!("{c:?}") };
        assert_eq!((m.monitor.as_str(), m.save_best_only, m.filepath.as_deref()), ("val_loss", true, Some("best.keras")));
        let e = Callback::from_options("EarlyStopping", &json!({"patiense": 2})).unwrap_err().to_string();
        assert_eq!(e, "EarlyStopping: unrecognized keyword argument \"patiense\" (did you mean \"patience\"?)");
        let e = Callback::from_options("EarlyStopping", &json!({"mode": "max"})).unwrap_err().to_string();
        assert!(e.contains("mode=\"max\" is not supported"), "{e}");
        assert!(Callback::from_options("TensorBoard", &Value::Null).is_err());
    }

    #[test]
    fn evaluate_and_predict_options() {
        assert_eq!(BatchOptions::from_options("evaluate", &Value::Null).unwrap(), BatchOptions { batch_size: 32, training: false });
        let p = BatchOptions::from_options("predict", &json!({"batchSize": 8, "training": true})).unwrap();
        assert_eq!(p, BatchOptions { batch_size: 8, training: true });
        let e = BatchOptions::from_options("evaluate", &json!({"training": true})).unwrap_err().to_string();
        assert!(e.starts_with("evaluate: unrecognized keyword argument \"training\""), "{e}");
        let e = BatchOptions::from_options("predict", &json!({"batch_sise": 8})).unwrap_err().to_string();
        assert_eq!(e, "predict: unrecognized keyword argument \"batch_sise\" (did you mean \"batch_size\"?)");
    }
}
