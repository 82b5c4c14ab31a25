//! Keras `Dense`: `activation(x · kernel + bias)` over the last axis.

use std::any::Any;

use serde_json::{json, Value};

use super::common::{accept_weight_options, activation};
use super::{fmt_dims, known, spec, weight, Forward, KerasLayer, LayerKind, Shape, WeightSpec};
use crate::ensure;
use crate::error::Result;
use crate::graph::Var;
use crate::nn::activation::Activation;
use crate::nn::init::Initializer;
use crate::options::Options;

pub const SIGNATURE: &[&str] = &["units", "activation", "use_bias"];

#[derive(Debug)]
pub struct Dense {
    pub units: usize,
    pub activation: Activation,
    pub use_bias: bool,
}

pub fn from_config(o: &Options) -> Result<LayerKind> {
    accept_weight_options(o, &["kernel", "bias"]);
    // LoRA and quantization only exist in Keras 3 configs; refuse them when switched on.
    ensure!(o.usize("lora_rank")?.is_none(), "Dense: lora_rank is not supported");
    o.accept(&["lora_alpha", "quantization_config"]);
    Ok(LayerKind::new(Dense { units: o.required_usize("units")?, activation: activation(o)?, use_bias: o.bool("use_bias", true)? }))
}

impl KerasLayer for Dense {
    fn class_name(&self) -> &'static str {
        "Dense"
    }

    fn output_shape(&self, inputs: &[Shape], layer: &str) -> Result<Shape> {
        let x = &inputs[0];
        ensure!(x.len() >= 2, "{layer}: expects an input of rank >= 2, got {}", fmt_dims(x));
        known(x[x.len() - 1], "last", layer)?;
        let mut out = x.clone();
        *out.last_mut().unwrap_or(&mut None) = Some(self.units);
        Ok(out)
    }

    fn weight_specs(&self, inputs: &[Shape], layer: &str) -> Result<Vec<WeightSpec>> {
        let last = known(inputs[0].last().copied().flatten(), "channel", layer)?;
        let mut w = vec![spec("kernel", vec![last, self.units], Initializer::GlorotUniform, true)];
        if self.use_bias {
            w.push(spec("bias", vec![self.units], Initializer::Zeros, true));
        }
        Ok(w)
    }

    fn forward(&self, inputs: &[Var], w: &[Var], _fwd: &mut Forward, layer: &str) -> Result<Var> {
        let x = &inputs[0];
        let kernel = weight(w, 0, layer)?;
        let rank = x.shape().len();
        let flat = if rank > 2 { x.reshape(&[-1, x.shape()[rank - 1] as isize])? } else { x.clone() };
        let mut y = flat.matmul(kernel)?;
        if self.use_bias {
            y = y.add(weight(w, 1, layer)?)?;
        }
        if rank > 2 {
            let mut shape: Vec<isize> = x.shape().iter().map(|&d| d as isize).collect();
            shape[rank - 1] = -1;
            y = y.reshape(&shape)?;
        }
        self.activation.apply(&y)
    }

    fn get_config(&self) -> Value {
        json!({"units": self.units, "activation": self.activation.name(), "use_bias": self.use_bias})
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{error, output_shape, round_trip};
    use serde_json::json;

    #[test]
    fn config_round_trip_and_shapes() {
        let k = round_trip("Dense", json!({"units": 4, "activation": "relu", "use_bias": false, "kernel_initializer": "he_normal"}));
        assert_eq!(output_shape(&k, &[&[None, Some(3), Some(7)]]).unwrap(), vec![None, Some(3), Some(4)]);
        let w = k.weight_specs(&[vec![None, Some(7)]], "d").unwrap();
        assert_eq!(w.iter().map(|s| (s.name, s.shape.clone())).collect::<Vec<_>>(), vec![("kernel", vec![7, 4])]);
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(error("Dense", json!({})), "Dense: missing required argument units");
        let k = round_trip("Dense", json!({"units": 4}));
        assert!(output_shape(&k, &[&[Some(3)]]).unwrap_err().to_string().contains("rank >= 2"));
    }
}
