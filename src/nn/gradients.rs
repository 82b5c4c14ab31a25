//! Gradients through a model with respect to its input or a layer's output: the
//! engine side of `GradientTape` over a model call, and Grad-CAM (listing 9-20).

use crate::graph::{Tape, Var};
use crate::nn::model::Run;
use crate::nn::{KerasTensor, Model};
use crate::{ensure, Result, Tensor};

/// The symbolic output of the named layer inside `model` (Keras `layer.output`).
pub fn layer_output(model: &Model, name: &str) -> Result<KerasTensor> {
    let layer = model.get_layer(name)?;
    let nodes = layer.0.nodes.borrow();
    let node = nodes
        .first()
        .ok_or_else(|| crate::Error::new(format!("layer \"{name}\" was never called, so it has no output")))?;
    model
        .tensor_by_id(node.output_id)
        .ok_or_else(|| crate::Error::new(format!("layer \"{name}\" has no output in model \"{}\"", model.name())))
}

/// The symbolic inputs of the named layer inside `model` (Keras `layer.input`; a list
/// for layers such as Add that take several).
pub fn layer_inputs(model: &Model, name: &str) -> Result<Vec<KerasTensor>> {
    let layer = model.get_layer(name)?;
    let nodes = layer.0.nodes.borrow();
    let node = nodes
        .first()
        .ok_or_else(|| crate::Error::new(format!("layer \"{name}\" was never called, so it has no input")))?;
    Ok(node.inputs.clone())
}

/// Scalar `y[0, class_index]` of a (batch, classes) prediction, recorded on the tape.
fn class_score(preds: &Var, class_index: usize, model: &Model) -> Result<Var> {
    let shape = preds.shape().to_vec();
    ensure!(
        shape.len() == 2 && class_index < shape[1],
        "model \"{}\": class {class_index} is not a column of the predictions of shape {:?}",
        model.name(),
        shape
    );
    preds.slice(&[0, class_index], &[1, 1])?.sum(&[], false)
}

/// Index of the largest score in the first row of a (batch, classes) prediction.
async fn top_class(preds: &Tensor) -> Result<usize> {
    let row = preds.to_data().await?.to_f64();
    let classes = *preds.shape().last().unwrap_or(&1);
    Ok(row[..classes].iter().enumerate().fold(0, |best, (i, v)| if *v > row[best] { i } else { best }))
}

/// d(score of `class_index`, or of the top class)/d(image): the first step of filter
/// visualization and of saliency maps. Returns (class index, gradient).
pub async fn input_gradient(model: &Model, image: &Tensor, class_index: Option<usize>) -> Result<(usize, Tensor)> {
    let tape = Tape::new();
    let x = tape.watch(image);
    let mut run = Run::new(Some(tape.clone()), false);
    let preds = model.run(std::slice::from_ref(&x), &mut run)?.remove(0);
    let class_index = match class_index {
        Some(c) => c,
        None => top_class(preds.value()).await?,
    };
    let score = class_score(&preds, class_index, model)?;
    let g = tape.gradient(&score, &[&x], None)?.remove(0);
    let g = match g {
        Some(g) => g,
        None => image.affine(0.0, 0.0)?,
    };
    Ok((class_index, g))
}

/// Grad-CAM of one image at the named (conv) layer.
pub struct GradCam {
    /// The class explained (the top prediction unless one was asked for).
    pub class_index: usize,
    /// The layer's activations, (1, h, w, channels).
    pub activations: Tensor,
    /// d(class score)/d(activations), same shape.
    pub gradients: Tensor,
    /// (h, w): channels weighted by their space-averaged gradient, summed, ReLU, divided
    /// by the maximum (all zeros when nothing is positive).
    pub heatmap: Tensor,
}

/// Grad-CAM as listing 9-20: the model is cut at `layer_name` by running an activation
/// model with two outputs on one tape, so the gradient flows to the intermediate Var.
pub async fn grad_cam(model: &Model, layer_name: &str, image: &Tensor, class_index: Option<usize>) -> Result<GradCam> {
    let feature = layer_output(model, layer_name)?;
    ensure!(
        model.outputs().len() == 1,
        "grad_cam: model \"{}\" has {} outputs; Grad-CAM needs one classifier output",
        model.name(),
        model.outputs().len()
    );
    let both = Model::new(model.inputs(), &[feature, model.outputs()[0].clone()], None)?;
    let tape = Tape::new();
    let mut run = Run::new(Some(tape.clone()), false);
    let mut outs = both.run(&[Var::constant(image)], &mut run)?;
    let preds = outs.remove(1);
    let acts = outs.remove(0);
    ensure!(
        acts.shape().len() == 4,
        "grad_cam: layer \"{layer_name}\" gives shape {:?}; Grad-CAM needs a (batch, h, w, channels) feature map",
        acts.shape()
    );
    let class_index = match class_index {
        Some(c) => c,
        None => top_class(preds.value()).await?,
    };
    let score = class_score(&preds, class_index, model)?;
    let gradients = tape
        .gradient(&score, &[&acts], None)?
        .remove(0)
        .ok_or_else(|| crate::Error::new(format!("grad_cam: the class score does not depend on layer \"{layer_name}\"")))?;
    let activations = acts.value().clone();
    let pooled = gradients.mean(&[0, 1, 2], false)?;
    let hw = &activations.shape()[1..3];
    let weighted = activations.mul(&pooled)?.sum(&[0, 3], false)?.relu()?;
    // Dividing by max(peak, tiny) keeps an all-zero map at zero instead of NaN.
    let peak = weighted.max(&[0, 1], true)?.maximum(&weighted.affine(0.0, 1e-12)?.max(&[0, 1], true)?)?;
    let heatmap = weighted.div(&peak)?;
    ensure!(heatmap.shape() == hw, "grad_cam: internal: heatmap shape {:?}", heatmap.shape());
    Ok(GradCam { class_index, activations, gradients, heatmap })
}
