//! Reverse-mode automatic differentiation. A `Tape` records each op applied to its
//! `Var`s together with the op's backward rule (from `ops/<stem>.rs`); `gradient` walks
//! the record backwards. Gradients can be taken with respect to any recorded `Var`,
//! model inputs included (filter visualization and Grad-CAM need that).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::error::Result;
use crate::ops::elementwise::{binary_backward, unary_backward, BinaryOp, UnaryOp};
use crate::ops::reduce::{reduce_backward, softmax_backward, ReduceOp};
use crate::tensor::Tensor;
use crate::{bail, ensure};

/// Gradients of an op's inputs (in order) from the gradient of its output. `need[i]`
/// says whether input i leads back to anything watched; rules skip the others (a
/// convolution's input gradient on the data is expensive and useless).
pub type Backward = Box<dyn Fn(&Tensor, &[bool]) -> Result<Vec<Option<Tensor>>>>;

struct Node {
    inputs: Vec<Option<usize>>,
    backward: Backward,
}

#[derive(Default)]
struct Record {
    nodes: Vec<Option<Node>>,
    paused: usize,
}

/// A recording of operations. Cheap to clone; clones share the record.
#[derive(Clone, Default)]
pub struct Tape {
    record: Rc<RefCell<Record>>,
}

/// A tensor as seen by a tape: either recorded (has an id) or a constant.
#[derive(Clone)]
pub struct Var {
    value: Tensor,
    id: Option<usize>,
    tape: Option<Tape>,
    /// The pre-activation of a softmax/sigmoid output; Keras's losses use it instead of
    /// the probabilities (`_keras_logits`), which keeps training stable when they saturate.
    keras_logits: Option<Box<Var>>,
}

impl std::fmt::Debug for Var {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Var({:?}, id {:?})", self.value, self.id)
    }
}

impl Tape {
    /// An empty tape that records.
    pub fn new() -> Tape {
        Tape::default()
    }

    /// Start tracking `value`: gradients with respect to it can then be asked for.
    pub fn watch(&self, value: &Tensor) -> Var {
        let id = self.push(Node { inputs: vec![], backward: Box::new(|_, _| Ok(vec![])) });
        Var { value: value.clone(), id, tape: Some(self.clone()), keras_logits: None }
    }

    /// Run `f` without recording (inference, metric computation).
    pub fn no_grad<R>(&self, f: impl FnOnce() -> R) -> R {
        self.record.borrow_mut().paused += 1;
        let out = f();
        self.record.borrow_mut().paused -= 1;
        out
    }

    /// Whether ops are being recorded (false inside `no_grad`).
    pub fn is_recording(&self) -> bool {
        self.record.borrow().paused == 0
    }

    /// Number of recorded nodes (tests use it to check no-grad mode records nothing).
    pub fn len(&self) -> usize {
        self.record.borrow().nodes.len()
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn push(&self, node: Node) -> Option<usize> {
        let mut rec = self.record.borrow_mut();
        if rec.paused > 0 {
            return None;
        }
        rec.nodes.push(Some(node));
        Some(rec.nodes.len() - 1)
    }

    /// Record an op whose output is `value`, reached from `inputs` by `backward`.
    pub fn record(&self, value: Tensor, inputs: &[&Var], backward: Backward) -> Var {
        let ids: Vec<Option<usize>> = inputs.iter().map(|v| if self.owns(v) { v.id } else { None }).collect();
        if ids.iter().all(Option::is_none) {
            return Var { value, id: None, tape: Some(self.clone()), keras_logits: None };
        }
        let id = self.push(Node { inputs: ids, backward });
        Var { value, id, tape: Some(self.clone()), keras_logits: None }
    }

    fn owns(&self, v: &Var) -> bool {
        v.tape.as_ref().is_some_and(|t| Rc::ptr_eq(&t.record, &self.record))
    }

    /// d(sum of `target`)/d(source) for each source; None where `target` does not
    /// depend on it. `seed` replaces the implicit all-ones output gradient.
    pub fn gradient(&self, target: &Var, sources: &[&Var], seed: Option<&Tensor>) -> Result<Vec<Option<Tensor>>> {
        let Some(target_id) = target.id.filter(|_| self.owns(target)) else {
            return Ok(vec![None; sources.len()]);
        };
        let seed = match seed {
            Some(s) => {
                ensure!(
                    s.shape() == target.value.shape(),
                    "gradient: seed {} does not match the target {}",
                    s.describe(),
                    target.value.describe()
                );
                s.clone()
            }
            None => ones_like(&target.value)?,
        };
        let mut grads: HashMap<usize, Tensor> = HashMap::new();
        grads.insert(target_id, seed);
        let rec = self.record.borrow();
        for id in (0..=target_id).rev() {
            let Some(g) = grads.get(&id).cloned() else { continue };
            let Some(node) = rec.nodes[id].as_ref() else {
                bail!("gradient: the tape was released; record the computation again");
            };
            if node.inputs.iter().all(Option::is_none) {
                continue;
            }
            let need: Vec<bool> = node.inputs.iter().map(Option::is_some).collect();
            let input_grads = (node.backward)(&g, &need)?;
            for (input, ig) in node.inputs.iter().zip(input_grads) {
                if let (Some(i), Some(ig)) = (input, ig) {
                    let total = match grads.remove(i) {
                        Some(prev) => prev.add(&ig)?,
                        None => ig,
                    };
                    grads.insert(*i, total);
                }
            }
        }
        Ok(sources
            .iter()
            .map(|s| s.id.filter(|_| self.owns(s)).and_then(|i| grads.get(&i).cloned()))
            .collect())
    }
}

fn ones_like(t: &Tensor) -> Result<Tensor> {
    t.affine(0.0, 1.0)
}

impl Var {
    /// A value no gradient flows into.
    pub fn constant(value: &Tensor) -> Var {
        Var { value: value.clone(), id: None, tape: None, keras_logits: None }
    }

