//! Functional models (keras.Model(inputs, outputs)) and Sequential: a topologically
//! ordered list of layer calls, run on the autograd tape.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::error::Result;
use crate::graph::{Tape, Var};
use crate::nn::layer::{Layer, WeightRef};
use crate::nn::layer_order::keras_layer_order;
use crate::nn::layers::{fmt_dims, Forward, LayerKind};
use crate::nn::naming::unique_name;
use crate::nn::symbolic::{input, KerasTensor};
use crate::tensor::Tensor;
use crate::{bail, ensure, Device};

struct ModelInner {
    name: String,
    class_name: &'static str,
    inputs: Vec<KerasTensor>,
    outputs: Vec<KerasTensor>,
    /// Every layer call between inputs and outputs, producers before consumers.
    steps: Vec<(Layer, usize)>,
    /// BatchNormalization steps that run the ReLU after them, and that ReLU's step.
    relu_fusions: HashMap<usize, usize>,
    /// Distinct layers in Keras's `model.layers` order (input layers included).
    layers: Vec<Layer>,
    compiled: std::cell::RefCell<Option<crate::nn::compile::Compiled>>,
    /// Weights saved by ModelCheckpoint.
    checkpoint: std::cell::RefCell<Option<Vec<Tensor>>>,
    /// Keras `model.trainable` (matters when the model is a layer of another).
    trainable: std::cell::Cell<bool>,
    /// The layer this model becomes inside other models; weak, since that layer holds
    /// the model, and the same model called twice must be one layer (shared weights).
    as_layer: std::cell::RefCell<std::rc::Weak<crate::nn::layer::LayerInner>>,
}

/// A Keras model (functional or Sequential): cheap to clone, every clone is the same model.
#[derive(Clone)]
pub struct Model(Rc<ModelInner>);

impl Model {
    /// `keras.Model(inputs, outputs)`.
    pub fn new(inputs: &[KerasTensor], outputs: &[KerasTensor], name: Option<&str>) -> Result<Model> {
        Model::build(inputs, outputs, name, "Functional", "functional")
    }

    /// A Sequential from its graph (loading a file): summary and class name as Sequential.
    pub(crate) fn new_sequential(inputs: &[KerasTensor], outputs: &[KerasTensor], name: Option<&str>) -> Result<Model> {
        Model::build(inputs, outputs, name, "Sequential", "sequential")
    }

    fn build(
        inputs: &[KerasTensor],
        outputs: &[KerasTensor],
        name: Option<&str>,
        class_name: &'static str,
        prefix: &str,
    ) -> Result<Model> {
        ensure!(!inputs.is_empty() && !outputs.is_empty(), "Model: needs at least one input and one output");
        for i in inputs {
            ensure!(
                i.layer().kind().is_input(),
                "Model: inputs must come from keras.Input(), got the output of layer \"{}\"",
                i.layer().name()
            );
        }
        let input_ids: HashSet<usize> = inputs.iter().map(|t| t.id()).collect();
        let mut steps: Vec<(Layer, usize)> = Vec::new();
        let mut seen: HashSet<usize> = HashSet::new();
        let mut first_reached: Vec<Layer> = Vec::new();
        // Iterative post-order DFS from the outputs back to the inputs.
        for out in outputs {
            let mut stack: Vec<(KerasTensor, bool)> = vec![(out.clone(), false)];
            while let Some((t, expanded)) = stack.pop() {
                if seen.contains(&t.id()) {
                    continue;
                }
                let layer = t.layer().clone();
                let node = t.node_index();
                if expanded {
                    seen.insert(t.id());
                    steps.push((layer, node));
                    continue;
                }
                if layer.kind().is_input() {
                    ensure!(
                        input_ids.contains(&t.id()),
                        "Model: graph disconnected: output depends on input \"{}\" {}, which is not among the model's inputs",
                        layer.name(),
                        fmt_dims(t.shape())
                    );
                }
                if !first_reached.iter().any(|l| l.same(&layer)) {
                    first_reached.push(layer.clone());
                }
                stack.push((t.clone(), true));
                let parents: Vec<KerasTensor> = layer.0.nodes.borrow()[node].inputs.clone();
                for p in parents.into_iter().rev() {
                    if !seen.contains(&p.id()) {
                        stack.push((p, false));
                    }
                }
            }
        }
        let layers = keras_layer_order(&steps, &first_reached, inputs);
        // Inputs that no output uses still belong to the model.
        for i in inputs.iter().rev() {
            if !seen.contains(&i.id()) {
                steps.insert(0, (i.layer().clone(), i.node_index()));
            }
        }
        let relu_fusions = crate::nn::relu_fusion::relu_fusions(&steps, outputs);
        let mut names = HashSet::new();
        for l in &layers {
            ensure!(names.insert(l.name().to_string()), "Model: two layers are named \"{}\"", l.name());
        }
        let name = match name {
            Some(n) => n.to_string(),
            None => unique_name(prefix),
        };
        Ok(Model(Rc::new(ModelInner {
            name,
            class_name,
            inputs: inputs.to_vec(),
            outputs: outputs.to_vec(),
            steps,
            relu_fusions,
            layers,
            compiled: Default::default(),
            checkpoint: Default::default(),
            trainable: std::cell::Cell::new(true),
            as_layer: Default::default(),
        })))
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// "Functional" or "Sequential".
    pub fn class_name(&self) -> &'static str {
        self.0.class_name
    }

