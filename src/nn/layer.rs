//! Layer objects: a kind (config), its weights once built, and the nodes created by
//! calling it on symbolic tensors. Calling builds the weights from the input shapes.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::error::Result;
use crate::nn::init::{initial_value, Initializer};
use crate::nn::layers::{fmt_dims, LayerKind, Shape};
use crate::nn::naming::{snake_case, unique_name};
use crate::nn::symbolic::KerasTensor;
use crate::tensor::Tensor;
use crate::{ensure, Device};

/// A variable owned by a layer. Its value is replaced by training, never mutated.
pub struct Weight {
    /// Keras path, e.g. "conv2d/kernel".
    pub path: String,
    /// Whether gradient descent updates it (BatchNormalization's moving statistics are not).
    pub trainable: bool,
    value: RefCell<WeightValue>,
}

/// A weight's value, or, for a model being loaded from a file, how to make one: the file
/// gives every value, so nothing is drawn (or allocated) before its shape is checked.
#[derive(Clone)]
enum WeightValue {
    Ready(Tensor),
    Pending(Initializer, Vec<usize>),
}

/// A weight's value taken by [`Weight::saved`].
pub(crate) struct SavedValue(WeightValue);

thread_local! {
    static DEFER_INIT: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with weight initialization deferred to the first read of each value: layers
/// built inside (a model read from a file) allocate nothing until the file's weights are
/// assigned, and draw nothing from the seeded stream that a cell's own models use.
pub(crate) fn deferring_init<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            DEFER_INIT.with(|d| d.set(self.0));
        }
    }
    let _restore = Restore(DEFER_INIT.with(|d| d.replace(true)));
    f()
}

impl Weight {
    /// The current value (drawn from the initializer on the first read of a deferred weight).
    pub fn value(&self) -> Tensor {
        let mut value = self.value.borrow_mut();
        if let WeightValue::Pending(init, shape) = &*value {
            *value = WeightValue::Ready(initial_value(*init, shape));
        }
        match &*value {
            WeightValue::Ready(t) => t.clone(),
            WeightValue::Pending(..) => unreachable!("initialized above"),
        }
    }

    /// Whether the value exists (a deferred weight is drawn on its first read).
    pub(crate) fn is_drawn(&self) -> bool {
        matches!(&*self.value.borrow(), WeightValue::Ready(_))
    }

    /// Its shape.
    pub fn shape(&self) -> Vec<usize> {
        match &*self.value.borrow() {
            WeightValue::Ready(t) => t.shape().to_vec(),
            WeightValue::Pending(_, shape) => shape.clone(),
        }
    }

    /// The value as it stands, a pending one left pending (so holding it costs nothing):
    /// what a load that fails halfway puts back with [`Weight::restore`].
    pub(crate) fn saved(&self) -> SavedValue {
        SavedValue(self.value.borrow().clone())
    }

    /// Puts back a value taken with [`Weight::saved`].
    pub(crate) fn restore(&self, saved: SavedValue) {
        *self.value.borrow_mut() = saved.0;
    }

    /// Replace the value; the shape must stay the same.
    pub fn set(&self, value: Tensor) -> Result<()> {
        let current = self.shape();
        ensure!(
            value.shape() == current.as_slice(),
            "{}: cannot assign a value of shape {} to a weight of shape {}",
            self.path,
            crate::shape::fmt_shape(value.shape()),
            crate::shape::fmt_shape(&current)
        );
        *self.value.borrow_mut() = WeightValue::Ready(value);
        Ok(())
    }

    /// The value on `device`, uploading it (once) if it lives elsewhere.
    pub(crate) fn value_on(&self, device: &Device) -> Result<Tensor> {
        let v = self.value();
        if v.device().same(device) {
            return Ok(v);
        }
        let moved = self.copy_on(device)?;
        *self.value.borrow_mut() = WeightValue::Ready(moved.clone());
        Ok(moved)
    }

