//! A whole model called as a layer (an augmentation Sequential, a pretrained base):
//! Keras's "a model is a layer". Its weights are the model's own, shared; it runs
//! through `Model::run`, not `forward`.

use std::any::Any;

use serde_json::Value;

use super::{fmt_dims, Forward, KerasLayer, Shape};
use crate::error::Result;
use crate::graph::Var;
use crate::nn::model::Model;
use crate::{bail, ensure};

/// A whole model called as a layer of another (`x = base(x)`).
pub struct NestedModel(pub Model);

impl std::fmt::Debug for NestedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} name={}>", self.0.class_name(), self.0.name())
    }
}

impl KerasLayer for NestedModel {
    fn class_name(&self) -> &'static str {
        self.0.class_name()
    }

    fn arity(&self) -> Option<usize> {
        Some(self.0.inputs().len())
    }

    fn output_shape(&self, inputs: &[Shape], layer: &str) -> Result<Shape> {
        let m = &self.0;
        ensure!(
            m.outputs().len() == 1,
            "{layer}: a model with {} outputs cannot be called as a layer (only single-output models can)",
            m.outputs().len()
        );
        for (want, got) in m.inputs().iter().zip(inputs) {
            let want = want.shape();
            let fits =
                want.len() == got.len() && want.iter().zip(got).skip(1).all(|(w, g)| w.is_none() || g.is_none() || w == g);
            ensure!(fits, "{layer}: expects an input of shape {}, got {}", fmt_dims(want), fmt_dims(got));
        }
        let mut out = m.outputs()[0].shape().to_vec();
        if let Some(first) = out.first_mut() {
            *first = inputs.first().and_then(|x| x.first().copied().flatten());
        }
        Ok(out)
    }

    fn forward(&self, _inputs: &[Var], _w: &[Var], _fwd: &mut Forward, _layer: &str) -> Result<Var> {
        bail!("internal: a nested model runs through Model::run")
    }

    /// The model's topology config (its layers and connections).
    fn get_config(&self) -> Value {
        self.0.topology().to_json()["config"].clone()
    }

    fn as_model(&self) -> Option<&Model> {
        Some(&self.0)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
