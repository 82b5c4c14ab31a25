//! Keras activation functions by name.

use crate::bail;
use crate::error::Result;
use crate::graph::Var;
use crate::ops::elementwise::UnaryOp;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Linear,
    Relu,
    Sigmoid,
    Tanh,
    Softmax,
}

impl Activation {
    pub fn parse(name: &str) -> Result<Activation> {
        Ok(match name {
            "linear" | "" => Activation::Linear,
            "relu" => Activation::Relu,
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "softmax" => Activation::Softmax,
            other => bail!("unknown activation '{other}': use linear, relu, sigmoid, tanh or softmax"),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softmax => "softmax",
        }
    }

    pub fn apply(self, x: &Var) -> Result<Var> {
        match self {
            Activation::Linear => Ok(x.clone()),
            Activation::Relu => x.unary(UnaryOp::Relu),
            Activation::Sigmoid => Ok(x.unary(UnaryOp::Sigmoid)?.with_logits(x)),
            Activation::Tanh => x.unary(UnaryOp::Tanh),
            Activation::Softmax => Ok(x.softmax(-1, false)?.with_logits(x)),
        }
    }
}