    /// The value on `device`, the weight itself left where it is (compile-ahead passes).
    /// A weight not yet drawn from its initializer stays undrawn (the seeded stream is
    /// the user's): its stand-in is zeros.
    pub(crate) fn copy_on(&self, device: &Device) -> Result<Tensor> {
        if let WeightValue::Pending(_, shape) = &*self.value.borrow() {
            return Tensor::from_f32(device, vec![0.0; shape.iter().product()], shape);
        }
        let v = self.value();
        if v.device().same(device) {
            return Ok(v);
        }
        let data = match v.cpu_data() {
            Ok(d) => d.clone(),
            Err(_) => crate::bail!(
                "{}: the weight is on {} and cannot be read synchronously on {}: move the model with move_to first",
                self.path,
                v.device().describe(),
                device.describe()
            ),
        };
        // Named, so a weight over the GPU's per-binding limit (VGG16's fc1) says which one.
        Tensor::from_data(device, data, v.shape()).map_err(|e| e.context(format!("weight {}", self.path)))
    }
}

impl Weight {
    /// Move the value to `device`, reading it back from a GPU when it lives there.
    pub async fn move_to(&self, device: &Device) -> Result<()> {
        let v = self.value();
        if !v.device().same(device) {
            let moved = v.to_device(device).await?;
            *self.value.borrow_mut() = WeightValue::Ready(moved);
        }
        Ok(())
    }
}

/// A shared handle on a weight (layers, models and optimizers hold the same one).
pub type WeightRef = Rc<Weight>;

/// Where one call of a layer got its inputs.
pub struct Node {
    /// The symbolic tensors the call took.
    pub inputs: Vec<KerasTensor>,
    /// Id of the symbolic tensor it returned.
    pub output_id: usize,
    /// Shape of that tensor (None for the batch axis).
    pub output_shape: Shape,
}

/// The state behind a [`Layer`] handle.
pub struct LayerInner {
    /// Unique name (Keras's automatic one unless given).
    pub name: String,
    /// Class and configuration.
    pub kind: LayerKind,
    /// Keras `layer.trainable`.
    pub trainable: Cell<bool>,
    /// Weights in Keras's order, once built.
    pub weights: RefCell<Vec<WeightRef>>,
    /// Whether the weights exist (built by the first call).
    pub built: Cell<bool>,
    /// One node per call, in call order.
    pub nodes: RefCell<Vec<Node>>,
}

/// A Keras layer: cheap to clone, every clone is the same layer (shared weights).
#[derive(Clone)]
pub struct Layer(pub Rc<LayerInner>);

impl Layer {
    /// A layer with Keras's automatic name unless one is given.
    pub fn new(kind: LayerKind, name: Option<&str>) -> Layer {
        let name = match name {
            Some(n) => n.to_string(),
            None => unique_name(&snake_case(kind.class_name())),
        };
        Layer(Rc::new(LayerInner {
            name,
            kind,
            trainable: Cell::new(true),
            weights: RefCell::new(vec![]),
            built: Cell::new(false),
            nodes: RefCell::new(vec![]),
        }))
    }

    /// The layer's name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Its class and configuration.
    pub fn kind(&self) -> &LayerKind {
        &self.0.kind
    }

