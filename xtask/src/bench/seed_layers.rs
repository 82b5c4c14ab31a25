//! The convolution layers of the seed models, with the output shapes and parameter
//! counts of their Keras summaries, turned into the op shapes the conv bench times.
//! Layer names are those of a freshly built model (the seed notebooks number theirs
//! after earlier models).

// Without the bench feature only the tests below read this table.
#![cfg_attr(not(feature = "bench"), allow(dead_code))]

/// The op a bench case runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Conv2d,
    ConvTranspose2d,
    Depthwise,
}

impl Kind {
    pub fn keras(self) -> &'static str {
        match self {
            Kind::Conv2d => "Conv2D",
            Kind::ConvTranspose2d => "Conv2DTranspose",
            Kind::Depthwise => "DepthwiseConv2D",
        }
    }
}

/// One op at one shape; equal shapes are benched once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    pub kind: Kind,
    pub batch: usize,
    /// (height, width, channels) of the op's input.
    pub input: [usize; 3],
    /// Filters; the depth multiplier for depthwise.
    pub filters: usize,
    pub kernel: usize,
    pub stride: usize,
    pub same: bool,
    pub bias: bool,
}

/// A layer of a model that runs a case's shape.
#[derive(Clone, Debug)]
pub struct Use {
    pub model: &'static str,
    pub layer: String,
    /// The layer reads the model's input, so training never asks for its input gradient.
    pub data_input: bool,
    /// (height, width, channels) Keras prints for this op's output (None for the
    /// depthwise half of a SeparableConv2D, which Keras does not show).
    pub keras_output: Option<[usize; 3]>,
}

pub struct Case {
    pub shape: Shape,
    pub uses: Vec<Use>,
}

#[derive(Clone, Copy)]
enum Class {
    Conv2D {
        filters: usize,
        kernel: usize,
        stride: usize,
        same: bool,
        bias: bool,
    },
    Conv2DTranspose {
        filters: usize,
        stride: usize,
    },
    /// Depthwise 3x3 (multiplier 1) then a pointwise 1x1 Conv2D, both without bias.
    SeparableConv2D {
        filters: usize,
    },
}

struct Layer {
    name: String,
    class: Class,
    input: [usize; 3],
    keras_output: [usize; 3],
    keras_params: usize,
}

pub struct Model {
    pub name: &'static str,
    pub title: &'static str,
    /// The batch the chapter trains with.
    pub chapter_batch: usize,
    /// The default here: what a 2-core software adapter gets through in a few minutes.
    pub bench_batch: usize,
    layers: Vec<Layer>,
}

fn layer(name: &str, class: Class, input: [usize; 3], keras_output: [usize; 3], keras_params: usize) -> Layer {
    Layer { name: name.to_string(), class, input, keras_output, keras_params }
}

fn conv(filters: usize, kernel: usize, stride: usize, same: bool, bias: bool) -> Class {
    Class::Conv2D { filters, kernel, stride, same, bias }
}

/// Chapter 8.1: the MNIST convnet (valid 3x3 convolutions, 2x2 max pooling between).
fn mnist() -> Model {
    let c = |f| conv(f, 3, 1, false, true);
    Model {
        name: "mnist",
        title: "MNIST convnet (8.1), input 28x28x1",
        chapter_batch: 64,
        bench_batch: 64,
        layers: vec![
            layer("conv2d", c(32), [28, 28, 1], [26, 26, 32], 320),
            layer("conv2d_1", c(64), [13, 13, 32], [11, 11, 64], 18_496),
            layer("conv2d_2", c(128), [5, 5, 64], [3, 3, 128], 73_856),
        ],
    }
}

