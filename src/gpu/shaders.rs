//! The only place shader sources are loaded. One WGSL file per op family ("stem");
//! the same stem names the Rust op module and the CPU reference.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stem {
    Elementwise,
    Reduce,
    Matmul,
    Copy,
    Conv2d,
    ConvTranspose2d,
    DepthwiseConv2d,
    Pool2d,
    BatchNorm,
    ImageTransform,
    Loss,
    OptimUpdate,
}

impl Stem {
    pub const ALL: &'static [Stem] = &[
        Stem::Elementwise,
        Stem::Reduce,
        Stem::Matmul,
        Stem::Copy,
        Stem::Conv2d,
        Stem::ConvTranspose2d,
        Stem::DepthwiseConv2d,
        Stem::Pool2d,
        Stem::BatchNorm,
        Stem::ImageTransform,
        Stem::Loss,
        Stem::OptimUpdate,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stem::Elementwise => "elementwise",
            Stem::Reduce => "reduce",
            Stem::Matmul => "matmul",
            Stem::Copy => "copy",
            Stem::Conv2d => "conv2d",
            Stem::ConvTranspose2d => "conv_transpose2d",
            Stem::DepthwiseConv2d => "depthwise_conv2d",
            Stem::Pool2d => "pool2d",
            Stem::BatchNorm => "batch_norm",
            Stem::ImageTransform => "image_transform",
            Stem::Loss => "loss",
            Stem::OptimUpdate => "optim_update",
        }
    }

    pub fn source(self) -> &'static str {
        match self {
            Stem::Elementwise => include_str!("../../shaders/elementwise.wgsl"),
            Stem::Reduce => include_str!("../../shaders/reduce.wgsl"),
            Stem::Matmul => include_str!("../../shaders/matmul.wgsl"),
            Stem::Copy => include_str!("../../shaders/copy.wgsl"),
            Stem::Conv2d => include_str!("../../shaders/conv2d.wgsl"),
            Stem::ConvTranspose2d => include_str!("../../shaders/conv_transpose2d.wgsl"),
            Stem::DepthwiseConv2d => include_str!("../../shaders/depthwise_conv2d.wgsl"),
            Stem::Pool2d => include_str!("../../shaders/pool2d.wgsl"),
            Stem::BatchNorm => include_str!("../../shaders/batch_norm.wgsl"),
            Stem::ImageTransform => include_str!("../../shaders/image_transform.wgsl"),
            Stem::Loss => include_str!("../../shaders/loss.wgsl"),
            Stem::OptimUpdate => include_str!("../../shaders/optim_update.wgsl"),
        }
    }
}