    /// The tensor this Var stands for.
    pub fn value(&self) -> &Tensor {
        &self.value
    }

    /// Remember the logits this output was computed from (see `keras_logits`).
    pub fn with_logits(mut self, logits: &Var) -> Var {
        self.keras_logits = Some(Box::new(logits.clone()));
        self
    }

    /// The logits recorded by `with_logits`, if any.
    pub fn keras_logits(&self) -> Option<&Var> {
        self.keras_logits.as_deref()
    }

    /// Shape of the value.
    pub fn shape(&self) -> &[usize] {
        self.value.shape()
    }

    /// Record a one-input op computed elsewhere (losses, custom layers): `backward`
    /// maps the output gradient to this Var's gradient.
    pub fn record_unary(&self, value: Tensor, backward: Backward) -> Var {
        self.lift(value, &[self], backward)
    }

    fn lift(&self, value: Tensor, inputs: &[&Var], backward: Backward) -> Var {
        match inputs.iter().find_map(|v| v.tape.clone()) {
            Some(tape) => tape.record(value, inputs, backward),
            None => Var::constant(&value),
        }
    }

    /// Elementwise unary op, recorded with its derivative.
    pub fn unary(&self, op: UnaryOp) -> Result<Var> {
        let y = self.value.map(op)?;
        let (x, yc) = (self.value.clone(), y.clone());
        Ok(self.lift(y, &[self], Box::new(move |dy, _: &[bool]| Ok(vec![unary_backward(op, &x, &yc, dy)?]))))
    }

    /// Elementwise binary op with broadcasting, recorded with both derivatives.
    pub fn binary(&self, other: &Var, op: BinaryOp) -> Result<Var> {
        let y = crate::ops::elementwise::binary(&self.value, &other.value, op)?;
        let (a, b, yc) = (self.value.clone(), other.value.clone(), y.clone());
        Ok(self.lift(
            y,
            &[self, other],
            Box::new(move |dy, _need: &[bool]| {
                let (ga, gb) = binary_backward(op, &a, &b, &yc, dy)?;
                Ok(vec![ga, gb])
            }),
        ))
    }

    /// `self + o` (broadcasting).
    pub fn add(&self, o: &Var) -> Result<Var> {
        self.binary(o, BinaryOp::Add)
    }
    /// `self - o` (broadcasting).
    pub fn sub(&self, o: &Var) -> Result<Var> {
        self.binary(o, BinaryOp::Sub)
    }
    /// `self * o` (broadcasting).
    pub fn mul(&self, o: &Var) -> Result<Var> {
        self.binary(o, BinaryOp::Mul)
    }
    /// `self / o` (broadcasting).
    pub fn div(&self, o: &Var) -> Result<Var> {
        self.binary(o, BinaryOp::Div)
    }

