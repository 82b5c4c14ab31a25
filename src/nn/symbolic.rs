//! Symbolic tensors (Keras's KerasTensor): a shape and the layer call that produces it.
//! Building a model is calling layers on these; nothing is computed.

use std::cell::Cell;
use std::rc::Rc;

use crate::error::Result;
use crate::nn::layer::Layer;
use crate::nn::layers::{fmt_dims, Dim, LayerKind, Shape};

thread_local! {
    static NEXT_ID: Cell<usize> = const { Cell::new(0) };
}

struct Inner {
    id: usize,
    shape: Shape,
    /// (layer, node index) that produced this tensor.
    history: (Layer, usize),
}

/// Keras's `KerasTensor`: the symbolic output of `keras.Input` or of a layer call.
#[derive(Clone)]
pub struct KerasTensor(Rc<Inner>);

impl KerasTensor {
    pub(crate) fn produced(shape: Shape, layer: Layer, node: usize) -> KerasTensor {
        let id = NEXT_ID.with(|n| {
            let id = n.get();
            n.set(id + 1);
            id
        });
        KerasTensor(Rc::new(Inner { id, shape, history: (layer, node) }))
    }

    /// Unique id (stable for the thread's lifetime).
    pub fn id(&self) -> usize {
        self.0.id
    }

    /// Shape, None for the batch axis.
    pub fn shape(&self) -> &[Dim] {
        &self.0.shape
    }

    /// The layer whose call produced it.
    pub fn layer(&self) -> &Layer {
        &self.0.history.0
    }

    pub(crate) fn node_index(&self) -> usize {
        self.0.history.1
    }
}

impl std::fmt::Debug for KerasTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<KerasTensor shape={} from {}>", fmt_dims(&self.0.shape), self.layer().name())
    }
}

/// `keras.Input(shape)`: `shape` excludes the batch axis.
pub fn input(shape: &[usize], name: Option<&str>) -> Result<KerasTensor> {
    let mut full: Shape = vec![None];
    full.extend(shape.iter().map(|&d| Some(d)));
    let layer = Layer::new(LayerKind::new(crate::nn::layers::input::InputLayer { shape: full }), name);
    layer.call(&[])
}