/// Chapter 9.2: the Oxford-pets segmentation model, 3x3 "same" throughout.
fn segmentation() -> Model {
    let c = |f, s| conv(f, 3, s, true, true);
    let t = |filters, stride| Class::Conv2DTranspose { filters, stride };
    Model {
        name: "segmentation",
        title: "segmentation model (9.2), input 200x200x3",
        chapter_batch: 64,
        bench_batch: 2,
        layers: vec![
            layer("conv2d", c(64, 2), [200, 200, 3], [100, 100, 64], 1_792),
            layer("conv2d_1", c(64, 1), [100, 100, 64], [100, 100, 64], 36_928),
            layer("conv2d_2", c(128, 2), [100, 100, 64], [50, 50, 128], 73_856),
            layer("conv2d_3", c(128, 1), [50, 50, 128], [50, 50, 128], 147_584),
            layer("conv2d_4", c(256, 2), [50, 50, 128], [25, 25, 256], 295_168),
            layer("conv2d_5", c(256, 1), [25, 25, 256], [25, 25, 256], 590_080),
            layer("conv2d_transpose", t(256, 1), [25, 25, 256], [25, 25, 256], 590_080),
            layer("conv2d_transpose_1", t(256, 2), [25, 25, 256], [50, 50, 256], 590_080),
            layer("conv2d_transpose_2", t(128, 1), [50, 50, 256], [50, 50, 128], 295_040),
            layer("conv2d_transpose_3", t(128, 2), [50, 50, 128], [100, 100, 128], 147_584),
            layer("conv2d_transpose_4", t(64, 1), [100, 100, 128], [100, 100, 64], 73_792),
            layer("conv2d_transpose_5", t(64, 2), [100, 100, 64], [200, 200, 64], 36_928),
            layer("conv2d_6", c(3, 1), [200, 200, 64], [200, 200, 3], 1_731),
        ],
    }
}

/// Chapter 9.3: the mini-Xception; each block is two SeparableConv2D, a 3x3/2 max pool
/// and a strided 1x1 projection of the block input added back.
fn xception() -> Model {
    let mut layers = vec![layer("conv2d", conv(32, 5, 1, false, false), [180, 180, 3], [176, 176, 32], 2_400)];
    let (mut side, mut channels) = (176, 32);
    for (b, size) in [32, 64, 128, 256, 512].into_iter().enumerate() {
        let sep = |i: usize| {
            if i == 0 {
                "separable_conv2d".to_string()
            } else {
                format!("separable_conv2d_{i}")
            }
        };
        let params = |cin: usize| 9 * cin + cin * size;
        let class = Class::SeparableConv2D { filters: size };
        layers.push(layer(&sep(2 * b), class, [side, side, channels], [side, side, size], params(channels)));
        layers.push(layer(&sep(2 * b + 1), class, [side, side, size], [side, side, size], params(size)));
        let half = side.div_ceil(2);
        let residual = conv(size, 1, 2, true, false);
        let name = format!("conv2d_{}", b + 1);
        layers.push(layer(&name, residual, [side, side, channels], [half, half, size], channels * size));
        (side, channels) = (half, size);
    }
    Model { name: "xception", title: "mini-Xception (9.3), input 180x180x3", chapter_batch: 32, bench_batch: 8, layers }
}

pub fn model(name: &str) -> Option<Model> {
    match name {
        "mnist" => Some(mnist()),
        "segmentation" => Some(segmentation()),
        "xception" => Some(xception()),
        _ => None,
    }
}

impl Layer {
    /// Kernel and bias sizes, to hold against the Keras summary.
    fn params(&self) -> usize {
        let cin = self.input[2];
        match self.class {
            Class::Conv2D { filters, kernel, bias, .. } => {
                kernel * kernel * cin * filters + usize::from(bias) * filters
            }
            Class::Conv2DTranspose { filters, .. } => 9 * cin * filters + filters,
            Class::SeparableConv2D { filters } => 9 * cin + cin * filters,
        }
    }