    /// Reduction over `axes` (negative axes count from the end).
    pub fn reduce(&self, axes: &[isize], keepdims: bool, op: ReduceOp) -> Result<Var> {
        let y = crate::ops::reduce::reduce(&self.value, axes, keepdims, op)?;
        let (x, yc, axes) = (self.value.clone(), y.clone(), axes.to_vec());
        Ok(self.lift(y, &[self], Box::new(move |dy, _: &[bool]| Ok(vec![Some(reduce_backward(op, &x, &axes, &yc, dy)?)]))))
    }

    /// Sum over `axes`.
    pub fn sum(&self, axes: &[isize], keepdims: bool) -> Result<Var> {
        self.reduce(axes, keepdims, ReduceOp::Sum)
    }
    /// Mean over `axes`.
    pub fn mean(&self, axes: &[isize], keepdims: bool) -> Result<Var> {
        self.reduce(axes, keepdims, ReduceOp::Mean)
    }

    /// Softmax (or log-softmax when `log`) along `axis`.
    pub fn softmax(&self, axis: isize, log: bool) -> Result<Var> {
        let y = crate::ops::reduce::softmax(&self.value, axis, log)?;
        let yc = y.clone();
        Ok(self.lift(y, &[self], Box::new(move |dy, _: &[bool]| Ok(vec![Some(softmax_backward(&yc, dy, axis, log)?)]))))
    }

    /// Batched matrix product with optional transposes of either operand.
    pub fn matmul_t(&self, other: &Var, trans_a: bool, trans_b: bool) -> Result<Var> {
        let y = crate::ops::matmul::matmul_t(&self.value, &other.value, trans_a, trans_b)?;
        let (a, b) = (self.value.clone(), other.value.clone());
        Ok(self.lift(
            y,
            &[self, other],
            Box::new(move |dy, _need: &[bool]| {
                let (ga, gb) = crate::ops::matmul::matmul_backward(&a, &b, trans_a, trans_b, dy)?;
                Ok(vec![Some(ga), Some(gb)])
            }),
        ))
    }

    /// Batched matrix product.
    pub fn matmul(&self, other: &Var) -> Result<Var> {
        self.matmul_t(other, false, false)
    }

    /// Same values, new shape (one dimension may be -1).
    pub fn reshape(&self, shape: &[isize]) -> Result<Var> {
        let y = self.value.reshape(shape)?;
        let back: Vec<isize> = self.shape().iter().map(|&d| d as isize).collect();
        Ok(self.lift(y, &[self], Box::new(move |dy, _: &[bool]| Ok(vec![Some(dy.reshape(&back)?)]))))
    }

    /// Axes permuted by `perm`.
    pub fn transpose(&self, perm: &[usize]) -> Result<Var> {
        let y = self.value.transpose(perm)?;
        let mut inverse = vec![0; perm.len()];
        for (i, &p) in perm.iter().enumerate() {
            inverse[p] = i;
        }
        Ok(self.lift(y, &[self], Box::new(move |dy, _: &[bool]| Ok(vec![Some(dy.transpose(&inverse)?)]))))
    }

    /// The block starting at `begin` with extent `size`.
    pub fn slice(&self, begin: &[usize], size: &[usize]) -> Result<Var> {
        let y = self.value.slice(begin, size)?;
        let pads: Vec<(usize, usize)> =
            (0..begin.len()).map(|d| (begin[d], self.shape()[d] - begin[d] - size[d])).collect();
        Ok(self.lift(y, &[self], Box::new(move |dy, _: &[bool]| Ok(vec![Some(dy.pad(&pads, 0.0)?)]))))
    }

    /// Padded with `value`: `pads[i]` elements before and after along axis i.
    pub fn pad(&self, pads: &[(usize, usize)], value: f64) -> Result<Var> {
        let y = self.value.pad(pads, value)?;
        let begin: Vec<usize> = pads.iter().map(|p| p.0).collect();
        let size = self.shape().to_vec();
        Ok(self.lift(y, &[self], Box::new(move |dy, _: &[bool]| Ok(vec![Some(dy.slice(&begin, &size)?)]))))
    }

