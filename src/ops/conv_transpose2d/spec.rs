//! Conv2DTranspose's vocabulary: the spec of one transposed convolution and its output-size rule.
//! Both devices consume it; it depends on neither.

use crate::error::Result;
use crate::ops::geometry::{conv_transpose_axis, Padding, Window2d};
use crate::shape::fmt_shape;

/// Shapes and geometry of one `conv_transpose2d`. Sizes are in elements; `kernel`,
/// `strides`, `output_padding` and `dilation` are `[rows, columns]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvTranspose2dSpec {
    /// Batch size N.
    pub batch: usize,
    /// Input rows.
    pub in_h: usize,
    /// Input columns.
    pub in_w: usize,
    /// Input channels.
    pub in_channels: usize,
    /// Keras `filters`.
    pub out_channels: usize,
    /// Keras `kernel_size`.
    pub kernel: [usize; 2],
    /// Keras `strides`.
    pub strides: [usize; 2],
    /// Keras `padding`.
    pub padding: Padding,
    /// Keras `output_padding` (None: Keras's default for the padding mode); each value
    /// must be smaller than the stride.
    pub output_padding: Option<[usize; 2]>,
    /// Must be `[1, 1]`.
    pub dilation: [usize; 2],
}

impl ConvTranspose2dSpec {
    /// `(N, H, W, in)`.
    pub fn input_shape(&self) -> [usize; 4] {
        [self.batch, self.in_h, self.in_w, self.in_channels]
    }

    /// `(kh, kw, out, in)`.
    pub fn kernel_shape(&self) -> [usize; 4] {
        [self.kernel[0], self.kernel[1], self.out_channels, self.in_channels]
    }

    fn describe(&self) -> String {
        format!(
            "conv_transpose2d: input {}, kernel {}, strides {:?}, padding \"{}\", output_padding {:?}, dilation {:?}",
            fmt_shape(&self.input_shape()),
            fmt_shape(&self.kernel_shape()),
            self.strides,
            self.padding.name(),
            self.output_padding,
            self.dilation
        )
    }

    /// Geometry of the forward convolution this op transposes: its `input` lengths are
    /// this op's output size, its `output` lengths this op's input size.
    pub fn window(&self) -> Result<Window2d> {
        let build = || -> Result<Window2d> {
            crate::ensure!(self.in_channels > 0 && self.out_channels > 0, "channel counts must be positive");
            crate::ensure!(self.dilation == [1, 1], "only dilation 1 is supported");
            let op = |a: usize| self.output_padding.map(|p| p[a]);
            let h = conv_transpose_axis(self.in_h, self.kernel[0], self.strides[0], 1, self.padding, op(0))?;
            let w = conv_transpose_axis(self.in_w, self.kernel[1], self.strides[1], 1, self.padding, op(1))?;
            Ok(Window2d { h, w })
        };
        build().map_err(|e| e.context(self.describe()))
    }

    /// `(N, out_h, out_w, out)`.
    pub fn output_shape(&self) -> Result<[usize; 4]> {
        let g = self.window()?;
        Ok([self.batch, g.h.input, g.w.input, self.out_channels])
    }
}