    /// The ops this layer runs, with the output shape Keras gives for each.
    fn ops(&self, batch: usize) -> Vec<(Shape, Option<[usize; 3]>, &'static str)> {
        let shape = |kind, input, filters, kernel, stride, same, bias| Shape {
            kind,
            batch,
            input,
            filters,
            kernel,
            stride,
            same,
            bias,
        };
        match self.class {
            Class::Conv2D { filters, kernel, stride, same, bias } => {
                vec![(
                    shape(Kind::Conv2d, self.input, filters, kernel, stride, same, bias),
                    Some(self.keras_output),
                    "",
                )]
            }
            Class::Conv2DTranspose { filters, stride } => {
                let s = shape(Kind::ConvTranspose2d, self.input, filters, 3, stride, true, true);
                vec![(s, Some(self.keras_output), "")]
            }
            Class::SeparableConv2D { filters } => vec![
                (shape(Kind::Depthwise, self.input, 1, 3, 1, true, false), None, " (depthwise)"),
                (shape(Kind::Conv2d, self.input, filters, 1, 1, true, false), Some(self.keras_output), " (pointwise)"),
            ],
        }
    }
}

/// Every op of the named models, equal shapes merged (first use first).
pub fn cases(models: &[Model], batch_override: Option<usize>) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for m in models {
        let batch = batch_override.unwrap_or(m.bench_batch);
        for (i, l) in m.layers.iter().enumerate() {
            for (shape, keras_output, part) in l.ops(batch) {
                let u = Use { model: m.name, layer: format!("{}{part}", l.name), data_input: i == 0, keras_output };
                match cases.iter_mut().find(|c| c.shape == shape) {
                    Some(c) => c.uses.push(u),
                    None => cases.push(Case { shape, uses: vec![u] }),
                }
            }
        }
    }
    cases
}

impl Model {
    /// Layers whose parameter count differs from the Keras summary: (name, ours, Keras's).
    pub fn param_mismatches(&self) -> Vec<(String, usize, usize)> {
        self.layers
            .iter()
            .filter(|l| l.params() != l.keras_params)
            .map(|l| (l.name.clone(), l.params(), l.keras_params))
            .collect()
    }

    #[cfg(test)]
    pub fn conv_params(&self) -> usize {
        self.layers.iter().map(Layer::params).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Output side of one op along one axis, Keras's rules.
    fn out_side(s: &Shape, side: usize) -> usize {
        match (s.kind, s.same) {
            (Kind::ConvTranspose2d, _) => side * s.stride,
            (_, true) => side.div_ceil(s.stride),
            (_, false) => (side - s.kernel) / s.stride + 1,
        }
    }

    #[test]
    fn layers_match_the_keras_summaries() {
        for name in super::super::MODELS {
            let m = model(name).unwrap();
            assert_eq!(m.param_mismatches(), vec![], "{name}");
            for case in cases(&[m], None) {
                let s = case.shape;
                let filters = if s.kind == Kind::Depthwise { s.input[2] * s.filters } else { s.filters };
                let out = [out_side(&s, s.input[0]), out_side(&s, s.input[1]), filters];
                for u in &case.uses {
                    if let Some(k) = u.keras_output {
                        assert_eq!(out, k, "{name} {}", u.layer);
                    }
                }
            }
        }
        // Every parameter of the segmentation model is in a convolution; the MNIST
        // convnet adds a Dense(10) on 3*3*128 features; the mini-Xception adds a
        // BatchNormalization (4 per channel) before each SeparableConv2D and a Dense(1)
        // on 512 features.
        assert_eq!(model("segmentation").unwrap().conv_params(), 2_880_643);
        assert_eq!(model("mnist").unwrap().conv_params() + 1152 * 10 + 10, 104_202);
        // Block inputs have 32, 32, 64, 128, 256 channels; the second BN sees `size`.
        let bn: usize =
            [(32, 32), (32, 64), (64, 128), (128, 256), (256, 512)].iter().map(|&(cin, size)| 4 * (cin + size)).sum();
        assert_eq!(model("xception").unwrap().conv_params() + bn + 513, 721_857);
    }

    #[test]
    fn equal_shapes_are_merged() {
        let cases = cases(&[model("xception").unwrap()], None);
        let first = cases.iter().find(|c| c.uses[0].layer == "separable_conv2d (depthwise)").unwrap();
        let names: Vec<_> = first.uses.iter().map(|u| u.layer.as_str()).collect();
        assert_eq!(names, ["separable_conv2d (depthwise)", "separable_conv2d_1 (depthwise)"]);
    }
}