    /// Concatenation along `axis`.
    pub fn concat(parts: &[&Var], axis: isize) -> Result<Var> {
        ensure!(!parts.is_empty(), "concatenate: needs at least one tensor");
        let values: Vec<&Tensor> = parts.iter().map(|v| &v.value).collect();
        let y = crate::ops::copy::concat(&values, axis)?;
        let ax = crate::shape::normalize_axis(axis, y.rank())?;
        let sizes: Vec<Vec<usize>> = parts.iter().map(|v| v.shape().to_vec()).collect();
        Ok(parts[0].lift(
            y,
            parts,
            Box::new(move |dy, _need: &[bool]| {
                let mut offset = 0;
                sizes
                    .iter()
                    .map(|s| {
                        let mut begin = vec![0; s.len()];
                        begin[ax] = offset;
                        offset += s[ax];
                        dy.slice(&begin, s).map(Some)
                    })
                    .collect()
            }),
        ))
    }
}

/// Convolution-family ops on the tape; their backward rules live in `ops/<stem>.rs`.
impl Var {
    /// Record a kernel op `y = f(x, kernel) (+ bias)` whose input and kernel gradients are
    /// `grad_input(dy, kernel)` and `grad_kernel(x, dy)`; each is computed only if needed.
    fn record_kernel_op(
        &self,
        kernel: &Var,
        bias: Option<&Var>,
        y: Tensor,
        grad_input: impl Fn(&Tensor, &Tensor) -> Result<Tensor> + 'static,
        grad_kernel: impl Fn(&Tensor, &Tensor) -> Result<Tensor> + 'static,
    ) -> Var {
        let (x, k, has_bias) = (self.value.clone(), kernel.value.clone(), bias.is_some());
        let mut inputs = vec![self, kernel];
        inputs.extend(bias);
        self.lift(
            y,
            &inputs,
            Box::new(move |dy, need: &[bool]| {
                let mut g = vec![
                    if need[0] { Some(grad_input(dy, &k)?) } else { None },
                    if need[1] { Some(grad_kernel(&x, dy)?) } else { None },
                ];
                if has_bias {
                    g.push(if need[2] { Some(crate::ops::conv2d::bias_grad(dy)?) } else { None });
                }
                Ok(g)
            }),
        )
    }

    /// 2-D convolution (NHWC input, HWIO kernel) with optional bias.
    pub fn conv2d(&self, kernel: &Var, bias: Option<&Var>, spec: &crate::ops::conv2d::Conv2dSpec) -> Result<Var> {
        use crate::ops::conv2d as op;
        let y = op::conv2d_with_spec(&self.value, &kernel.value, bias.map(|b| &b.value), spec)?;
        let s = *spec;
        Ok(self.record_kernel_op(
            kernel,
            bias,
            y,
            move |dy, k| op::conv2d_grad_input(dy, k, &s),
            move |x, dy| op::conv2d_grad_kernel(x, dy, &s),
        ))
    }

    /// Transposed 2-D convolution with optional bias.
    pub fn conv_transpose2d(
        &self,
        kernel: &Var,
        bias: Option<&Var>,
        spec: &crate::ops::conv_transpose2d::ConvTranspose2dSpec,
    ) -> Result<Var> {
        use crate::ops::conv_transpose2d as op;
        let y = op::conv_transpose2d_with_spec(&self.value, &kernel.value, bias.map(|b| &b.value), spec)?;
        let s = *spec;
        Ok(self.record_kernel_op(
            kernel,
            bias,
            y,
            move |dy, k| op::conv_transpose2d_grad_input(dy, k, &s),
            move |x, dy| op::conv_transpose2d_grad_kernel(x, dy, &s),
        ))
    }

    /// Depthwise 2-D convolution with optional bias.
    pub fn depthwise_conv2d(
        &self,
        kernel: &Var,
        bias: Option<&Var>,
        spec: &crate::ops::depthwise_conv2d::DepthwiseConv2dSpec,
    ) -> Result<Var> {
        use crate::ops::depthwise_conv2d as op;
        let y = op::depthwise_conv2d_with_spec(&self.value, &kernel.value, bias.map(|b| &b.value), spec)?;
        let s = *spec;
        Ok(self.record_kernel_op(
            kernel,
            bias,
            y,
            move |dy, k| op::depthwise_conv2d_grad_input(dy, k, &s),
            move |x, dy| op::depthwise_conv2d_grad_kernel(x, dy, &s),
        ))
    }

