//! Keras layer kinds: configuration (Keras names and defaults), output-shape inference,
//! weight shapes in Keras order, and the forward pass on the autograd tape.

use crate::error::Result;
use crate::graph::Var;
use crate::nn::activation::Activation;
use crate::nn::init::Initializer;
use crate::ops::conv2d::conv2d_spec;
use crate::ops::conv_transpose2d::conv_transpose2d_spec;
use crate::ops::depthwise_conv2d::depthwise_conv2d_spec;
use crate::ops::pool2d::pool2d_spec;
use crate::ops::geometry::{conv_transpose_output_len, AxisGeometry, Padding};
use crate::ops::pool2d::PoolKind;
use crate::tensor::Tensor;
use crate::ensure;

/// A dimension that may be unknown (the batch axis).
pub type Dim = Option<usize>;
pub type Shape = Vec<Dim>;

pub fn fmt_dims(shape: &[Dim]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.map_or("None".to_string(), |v| v.to_string())).collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConvConfig {
    pub filters: usize,
    pub kernel: [usize; 2],
    pub strides: [usize; 2],
    pub padding: Padding,
    pub dilation: [usize; 2],
    pub activation: Activation,
    pub use_bias: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LayerKind {
    Input { shape: Shape },
    Dense { units: usize, activation: Activation, use_bias: bool },
    Conv2D(ConvConfig),
    Conv2DTranspose { conv: ConvConfig, output_padding: Option<[usize; 2]> },
    SeparableConv2D { conv: ConvConfig, depth_multiplier: usize },
    DepthwiseConv2D { conv: ConvConfig, depth_multiplier: usize },
    BatchNormalization { momentum: f64, epsilon: f64, center: bool, scale: bool },
    Pooling2D { kind: PoolKind, pool: [usize; 2], strides: Option<[usize; 2]>, padding: Padding },
    GlobalAveragePooling2D,
    Flatten,
    Dropout { rate: f64 },
    Rescaling { scale: f64, offset: f64 },
    Activation(Activation),
    Add,
    Concatenate { axis: isize },
    /// Keras ReLU layer: max(x, 0), capped at max_value when given (ReLU6 in MobileNet).
    ReLU { max_value: Option<f64> },
    ZeroPadding2D { padding: [[usize; 2]; 2] },
    RandomFlip { horizontal: bool, vertical: bool },
    RandomRotation { factor: f64 },
    RandomZoom { height_factor: f64, width_factor: Option<f64> },
    /// A whole model called as a layer (an augmentation Sequential, a pretrained base).
    Model(NestedModel),
}

/// A model inside another; equal only to itself.
#[derive(Clone)]
pub struct NestedModel(pub crate::nn::model::Model);

impl std::fmt::Debug for NestedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} name={}>", self.0.class_name(), self.0.name())
    }
}

impl PartialEq for NestedModel {
    fn eq(&self, other: &Self) -> bool {
        self.0.same(&other.0)
    }
}

/// One weight a layer creates when it is built.
pub struct WeightSpec {
    pub name: &'static str,
    pub shape: Vec<usize>,
    pub init: Initializer,
    pub trainable: bool,
}

fn spec(name: &'static str, shape: Vec<usize>, init: Initializer, trainable: bool) -> WeightSpec {
    WeightSpec { name, shape, init, trainable }
}

fn known(d: Dim, what: &str, layer: &str) -> Result<usize> {
    d.ok_or_else(|| crate::Error::new(format!("{layer}: the {what} dimension must be known, got None")))
}

/// Spatial output length of a forward window op, or None for an unknown input length.
fn window_len(input: Dim, kernel: usize, stride: usize, dilation: usize, padding: Padding) -> Result<Dim> {
    match input {
        None => Ok(None),
        Some(i) => Ok(Some(AxisGeometry::new(i, kernel, stride, dilation, padding)?.output)),
    }
}