    /// Whether both handles are the same model.
    pub fn same(&self, other: &Model) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    /// Keras `model.trainable`.
    pub fn trainable(&self) -> bool {
        self.0.trainable.get()
    }

    /// Keras's `model.trainable = on`: the flag is set on every layer inside, so
    /// freezing a base and later unfreezing it (then refreezing some layers) works as there.
    pub fn set_trainable(&self, on: bool) {
        self.0.trainable.set(on);
        for l in &self.0.layers {
            l.set_trainable(on);
        }
    }

    /// This model as a layer of another model: `x = base(x)` in the functional API, or an
    /// entry of a Sequential's list.
    pub fn as_layer(&self) -> Layer {
        if let Some(inner) = self.0.as_layer.borrow().upgrade() {
            return Layer(inner);
        }
        let layer = Layer::new(LayerKind::new(crate::nn::layers::NestedModel(self.clone())), Some(&self.0.name));
        *self.0.as_layer.borrow_mut() = Rc::downgrade(&layer.0);
        layer
    }

    /// Every layer that is not itself a model, nested models opened (weight files name
    /// these layers).
    pub(crate) fn leaf_layers(&self) -> Vec<Layer> {
        self.0
            .layers
            .iter()
            .flat_map(|l| match l.as_model() {
                Some(m) => m.leaf_layers(),
                None => vec![l.clone()],
            })
            .collect()
    }

    /// Keras `model.inputs`.
    pub fn inputs(&self) -> &[KerasTensor] {
        &self.0.inputs
    }

    /// Keras `model.outputs`.
    pub fn outputs(&self) -> &[KerasTensor] {
        &self.0.outputs
    }

    /// Layers in the order Keras lists them (input layers first).
    pub fn layers(&self) -> &[Layer] {
        &self.0.layers
    }

    pub(crate) fn steps(&self) -> &[(Layer, usize)] {
        &self.0.steps
    }

    pub(crate) fn compiled(&self) -> &std::cell::RefCell<Option<crate::nn::compile::Compiled>> {
        &self.0.compiled
    }

    pub(crate) fn set_checkpoint(&self, weights: Vec<Tensor>) {
        *self.0.checkpoint.borrow_mut() = Some(weights);
    }

    /// Put back the weights ModelCheckpoint saved (Keras: load the best checkpoint).
    pub fn restore_checkpoint(&self) -> Result<()> {
        let saved = self.0.checkpoint.borrow().clone();
        match saved {
            Some(ws) => {
                for (w, v) in self.weights().iter().zip(ws) {
                    w.set(v)?;
                }
                Ok(())
            }
            None => bail!("model \"{}\" has no checkpoint: train with ModelCheckpoint first", self.0.name),
        }
    }

    /// The symbolic tensor with this id, if the model consumes or outputs it (layers
    /// keep no handle on their outputs, to avoid reference cycles).
    pub fn tensor_by_id(&self, id: usize) -> Option<KerasTensor> {
        let consumed = self.0.steps.iter().find_map(|(l, node_index)| {
            l.0.nodes.borrow()[*node_index].inputs.iter().find(|t| t.id() == id).cloned()
        });
        consumed.or_else(|| self.0.outputs.iter().find(|o| o.id() == id).cloned())
    }

    /// Keras `model.get_layer(name)`; the error lists the existing names.
    pub fn get_layer(&self, name: &str) -> Result<Layer> {
        match self.0.layers.iter().find(|l| l.name() == name) {
            Some(l) => Ok(l.clone()),
            None => {
                let names: Vec<&str> = self.0.layers.iter().map(|l| l.name()).collect();
                bail!("No such layer: {name}. Existing layers are: {}", names.join(", "))
            }
        }
    }

