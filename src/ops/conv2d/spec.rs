//! Conv2D's vocabulary: the spec of one convolution and its output-size rule.
//! Both devices consume it; it depends on neither.

use crate::error::Result;
use crate::ops::geometry::{AxisGeometry, Padding, Window2d};
use crate::shape::fmt_shape;

/// Shapes and geometry of one `conv2d`. Sizes are in elements; `kernel`, `strides` and
/// `dilation` are `[rows, columns]`, strides and dilation in input pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dSpec {
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
    /// Keras `dilation_rate`.
    pub dilation: [usize; 2],
    /// Keras `padding`.
    pub padding: Padding,
}

impl Conv2dSpec {
    /// `(N, H, W, in)`.
    pub fn input_shape(&self) -> [usize; 4] {
        [self.batch, self.in_h, self.in_w, self.in_channels]
    }

    /// `(kh, kw, in, out)`.
    pub fn kernel_shape(&self) -> [usize; 4] {
        [self.kernel[0], self.kernel[1], self.in_channels, self.out_channels]
    }

    fn describe(&self) -> String {
        format!(
            "conv2d: input {}, kernel {}, strides {:?}, dilation {:?}, padding \"{}\"",
            fmt_shape(&self.input_shape()),
            fmt_shape(&self.kernel_shape()),
            self.strides,
            self.dilation,
            self.padding.name()
        )
    }

    /// Output geometry along rows and columns.
    pub fn window(&self) -> Result<Window2d> {
        let build = || -> Result<Window2d> {
            crate::ensure!(self.in_channels > 0 && self.out_channels > 0, "channel counts must be positive");
            let h = AxisGeometry::new(self.in_h, self.kernel[0], self.strides[0], self.dilation[0], self.padding)?;
            let w = AxisGeometry::new(self.in_w, self.kernel[1], self.strides[1], self.dilation[1], self.padding)?;
            Ok(Window2d { h, w })
        };
        build().map_err(|e| e.context(self.describe()))
    }

    /// `(N, out_h, out_w, out)`.
    pub fn output_shape(&self) -> Result<[usize; 4]> {
        let g = self.window()?;
        Ok([self.batch, g.h.output, g.w.output, self.out_channels])
    }
}