    /// Max or average pooling over 2-D windows.
    pub fn pool2d(&self, spec: &crate::ops::pool2d::Pool2dSpec) -> Result<Var> {
        use crate::ops::pool2d as op;
        let s = *spec;
        // A GPU max pool that a gradient will pass through keeps its argmax, so the
        // backward pass reads one index per window instead of searching it again.
        let recorded = self.id.is_some() && self.tape.as_ref().is_some_and(Tape::is_recording);
        if recorded && spec.kind == op::PoolKind::Max && matches!(self.value.device(), crate::Device::Gpu(_)) {
            let (y, argmax) = op::max_pool2d_argmax(&self.value, spec)?;
            let backward = move |dy: &Tensor, _: &[bool]| Ok(vec![Some(op::max_pool2d_grad_from_argmax(&argmax, dy, &s)?)]);
            return Ok(self.lift(y, &[self], Box::new(backward)));
        }
        let y = op::pool2d(&self.value, spec)?;
        let x = self.value.clone();
        Ok(self.lift(y, &[self], Box::new(move |dy, _: &[bool]| Ok(vec![Some(op::pool2d_grad_input(&x, dy, &s)?)]))))
    }

    /// Resize of NHWC images (bilinear or nearest, half-pixel centres).
    pub fn resize(&self, spec: &crate::ops::resize::ResizeSpec) -> Result<Var> {
        use crate::ops::resize as op;
        let (y, s) = (op::resize_with_spec(&self.value, spec)?, *spec);
        Ok(self.lift(y, &[self], Box::new(move |dy, _: &[bool]| Ok(vec![Some(op::resize_grad_input(dy, &s)?)]))))
    }

    /// Batch normalization over the last axis. Training mode also returns the updated
    /// moving statistics (plain tensors: no gradient flows into them).
    #[allow(clippy::too_many_arguments)]
    pub fn batch_norm(
        &self,
        gamma: Option<&Var>,
        beta: Option<&Var>,
        moving_mean: &Tensor,
        moving_variance: &Tensor,
        training: bool,
        epsilon: f64,
        momentum: f64,
    ) -> Result<(Var, Option<(Tensor, Tensor)>)> {
        self.batch_norm_fused(gamma, beta, moving_mean, moving_variance, training, epsilon, momentum, false)
    }

    /// `batch_norm`, then a ReLU when `relu`, in one pass over the data each way (the
    /// backward pass masks the gradient with the saved output).
    #[allow(clippy::too_many_arguments)]
    pub fn batch_norm_fused(
        &self,
        gamma: Option<&Var>,
        beta: Option<&Var>,
        moving_mean: &Tensor,
        moving_variance: &Tensor,
        training: bool,
        epsilon: f64,
        momentum: f64,
        relu: bool,
    ) -> Result<(Var, Option<(Tensor, Tensor)>)> {
        use crate::ops::batch_norm as op;
        let (g, b) = (gamma.map(|v| &v.value), beta.map(|v| &v.value));
        let (y, moving, batch_stats) = if training {
            let o = op::batch_norm_train_fused(&self.value, g, b, moving_mean, moving_variance, epsilon, momentum, relu)?;
            (o.y, Some((o.moving_mean, o.moving_variance)), Some(o.batch_stats))
        } else {
            (op::batch_norm_inference_fused(&self.value, g, b, moving_mean, moving_variance, epsilon, relu)?, None, None)
        };
        let x = self.value.clone();
        let y_relu = relu.then(|| y.clone());
        let gamma_value = g.cloned();
        let (mm, mv) = (moving_mean.clone(), moving_variance.clone());
        let mut inputs = vec![self];
        inputs.extend(gamma);
        inputs.extend(beta);
        let (has_gamma, has_beta) = (gamma.is_some(), beta.is_some());
        let var = self.lift(
            y,
            &inputs,
            Box::new(move |dy, _need: &[bool]| {
                let (gamma, y_relu) = (gamma_value.as_ref(), y_relu.as_ref());
                let grads = if let Some(stats) = &batch_stats {
                    op::batch_norm_train_grad_with_stats(&x, stats, gamma, dy, y_relu, epsilon)?
                } else {
                    op::batch_norm_inference_grad_fused(&x, gamma, &mm, &mv, dy, y_relu, epsilon)?
                };
                let mut out = vec![Some(grads.input)];
                if has_gamma {
                    out.push(Some(grads.gamma));
                }
                if has_beta {
                    out.push(Some(grads.beta));
                }
                Ok(out)
            }),
        );
        Ok((var, moving))
    }
}