    /// A layer by name, looking inside nested models too.
    pub(crate) fn leaf_layer(&self, name: &str) -> Result<Layer> {
        match self.leaf_layers().into_iter().find(|l| l.name() == name) {
            Some(l) => Ok(l),
            None => self.get_layer(name),
        }
    }

    /// Every weight, layer by layer in `layers()` order (Keras `model.weights`).
    pub fn weights(&self) -> Vec<WeightRef> {
        self.0.layers.iter().flat_map(|l| l.weights()).collect()
    }

    /// Weights gradient descent updates: trainable weights of trainable layers (Keras
    /// `model.trainable_weights`).
    pub fn trainable_weights(&self) -> Vec<WeightRef> {
        self.0
            .layers
            .iter()
            .filter(|l| l.trainable())
            .flat_map(|l| match l.as_model() {
                Some(m) => m.trainable_weights(),
                None => l.weights().into_iter().filter(|w| w.trainable).collect(),
            })
            .collect()
    }

    /// Keras `model.count_params()`.
    pub fn count_params(&self) -> usize {
        self.0.layers.iter().map(|l| l.param_count()).sum()
    }

    /// Scalars in the trainable weights (the summary's "Trainable params").
    pub fn count_trainable_params(&self) -> usize {
        self.trainable_weights().iter().map(|w| w.shape().iter().product::<usize>()).sum()
    }

    /// Run the model on concrete inputs. With a tape, trainable weights are watched so
    /// gradients can be taken; `watched` receives their Vars in `trainable_weights` order.
    pub fn run(&self, inputs: &[Var], run: &mut Run) -> Result<Vec<Var>> {
        ensure!(
            inputs.len() == self.0.inputs.len(),
            "model \"{}\" expects {} input(s), got {}",
            self.0.name,
            self.0.inputs.len(),
            inputs.len()
        );
        let mut values: HashMap<usize, Var> = HashMap::new();
        for (kt, v) in self.0.inputs.iter().zip(inputs) {
            let want = kt.shape();
            let got = v.shape();
            let fits = want.len() == got.len() && want.iter().zip(got).all(|(w, g)| w.is_none_or(|w| w == *g));
            ensure!(
                fits,
                "model \"{}\": input \"{}\" expects shape {}, got {}",
                self.0.name,
                kt.layer().name(),
                fmt_dims(want),
                crate::shape::fmt_shape(got)
            );
            values.insert(kt.id(), v.clone());
        }
        let fused_relus: HashSet<usize> = self.0.relu_fusions.values().copied().collect();
        for (k, (layer, node_index)) in self.0.steps.iter().enumerate() {
            if layer.kind().is_input() || fused_relus.contains(&k) {
                continue;
            }
            let (args, output_id) = {
                let nodes = layer.0.nodes.borrow();
                let node = &nodes[*node_index];
                let args: Vec<Var> = node
                    .inputs
                    .iter()
                    .map(|kt| values.get(&kt.id()).cloned())
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| crate::Error::new(format!("internal: inputs of \"{}\" not computed", layer.name())))?;
                (args, node.output_id)
            };
            if let Some(inner) = layer.as_model() {
                // Inside a frozen model every layer is frozen (BatchNormalization included).
                let outer_frozen = run.frozen;
                run.frozen = outer_frozen || !layer.trainable();
                let y = inner.run(&args, run);
                run.frozen = outer_frozen;
                let y = y.map_err(|e| e.context(format!("layer \"{}\" ({})", layer.name(), layer.class_name())))?;
                values.insert(output_id, y.into_iter().next().ok_or_else(|| crate::Error::new("internal: nested model gave no output"))?);
                continue;
            }
            let trainable = layer.trainable() && !run.frozen;
            let device = args[0].value().device().clone();
            let weights: Vec<Var> =
                layer.weights().iter().map(|w| run.weight_var(w, trainable, &device)).collect::<Result<_>>()?;
            // Frozen layers (BatchNormalization in particular) run in inference mode, as Keras.
            let training = if layer.kind().frozen_runs_in_inference() { run.training && trainable } else { run.training };
            let relu = self.0.relu_fusions.get(&k).map(|&r| &self.0.steps[r]);
            let mut fwd = Forward { training, rng: &mut run.rng, updates: vec![], relu_after: relu.is_some() };
            let y = layer.kind().forward(&args, &weights, &mut fwd, layer.name())?;
            let all = layer.weights();
            for (i, value) in fwd.updates {
                run.updates.push((all[i].clone(), value));
            }
            // A fused ReLU's output is this call's; the normalization's own has no reader.
            let output_id = match relu {
                Some((relu_layer, relu_node)) => relu_layer.0.nodes.borrow()[*relu_node].output_id,
                None => output_id,
            };
            values.insert(output_id, y);
        }
        self.0
            .outputs
            .iter()
            .map(|o| values.get(&o.id()).cloned().ok_or_else(|| crate::Error::new("internal: output not computed")))
            .collect()
    }

    /// Forward pass without gradients (Keras `model(x)` / `predict` on one batch).
    pub fn call(&self, inputs: &[Tensor], training: bool) -> Result<Vec<Tensor>> {
        let mut run = Run::new(None, training);
        let vars: Vec<Var> = inputs.iter().map(Var::constant).collect();
        let out = self.run(&vars, &mut run)?;
        run.apply_updates()?;
        Ok(out.into_iter().map(|v| v.value().clone()).collect())
    }

    /// Put every weight on `device`, from any device (GPU weights are read back).
    pub async fn move_to(&self, device: &Device) -> Result<()> {
        for w in self.weights() {
            w.move_to(device).await?;
        }
        Ok(())
    }

    /// Put every weight that exists on `device` now, so a model built on a GPU engine
    /// runs there from its first call; deferred weights (applications) stay undrawn until
    /// first use, when `fit`, `evaluate` and `predict` put them on their device.
    pub fn place_on(&self, device: &Device) -> Result<()> {
        for w in self.weights() {
            if w.is_drawn() {
                w.value_on(device)?;
            }
        }
        Ok(())
    }

    /// Put every weight on `device` now (otherwise they move on first use). Weights on a
    /// GPU cannot be read synchronously: use `move_to` to bring them back.
    pub fn to_device(&self, device: &Device) -> Result<()> {
        for w in self.weights() {
            w.value_on(device)?;
        }
        Ok(())
    }
}

