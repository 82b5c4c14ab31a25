//! BatchNormalization followed by a ReLU (Activation("relu") or ReLU()) runs as one op:
//! one pass over the data forward and one backward instead of two each, and one tensor
//! less held for the gradient. Found once per model from its layer calls; a pair is
//! fused only where nothing else reads the normalization's output (no other layer, no
//! model output), so no caller can tell.

use std::collections::HashMap;

use crate::nn::activation::Activation as Function;
use crate::nn::layer::Layer;
use crate::nn::layers::activations::{Activation, ReLU};
use crate::nn::layers::batch_norm::BatchNormalization;
use crate::nn::symbolic::KerasTensor;

fn is_plain_relu(layer: &Layer) -> bool {
    let kind = layer.kind();
    kind.downcast::<Activation>().is_some_and(|a| a.0 == Function::Relu)
        || kind.downcast::<ReLU>().is_some_and(|r| r.max_value.is_none())
}

/// For each step (index into `steps`) that is a BatchNormalization call whose only
/// reader is a plain ReLU call: that ReLU's step index.
pub(crate) fn relu_fusions(steps: &[(Layer, usize)], outputs: &[KerasTensor]) -> HashMap<usize, usize> {
    let mut readers: HashMap<usize, Vec<usize>> = HashMap::new();
    for (k, (layer, node)) in steps.iter().enumerate() {
        for input in &layer.0.nodes.borrow()[*node].inputs {
            readers.entry(input.id()).or_default().push(k);
        }
    }
    for o in outputs {
        // A model output is read from outside: its producer is never fused away.
        readers.entry(o.id()).or_default().push(usize::MAX);
    }
    let mut fused = HashMap::new();
    for (k, (layer, node)) in steps.iter().enumerate() {
        if layer.kind().downcast::<BatchNormalization>().is_none() {
            continue;
        }
        let out = layer.0.nodes.borrow()[*node].output_id;
        let Some([reader]) = readers.get(&out).map(Vec::as_slice) else { continue };
        let Some((relu, relu_node)) = steps.get(*reader) else { continue };
        if is_plain_relu(relu) && relu.0.nodes.borrow()[*relu_node].inputs.len() == 1 {
            fused.insert(k, *reader);
        }
    }
    fused
}

#[cfg(test)]
mod tests {
    use super::relu_fusions;
    use crate::nn::{input, KerasTensor, Layer, LayerKind, Model};
    use serde_json::{json, Value};

    fn apply(class: &str, cfg: Value, x: &KerasTensor) -> KerasTensor {
        Layer::new(LayerKind::from_config(class, &cfg).unwrap(), None).call(&[x.clone()]).unwrap()
    }

    /// The (BatchNormalization, ReLU) class pairs fused in the model from `x` to `outputs`.
    fn fused(x: &KerasTensor, outputs: &[KerasTensor]) -> Vec<(String, String)> {
        let m = Model::new(&[x.clone()], outputs, None).unwrap();
        let mut pairs: Vec<(String, String)> = relu_fusions(m.steps(), outputs)
            .into_iter()
            .map(|(bn, relu)| (m.steps()[bn].0.name().to_string(), m.steps()[relu].0.class_name().to_string()))
            .collect();
        pairs.sort();
        pairs
    }

    #[test]
    fn only_a_relu_that_is_the_sole_reader_is_fused() {
        let x = input(&[4, 4, 2], None).unwrap();
        let bn = |t: &KerasTensor| apply("BatchNormalization", json!({}), t);
        let a = bn(&x);
        let a_relu = apply("Activation", json!({"activation": "relu"}), &a);
        let b = bn(&a_relu);
        let b_relu = apply("ReLU", json!({}), &b);
        let c = bn(&b_relu);
        let c_sigmoid = apply("Activation", json!({"activation": "sigmoid"}), &c);
        let d = bn(&c_sigmoid);
        let d_relu6 = apply("ReLU", json!({"max_value": 6.0}), &d);
        let e = bn(&d_relu6);
        let e_relu = apply("Activation", json!({"activation": "relu"}), &e);
        let got = fused(&x, &[e_relu.clone()]);
        // c feeds a sigmoid and d a capped ReLU: those stay apart.
        let mut want: Vec<(String, String)> = [(&a, "Activation"), (&b, "ReLU"), (&e, "Activation")]
            .iter()
            .map(|(t, relu)| (t.layer().name().to_string(), relu.to_string()))
            .collect();
        want.sort();
        assert_eq!(got, want);
        // e's output also leaves the model: it must be computed, so e runs unfused.
        let got = fused(&x, &[e_relu, e.clone()]);
        assert!(!got.iter().any(|p| p.0 == e.layer().name()), "{got:?}");
    }
}