    /// The Keras class name ("Conv2D").
    pub fn class_name(&self) -> &'static str {
        self.0.kind.class_name()
    }

    /// Keras `layer.trainable`.
    pub fn trainable(&self) -> bool {
        match self.0.kind.as_model() {
            Some(m) => m.trainable(),
            None => self.0.trainable.get(),
        }
    }

    /// As Keras: on a nested model this sets every layer inside it too.
    pub fn set_trainable(&self, on: bool) {
        match self.0.kind.as_model() {
            Some(m) => m.set_trainable(on),
            None => self.0.trainable.set(on),
        }
    }

    /// The model when this layer is a model called as a layer.
    pub fn as_model(&self) -> Option<&crate::nn::model::Model> {
        self.0.kind.as_model()
    }

    /// Its weights in Keras's order (empty before the first call).
    pub fn weights(&self) -> Vec<WeightRef> {
        self.0.weights.borrow().clone()
    }

    /// Whether both handles are the same layer.
    pub fn same(&self, other: &Layer) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    /// Number of scalars in all weights.
    pub fn param_count(&self) -> usize {
        self.0.weights.borrow().iter().map(|w| w.shape().iter().product::<usize>()).sum()
    }

    fn build(&self, input_shapes: &[Shape]) -> Result<()> {
        if self.0.built.get() {
            return Ok(());
        }
        if let Some(model) = self.as_model() {
            // The nested model's own weights, shared: training the outer model trains them.
            *self.0.weights.borrow_mut() = model.weights();
            self.0.built.set(true);
            return Ok(());
        }
        let specs = self.0.kind.weight_specs(input_shapes, &self.0.name)?;
        let defer = DEFER_INIT.with(Cell::get);
        let mut weights = Vec::with_capacity(specs.len());
        for s in specs {
            let path = format!("{}/{}", self.0.name, s.name);
            check_weight_size(&path, self.class_name(), &s.shape)?;
            let value = if defer { WeightValue::Pending(s.init, s.shape) } else { WeightValue::Ready(initial_value(s.init, &s.shape)) };
            weights.push(Rc::new(Weight { path, trainable: s.trainable, value: RefCell::new(value) }));
        }
        *self.0.weights.borrow_mut() = weights;
        self.0.built.set(true);
        Ok(())
    }

    /// Apply to symbolic tensors: infer the output shape, build weights, record a node.
    pub fn call(&self, inputs: &[KerasTensor]) -> Result<KerasTensor> {
        let name = &self.0.name;
        match self.0.kind.arity() {
            Some(n) => ensure!(inputs.len() == n, "layer \"{name}\" expects {n} input(s), got {}", inputs.len()),
            None => ensure!(inputs.len() >= 2, "layer \"{name}\" expects a list of at least 2 inputs, got {}", inputs.len()),
        }
        let shapes: Vec<Shape> = inputs.iter().map(|t| t.shape().to_vec()).collect();
        let out_shape = self.0.kind.output_shape(&shapes, name).map_err(|e| {
            let given: Vec<String> = shapes.iter().map(|s| fmt_dims(s)).collect();
            // The layer's own checks start with its name, which the context already gives.
            let e = e.message().strip_prefix(&format!("{name}: ")).map(crate::Error::new).unwrap_or(e);
            e.context(format!("layer \"{name}\" ({}) called on {}", self.class_name(), given.join(", ")))
        })?;
        if self.0.built.get() {
            // A shared layer must see inputs its weights fit.
            let want = self.0.kind.weight_specs(&shapes, name)?;
            for (w, s) in self.0.weights.borrow().iter().zip(want) {
                ensure!(
                    w.shape() == s.shape,
                    "layer \"{name}\" was built for other inputs: weight {} is {} but these inputs need {}",
                    w.path,
                    crate::shape::fmt_shape(&w.shape()),
                    crate::shape::fmt_shape(&s.shape)
                );
            }
        }
        self.build(&shapes)?;
        let node_index = self.0.nodes.borrow().len();
        let out = KerasTensor::produced(out_shape.clone(), self.clone(), node_index);
        self.0.nodes.borrow_mut().push(Node { inputs: inputs.to_vec(), output_id: out.id(), output_shape: out_shape });
        Ok(out)
    }
}

impl std::fmt::Debug for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} name={}>", self.class_name(), self.name())
    }
}

/// A weight whose size overflows, or passes the budget for one object, is refused before
/// anything is allocated (a config can declare `Dense(units=1e9)`).
fn check_weight_size(path: &str, class: &str, shape: &[usize]) -> Result<()> {
    let what = format!("{class} weight {path} of shape {}", crate::shape::fmt_shape(shape));
    let bytes = crate::limits::checked_bytes(shape, 4)
        .ok_or_else(|| crate::Error::new(format!("{what} has more elements than this machine can address")))?;
    crate::limits::check_budget(what, bytes)
}
