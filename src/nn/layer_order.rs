//! The order of `model.layers` in a functional model, as Keras computes it
//! (keras/src/ops/function.py `map_graph`): deepest layers first, where a layer's depth
//! is its longest distance (in layer calls) to an output, ties broken by the order in
//! which the depth-first walk from the outputs first reached the layer. Branches of
//! different lengths therefore interleave, and creation order plays no part.

use std::collections::HashMap;
use std::rc::Rc;

use crate::nn::layer::Layer;
use crate::nn::symbolic::KerasTensor;

fn key(layer: &Layer) -> usize {
    Rc::as_ptr(&layer.0) as usize
}

/// `steps`: every layer call (layer, node index), producers before consumers, as the
/// depth-first walk from the outputs finished them; `first_reached`: layers in the order
/// that walk first reached them; `inputs`: the model's inputs (unused ones still count,
/// at depth 0 ahead of every reached layer of that depth, as Keras places them).
pub(crate) fn keras_layer_order(steps: &[(Layer, usize)], first_reached: &[Layer], inputs: &[KerasTensor]) -> Vec<Layer> {
    let mut rank: HashMap<usize, i64> = first_reached.iter().enumerate().map(|(i, l)| (key(l), i as i64)).collect();
    let mut node_depth: HashMap<(usize, usize), usize> = HashMap::new();
    let mut layer_depth: HashMap<usize, usize> = HashMap::new();
    let mut listed: Vec<Layer> = Vec::new();
    // From the outputs back: a call's depth is one more than its deepest consumer's; a
    // layer called several times takes the deepest of its calls, and (as in Keras) a later
    // call of it inherits that depth before passing it on to its producers.
    for (layer, node) in steps.iter().rev() {
        let id = key(layer);
        let mut depth = *node_depth.get(&(id, *node)).unwrap_or(&0);
        match layer_depth.get(&id) {
            Some(&d) => depth = depth.max(d),
            None => listed.push(layer.clone()),
        }
        layer_depth.insert(id, depth);
        node_depth.insert((id, *node), depth);
        for parent in &layer.0.nodes.borrow()[*node].inputs {
            let at = node_depth.entry((key(parent.layer()), parent.node_index())).or_insert(0);
            *at = (*at).max(depth + 1);
        }
    }
    for input in inputs {
        let layer = input.layer();
        if !layer_depth.contains_key(&key(layer)) {
            layer_depth.insert(key(layer), 0);
            rank.insert(key(layer), -1);
            listed.push(layer.clone());
        }
    }
    // Stable: unused inputs (all ranked -1) keep the order the model lists them in.
    listed.sort_by_key(|l| (std::cmp::Reverse(layer_depth[&key(l)]), rank[&key(l)]));
    listed
}