impl LayerKind {
    pub fn class_name(&self) -> &'static str {
        match self {
            LayerKind::Input { .. } => "InputLayer",
            LayerKind::Dense { .. } => "Dense",
            LayerKind::Conv2D(_) => "Conv2D",
            LayerKind::Conv2DTranspose { .. } => "Conv2DTranspose",
            LayerKind::SeparableConv2D { .. } => "SeparableConv2D",
            LayerKind::DepthwiseConv2D { .. } => "DepthwiseConv2D",
            LayerKind::BatchNormalization { .. } => "BatchNormalization",
            LayerKind::Pooling2D { kind: PoolKind::Max, .. } => "MaxPooling2D",
            LayerKind::Pooling2D { kind: PoolKind::Average, .. } => "AveragePooling2D",
            LayerKind::GlobalAveragePooling2D => "GlobalAveragePooling2D",
            LayerKind::Flatten => "Flatten",
            LayerKind::Dropout { .. } => "Dropout",
            LayerKind::Rescaling { .. } => "Rescaling",
            LayerKind::Activation(_) => "Activation",
            LayerKind::Add => "Add",
            LayerKind::Concatenate { .. } => "Concatenate",
            LayerKind::ReLU { .. } => "ReLU",
            LayerKind::ZeroPadding2D { .. } => "ZeroPadding2D",
            LayerKind::RandomFlip { .. } => "RandomFlip",
            LayerKind::RandomRotation { .. } => "RandomRotation",
            LayerKind::RandomZoom { .. } => "RandomZoom",
            LayerKind::Model(m) => m.0.class_name(),
        }
    }

    /// How many inputs a call takes (None: two or more).
    pub fn arity(&self) -> Option<usize> {
        match self {
            LayerKind::Input { .. } => Some(0),
            LayerKind::Add | LayerKind::Concatenate { .. } => None,
            LayerKind::Model(m) => Some(m.0.inputs().len()),
            _ => Some(1),
        }
    }

    pub fn output_shape(&self, inputs: &[Shape], layer: &str) -> Result<Shape> {
        let rank4 = |s: &Shape| -> Result<()> {
            ensure!(s.len() == 4, "{layer}: expects a 4-D input (batch, height, width, channels), got {}", fmt_dims(s));
            Ok(())
        };
        let x = inputs.first().cloned().unwrap_or_default();
        Ok(match self {
            LayerKind::Input { shape } => shape.clone(),
            LayerKind::Dense { units, .. } => {
                ensure!(x.len() >= 2, "{layer}: expects an input of rank >= 2, got {}", fmt_dims(&x));
                known(x[x.len() - 1], "last", layer)?;
                let mut out = x.clone();
                *out.last_mut().unwrap_or(&mut None) = Some(*units);
                out
            }
            LayerKind::Conv2D(c) => {
                rank4(&x)?;
                vec![
                    x[0],
                    window_len(x[1], c.kernel[0], c.strides[0], c.dilation[0], c.padding)?,
                    window_len(x[2], c.kernel[1], c.strides[1], c.dilation[1], c.padding)?,
                    Some(c.filters),
                ]
            }
            LayerKind::SeparableConv2D { conv: c, .. } | LayerKind::DepthwiseConv2D { conv: c, .. } => {
                rank4(&x)?;
                let channels = match self {
                    LayerKind::DepthwiseConv2D { depth_multiplier, .. } => known(x[3], "channel", layer)? * depth_multiplier,
                    _ => c.filters,
                };
                vec![
                    x[0],
                    window_len(x[1], c.kernel[0], c.strides[0], c.dilation[0], c.padding)?,
                    window_len(x[2], c.kernel[1], c.strides[1], c.dilation[1], c.padding)?,
                    Some(channels),
                ]
            }
            LayerKind::Conv2DTranspose { conv: c, output_padding } => {
                rank4(&x)?;
                let len = |d: Dim, a: usize| -> Result<Dim> {
                    d.map(|i| conv_transpose_output_len(i, c.kernel[a], c.strides[a], 1, c.padding, output_padding.map(|p| p[a])))
                        .transpose()
                };
                vec![x[0], len(x[1], 0)?, len(x[2], 1)?, Some(c.filters)]
            }
            LayerKind::Pooling2D { pool, strides, padding, .. } => {
                rank4(&x)?;
                let s = strides.unwrap_or(*pool);
                vec![x[0], window_len(x[1], pool[0], s[0], 1, *padding)?, window_len(x[2], pool[1], s[1], 1, *padding)?, x[3]]
            }
            LayerKind::GlobalAveragePooling2D => {
                rank4(&x)?;
                vec![x[0], x[3]]
            }
            LayerKind::ZeroPadding2D { padding: p } => {
                rank4(&x)?;
                vec![x[0], x[1].map(|h| h + p[0][0] + p[0][1]), x[2].map(|w| w + p[1][0] + p[1][1]), x[3]]
            }
            LayerKind::Flatten => {
                let rest: Option<usize> = x[1..].iter().try_fold(1usize, |acc, d| d.map(|v| acc * v));
                vec![x[0], rest]
            }
            LayerKind::Add | LayerKind::Concatenate { .. } => {
                ensure!(inputs.len() >= 2, "{layer}: needs at least 2 inputs, got {}", inputs.len());
                let first = &inputs[0];
                let axis = match self {
                    LayerKind::Concatenate { axis } => Some(crate::shape::normalize_axis(*axis, first.len())?),
                    _ => None,
                };
                let mut out = first.clone();
                for s in &inputs[1..] {
                    let compatible = s.len() == first.len()
                        && (0..s.len()).all(|d| Some(d) == axis || s[d] == first[d] || s[d].is_none() || first[d].is_none());
                    ensure!(
                        compatible,
                        "{layer}: input shapes {} and {} are incompatible",
                        fmt_dims(first),
                        fmt_dims(s)
                    );
                    if let Some(a) = axis {
                        out[a] = match (out[a], s[a]) {
                            (Some(p), Some(q)) => Some(p + q),
                            _ => None,
                        };
                    }
                }
                out
            }
            LayerKind::BatchNormalization { .. }
            | LayerKind::Dropout { .. }
            | LayerKind::Rescaling { .. }
            | LayerKind::Activation(_)
            | LayerKind::ReLU { .. }
            | LayerKind::RandomFlip { .. }
            | LayerKind::RandomRotation { .. }
            | LayerKind::RandomZoom { .. } => x,
            LayerKind::Model(NestedModel(m)) => {
                ensure!(
                    m.outputs().len() == 1,
                    "{layer}: a model with {} outputs cannot be called as a layer (only single-output models can)",
                    m.outputs().len()
                );
                for (want, got) in m.inputs().iter().zip(inputs) {
                    let want = want.shape();
                    let fits = want.len() == got.len()
                        && want.iter().zip(got).skip(1).all(|(w, g)| w.is_none() || g.is_none() || w == g);
                    ensure!(fits, "{layer}: expects an input of shape {}, got {}", fmt_dims(want), fmt_dims(got));
                }
                let mut out = m.outputs()[0].shape().to_vec();
                if let Some(first) = out.first_mut() {
                    *first = x.first().copied().flatten();
                }
                out
            }
        })
    }

    /// Weights in Keras's order, for the given input shapes.
    pub fn weight_specs(&self, inputs: &[Shape], layer: &str) -> Result<Vec<WeightSpec>> {
        use Initializer::*;
        let x = inputs.first().cloned().unwrap_or_default();
        let last = || known(x.last().copied().flatten(), "channel", layer);
        Ok(match self {
            LayerKind::Dense { units, use_bias, .. } => {
                let mut w = vec![spec("kernel", vec![last()?, *units], GlorotUniform, true)];
                if *use_bias {
                    w.push(spec("bias", vec![*units], Zeros, true));
                }
                w
            }
            LayerKind::Conv2D(c) => {
                let mut w = vec![spec("kernel", vec![c.kernel[0], c.kernel[1], last()?, c.filters], GlorotUniform, true)];
                if c.use_bias {
                    w.push(spec("bias", vec![c.filters], Zeros, true));
                }
                w
            }
            LayerKind::Conv2DTranspose { conv: c, .. } => {
                let mut w = vec![spec("kernel", vec![c.kernel[0], c.kernel[1], c.filters, last()?], GlorotUniform, true)];
                if c.use_bias {
                    w.push(spec("bias", vec![c.filters], Zeros, true));
                }
                w
            }
            LayerKind::SeparableConv2D { conv: c, depth_multiplier } => {
                let cin = last()?;
                let mut w = vec![
                    spec("depthwise_kernel", vec![c.kernel[0], c.kernel[1], cin, *depth_multiplier], GlorotUniform, true),
                    spec("pointwise_kernel", vec![1, 1, cin * depth_multiplier, c.filters], GlorotUniform, true),
                ];
                if c.use_bias {
                    w.push(spec("bias", vec![c.filters], Zeros, true));
                }
                w
            }
            LayerKind::DepthwiseConv2D { conv: c, depth_multiplier } => {
                let cin = last()?;
                let mut w =
                    vec![spec("kernel", vec![c.kernel[0], c.kernel[1], cin, *depth_multiplier], GlorotUniform, true)];
                if c.use_bias {
                    w.push(spec("bias", vec![cin * depth_multiplier], Zeros, true));
                }
                w
            }
            LayerKind::BatchNormalization { center, scale, .. } => {
                let c = last()?;
                let mut w = Vec::new();
                if *scale {
                    w.push(spec("gamma", vec![c], Ones, true));
                }
                if *center {
                    w.push(spec("beta", vec![c], Zeros, true));
                }
                w.push(spec("moving_mean", vec![c], Zeros, false));
                w.push(spec("moving_variance", vec![c], Ones, false));
                w
            }
            _ => vec![],
        })
    }
}

