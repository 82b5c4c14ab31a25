//! The only place shader sources are loaded. One WGSL file per op family ("stem");
//! the same stem names the Rust op module and the CPU reference.
//!
//! Include step: code that several stems share verbatim (the tiled GEMM's inner loop)
//! lives once under shaders/include/. A line `//!include NAME` in a stem's source
//! (leading whitespace allowed) is replaced by the text of shaders/include/NAME when the
//! source is composed; [`Stem::source`] always returns the composed module, which is
//! what the pipelines compile and what the naga tests validate.

use std::borrow::Cow;

/// Marker of an include line.
pub const INCLUDE_MARKER: &str = "//!include ";

/// Shared WGSL fragments (not stems), by the name include lines use.
pub const INCLUDES: &[(&str, &str)] = &[("gemm_tile.wgsl", include_str!("../../shaders/include/gemm_tile.wgsl"))];

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
    Resize,
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
        Stem::Resize,
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
            Stem::Resize => "resize",
        }
    }

    /// The composed WGSL module: the stem's file with its include lines replaced.
    pub fn source(self) -> Cow<'static, str> {
        compose(self.raw_source())
    }

    /// The stem's file as written, include lines and all.
    pub fn raw_source(self) -> &'static str {
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
            Stem::Resize => include_str!("../../shaders/resize.wgsl"),
        }
    }
}

/// Replace each `//!include NAME` line by the fragment NAME. An unknown name stays as
/// written (a comment), which the shader tests reject.
fn compose(raw: &'static str) -> Cow<'static, str> {
    if !raw.contains(INCLUDE_MARKER) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len() + 2048);
    for line in raw.split_inclusive('\n') {
        let fragment = line
            .trim()
            .strip_prefix(INCLUDE_MARKER)
            .and_then(|name| INCLUDES.iter().find(|(n, _)| *n == name.trim()))
            .map(|(_, text)| *text);
        match fragment {
            Some(text) => {
                out.push_str(text);
                if !text.ends_with('\n') {
                    out.push('\n');
                }
            }
            None => out.push_str(line),
        }
    }
    Cow::Owned(out)
}