/// State of one forward pass: the tape (if training), watched weights, moving-stat
/// updates to apply afterwards, randomness for dropout.
pub struct Run {
    /// Records the pass for gradients; None for inference.
    pub tape: Option<Tape>,
    /// Keras's `training` flag (dropout, batch statistics).
    pub training: bool,
    /// Inside a nested model whose `trainable` is off.
    pub frozen: bool,
    /// Randomness of dropout and augmentation layers.
    pub rng: rand::rngs::SmallRng,
    watched: HashMap<*const crate::nn::layer::Weight, Var>,
    pub(crate) updates: Vec<(WeightRef, Tensor)>,
    /// Use copies of weights that live on another device instead of moving them.
    leave_weights: bool,
}

impl Run {
    /// A pass with fresh randomness from the seeded stream.
    pub fn new(tape: Option<Tape>, training: bool) -> Run {
        let rng = crate::nn::init::fork_rng();
        Run { tape, training, frozen: false, rng, watched: HashMap::new(), updates: vec![], leave_weights: false }
    }

    /// A pass that changes nothing it reads (compile ahead): randomness of its own
    /// (`seed`), the seeded stream untouched, and weights used where they are or as copies.
    pub(crate) fn dry(tape: Option<Tape>, training: bool, seed: u64) -> Run {
        let rng = rand::SeedableRng::seed_from_u64(seed);
        Run { tape, training, frozen: false, rng, watched: HashMap::new(), updates: vec![], leave_weights: true }
    }

    fn weight_var(&mut self, w: &WeightRef, layer_trainable: bool, device: &Device) -> Result<Var> {
        let key = Rc::as_ptr(w);
        if let Some(v) = self.watched.get(&key) {
            return Ok(v.clone());
        }
        let value = if self.leave_weights { w.copy_on(device)? } else { w.value_on(device)? };
        let var = match &self.tape {
            Some(tape) if w.trainable && layer_trainable => tape.watch(&value),
            _ => Var::constant(&value),
        };
        self.watched.insert(key, var.clone());
        Ok(var)
    }

    /// The Var a weight was watched as during this run.
    pub(crate) fn var_of(&self, w: &WeightRef) -> Option<&Var> {
        self.watched.get(&Rc::as_ptr(w))
    }

    pub(crate) fn apply_updates(&mut self) -> Result<()> {
        for (w, v) in self.updates.drain(..) {
            w.set(v)?;
        }
        Ok(())
    }
}

/// `keras.Sequential`: layers applied in order to one input.
pub fn sequential(input_shape: &[usize], layers: &[Layer], name: Option<&str>) -> Result<Model> {
    let x = input(input_shape, None)?;
    let mut y = x.clone();
    for l in layers {
        y = l.call(&[y])?;
    }
    Model::build(&[x], &[y], name, "Sequential", "sequential")
}