/// What a forward pass needs besides its inputs and weights.
pub struct Forward<'a> {
    pub training: bool,
    pub rng: &'a mut rand::rngs::SmallRng,
    /// New values for non-trainable weights (BatchNormalization's moving statistics).
    pub updates: Vec<(usize, Tensor)>,
}

fn weight<'a>(w: &'a [Var], i: usize, layer: &str) -> Result<&'a Var> {
    w.get(i).ok_or_else(|| crate::Error::new(format!("{layer}: weight {i} is missing (layer not built?)")))
}

impl LayerKind {
    pub fn forward(&self, inputs: &[Var], w: &[Var], fwd: &mut Forward, layer: &str) -> Result<Var> {
        let x = &inputs[0];
        let ctx = |e: crate::Error| e.context(format!("layer \"{layer}\" ({})", self.class_name()));
        let out = (|| -> Result<Var> {
            Ok(match self {
                LayerKind::Input { .. } => x.clone(),
                LayerKind::Model(_) => crate::bail!("internal: a nested model runs through Model::run"),
                LayerKind::Dense { activation, use_bias, .. } => {
                    let kernel = weight(w, 0, layer)?;
                    let rank = x.shape().len();
                    let flat = if rank > 2 { x.reshape(&[-1, x.shape()[rank - 1] as isize])? } else { x.clone() };
                    let mut y = flat.matmul(kernel)?;
                    if *use_bias {
                        y = y.add(weight(w, 1, layer)?)?;
                    }
                    if rank > 2 {
                        let mut shape: Vec<isize> = x.shape().iter().map(|&d| d as isize).collect();
                        shape[rank - 1] = -1;
                        y = y.reshape(&shape)?;
                    }
                    activation.apply(&y)?
                }
                LayerKind::Conv2D(c) => {
                    let k = weight(w, 0, layer)?;
                    let spec = conv2d_spec(x.value(), k.value(), c.strides, c.padding, c.dilation)?;
                    let bias = if c.use_bias { Some(weight(w, 1, layer)?) } else { None };
                    c.activation.apply(&x.conv2d(k, bias, &spec)?)?
                }
                LayerKind::Conv2DTranspose { conv: c, output_padding } => {
                    let k = weight(w, 0, layer)?;
                    let spec = conv_transpose2d_spec(x.value(), k.value(), c.strides, c.padding, *output_padding)?;
                    let bias = if c.use_bias { Some(weight(w, 1, layer)?) } else { None };
                    c.activation.apply(&x.conv_transpose2d(k, bias, &spec)?)?
                }
                LayerKind::DepthwiseConv2D { conv: c, .. } => {
                    let k = weight(w, 0, layer)?;
                    let spec = depthwise_conv2d_spec(x.value(), k.value(), c.strides, c.padding, c.dilation)?;
                    let bias = if c.use_bias { Some(weight(w, 1, layer)?) } else { None };
                    c.activation.apply(&x.depthwise_conv2d(k, bias, &spec)?)?
                }
                LayerKind::SeparableConv2D { conv: c, .. } => {
                    let (dk, pk) = (weight(w, 0, layer)?, weight(w, 1, layer)?);
                    let dspec = depthwise_conv2d_spec(x.value(), dk.value(), c.strides, c.padding, c.dilation)?;
                    let mid = x.depthwise_conv2d(dk, None, &dspec)?;
                    let pspec = conv2d_spec(mid.value(), pk.value(), [1, 1], Padding::Valid, [1, 1])?;
                    let bias = if c.use_bias { Some(weight(w, 2, layer)?) } else { None };
                    c.activation.apply(&mid.conv2d(pk, bias, &pspec)?)?
                }
                LayerKind::BatchNormalization { momentum, epsilon, center, scale } => {
                    let mut i = 0;
                    let gamma = if *scale {
                        i += 1;
                        Some(weight(w, i - 1, layer)?)
                    } else {
                        None
                    };
                    let beta = if *center {
                        i += 1;
                        Some(weight(w, i - 1, layer)?)
                    } else {
                        None
                    };
                    let (mm, mv) = (weight(w, i, layer)?.value().clone(), weight(w, i + 1, layer)?.value().clone());
                    let (y, moving) = x.batch_norm(gamma, beta, &mm, &mv, fwd.training, *epsilon, *momentum)?;
                    if let Some((m, v)) = moving {
                        fwd.updates.push((i, m));
                        fwd.updates.push((i + 1, v));
                    }
                    y
                }
                LayerKind::Pooling2D { kind, pool, strides, padding } => {
                    let spec = pool2d_spec(x.value(), *kind, *pool, *strides, *padding)?;
                    x.pool2d(&spec)?
                }
                LayerKind::GlobalAveragePooling2D => x.mean(&[1, 2], false)?,
                LayerKind::Flatten => x.reshape(&[x.shape()[0] as isize, -1])?,
                LayerKind::Dropout { rate } => {
                    if !fwd.training || *rate <= 0.0 {
                        x.clone()
                    } else {
                        use rand::Rng;
                        let keep = 1.0 - rate;
                        let mask: Vec<f32> = (0..x.value().numel())
                            .map(|_| if fwd.rng.random::<f64>() < keep { (1.0 / keep) as f32 } else { 0.0 })
                            .collect();
                        let mask = Tensor::from_f32(x.value().device(), mask, x.shape())?;
                        x.mul(&Var::constant(&mask))?
                    }
                }
                LayerKind::Rescaling { scale, offset } => x.unary(crate::ops::elementwise::UnaryOp::Affine(*scale, *offset))?,
                LayerKind::Activation(a) => a.apply(x)?,
                LayerKind::ReLU { max_value: None } => x.unary(crate::ops::elementwise::UnaryOp::Relu)?,
                LayerKind::ReLU { max_value: Some(m) } => x.unary(crate::ops::elementwise::UnaryOp::Clamp(0.0, *m))?,
                LayerKind::ZeroPadding2D { padding: p } => x.pad(&[(0, 0), (p[0][0], p[0][1]), (p[1][0], p[1][1]), (0, 0)], 0.0)?,
                LayerKind::Add => {
                    let mut acc = x.clone();
                    for other in &inputs[1..] {
                        acc = acc.add(other)?;
                    }
                    acc
                }
                LayerKind::Concatenate { axis } => Var::concat(&inputs.iter().collect::<Vec<_>>(), *axis)?,
                LayerKind::RandomFlip { .. } | LayerKind::RandomRotation { .. } | LayerKind::RandomZoom { .. } => {
                    if !fwd.training {
                        return Ok(x.clone());
                    }
                    use crate::ops::image_transform::{
                        random_flips, random_rotations, random_zooms, transform, FillMode, Interpolation,
                    };
                    let s = x.shape();
                    ensure!(s.len() == 4, "expects images (batch, height, width, channels), got {:?}", s);
                    let (n, h, wd) = (s[0], s[1], s[2]);
                    let rows = match self {
                        LayerKind::RandomFlip { horizontal, vertical } => random_flips(fwd.rng, n, h, wd, *horizontal, *vertical),
                        LayerKind::RandomRotation { factor } => random_rotations(fwd.rng, n, h, wd, *factor),
                        LayerKind::RandomZoom { height_factor, width_factor } => {
                            random_zooms(fwd.rng, n, h, wd, *height_factor, *width_factor)
                        }
                        _ => unreachable!("matched above"),
                    };
                    let t = Tensor::from_f32(x.value().device(), rows, &[n, 8])?;
                    // Augmentation sits on the inputs; like TensorFlow's transform op it
                    // passes no gradient back.
                    Var::constant(&transform(x.value(), &t, FillMode::Reflect, Interpolation::Bilinear, 0.0)?)
                }
            })
        })();
        out.map_err(ctx)
    }
}
