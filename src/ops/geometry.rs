//! Window geometry shared by conv2d, conv_transpose2d, depthwise_conv2d and pool2d (both
//! devices consume it): TensorFlow/Keras output sizes, padding, and the taps along one axis.
//!
//! All sizes are in elements (pixels) along one spatial axis; strides and dilations are
//! in input pixels. A forward window op (convolution or pooling) reads, for output pixel
//! `o` and kernel tap `k`, the input pixel
//!
//! ```text
//! i = o * stride + k * dilation - pad_before        (skipped when outside [0, input))
//! ```
//!
//! Padding follows TensorFlow (which Keras uses):
//! * `Valid`: no padding, `output = floor((input - k_eff) / stride) + 1` where
//!   `k_eff = (kernel - 1) * dilation + 1`; an error when `input < k_eff`.
//! * `Same`: `output = ceil(input / stride)`,
//!   `pad_total = max((output - 1) * stride + k_eff - input, 0)`,
//!   `pad_before = pad_total / 2` (rounded down), the extra pixel (if any) after.

use crate::error::{Error, Result};

/// Keras `padding` argument of convolutions and pooling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// No padding: windows stay inside the input.
    Valid,
    /// Zero padding so that `output = ceil(input / stride)`.
    Same,
}

impl Padding {
    /// Parse Keras's spelling ("valid" / "same", any case).
    pub fn parse(s: &str) -> Result<Padding> {
        match s.to_ascii_lowercase().as_str() {
            "valid" => Ok(Padding::Valid),
            "same" => Ok(Padding::Same),
            _ => Err(Error::new(format!("padding must be \"valid\" or \"same\", got {s:?}"))),
        }
    }

    /// Keras's spelling, as configs and summaries write it.
    pub fn name(self) -> &'static str {
        match self {
            Padding::Valid => "valid",
            Padding::Same => "same",
        }
    }
}

/// Extent of a dilated kernel: `(kernel - 1) * dilation + 1`.
pub(crate) fn effective_kernel(kernel: usize, dilation: usize) -> usize {
    (kernel.max(1) - 1) * dilation + 1
}

/// One kernel tap along one axis: output pixel `out` reads input pixel `input` through
/// kernel position `k` (only taps that land inside the input are listed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tap {
    /// Output pixel.
    pub out: usize,
    /// Kernel position.
    pub k: usize,
    /// Input pixel it reads.
    pub input: usize,
}

/// Geometry of a forward window op along one spatial axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AxisGeometry {
    /// Input size.
    pub input: usize,
    /// Kernel size (undilated).
    pub kernel: usize,
    /// Step between windows, in input pixels.
    pub stride: usize,
    /// Step between kernel taps, in input pixels.
    pub dilation: usize,
    pub(crate) pad_before: usize,
    /// Output size.
    pub output: usize,
}

impl AxisGeometry {
    /// Forward conv/pool geometry with TensorFlow's padding rules (see the module docs).
    pub fn new(input: usize, kernel: usize, stride: usize, dilation: usize, padding: Padding) -> Result<Self> {
        check_positive(input, kernel, stride, dilation)?;
        let k_eff = effective_kernel(kernel, dilation);
        let output = match padding {
            Padding::Valid => {
                if input < k_eff {
                    return Err(Error::new(format!(
                        "padding \"valid\" needs input size >= effective kernel size, got input {input} < {k_eff} \
                         (kernel {kernel}, dilation {dilation})"
                    )));
                }
                (input - k_eff) / stride + 1
            }
            Padding::Same => input.div_ceil(stride),
        };
        let pad_total = ((output - 1) * stride + k_eff).saturating_sub(input);
        let pad_before = match padding {
            Padding::Valid => 0,
            Padding::Same => pad_total / 2,
        };
        Ok(AxisGeometry { input, kernel, stride, dilation, pad_before, output })
    }

    /// Padding after the input (TensorFlow SAME puts the odd pixel here).
    pub fn pad_after(&self) -> usize {
        ((self.output - 1) * self.stride + effective_kernel(self.kernel, self.dilation))
            .saturating_sub(self.input + self.pad_before)
    }

    /// Input pixel read by output pixel `o` through kernel tap `k`, or None in the padding.
    pub(crate) fn input_of(&self, o: usize, k: usize) -> Option<usize> {
        let i = (o * self.stride + k * self.dilation) as isize - self.pad_before as isize;
        if i >= 0 && (i as usize) < self.input {
            Some(i as usize)
        } else {
            None
        }
    }

    /// Every tap `(out, k, input)` that lands inside the input, in order of `out`, then `k`.
    pub fn taps(&self) -> Vec<Tap> {
        let mut taps = Vec::new();
        for out in 0..self.output {
            for k in 0..self.kernel {
                if let Some(input) = self.input_of(out, k) {
                    taps.push(Tap { out, k, input });
                }
            }
        }
        taps
    }
}

fn check_positive(input: usize, kernel: usize, stride: usize, dilation: usize) -> Result<()> {
    if input == 0 || kernel == 0 || stride == 0 || dilation == 0 {
        return Err(Error::new(format!(
            "input size, kernel size, stride and dilation must be positive, got input {input}, \
             kernel {kernel}, stride {stride}, dilation {dilation}"
        )));
    }
    Ok(())
}

/// Output length of a Keras `Conv2DTranspose` along one axis
/// (`keras.src.backend.common.backend_utils._get_output_shape_given_tf_padding`,
/// formerly `deconv_output_length`), with `k_eff = (kernel - 1) * dilation + 1`:
/// * valid: `(input - 1) * stride + k_eff + output_padding`, where a missing
///   output_padding means `max(k_eff, stride) - k_eff`;
/// * same: `input * stride` without output_padding, otherwise
///   `(input - 1) * stride + k_eff % 2 + output_padding`.
///
/// Keras requires `output_padding < stride`.
pub(crate) fn conv_transpose_output_len(
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    padding: Padding,
    output_padding: Option<usize>,
) -> Result<usize> {
    check_positive(input, kernel, stride, dilation)?;
    if let Some(op) = output_padding {
        if op >= stride {
            return Err(Error::new(format!(
                "output_padding must be smaller than the stride, got output_padding {op} and stride {stride}"
            )));
        }
    }
    let k_eff = effective_kernel(kernel, dilation);
    Ok(match (padding, output_padding) {
        (Padding::Valid, None) => (input - 1) * stride + k_eff.max(stride),
        (Padding::Valid, Some(op)) => (input - 1) * stride + k_eff + op,
        (Padding::Same, None) => input * stride,
        (Padding::Same, Some(op)) => (input - 1) * stride + k_eff % 2 + op,
    })
}

/// Geometry of a transposed convolution along one axis, written as the forward
/// convolution it transposes: that convolution's `input` is the transposed op's output
/// (length from [`conv_transpose_output_len`]) and its `output` is the transposed op's
/// input. TensorFlow (`conv2d_backprop_input`) derives the padding from the forward
/// convolution and insists that it maps the output length back to the input length;
/// so do we (Keras's SAME rule with an explicit output_padding can violate this, e.g.
/// an even kernel with stride 1, and TensorFlow then fails too).
pub(crate) fn conv_transpose_axis(
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    padding: Padding,
    output_padding: Option<usize>,
) -> Result<AxisGeometry> {
    let out_len = conv_transpose_output_len(input, kernel, stride, dilation, padding, output_padding)?;
    let forward = AxisGeometry::new(out_len, kernel, stride, dilation, padding)?;
    if forward.output != input {
        return Err(Error::new(format!(
            "output length {out_len} (kernel {kernel}, stride {stride}, padding \"{}\", output_padding {:?}) \
             does not map back to input length {input} (the forward convolution gives {})",
            padding.name(),
            output_padding,
            forward.output
        )));
    }
    Ok(forward)
}

/// Geometry of a 2-D window op: one [`AxisGeometry`] for the rows (h) and one for the
/// columns (w).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window2d {
    /// Rows.
    pub h: AxisGeometry,
    /// Columns.
    pub w: AxisGeometry,
}

impl Window2d {
    /// Call `f(n, tap_h, tap_w)` for every batch item and every pair of in-bounds taps:
    /// output pixel `(tap_h.out, tap_w.out)` reads input pixel `(tap_h.input, tap_w.input)`
    /// through kernel position `(tap_h.k, tap_w.k)`. Forward passes and their gradients
    /// all walk this same list, so each gradient is visibly the adjoint of its forward.
    pub(crate) fn for_each_tap(&self, batch: usize, mut f: impl FnMut(usize, Tap, Tap)) {
        let (taps_h, taps_w) = (self.h.taps(), self.w.taps());
        for n in 0..batch {
            for &th in &taps_h {
                for &tw in &taps_w {
                    f(n, th, tw);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_is_asymmetric_like_tensorflow() {
        // in 5, k 4, s 2: out 3, pad_total (3-1)*2+4-5 = 3, before 1, after 2.
        let g = AxisGeometry::new(5, 4, 2, 1, Padding::Same).unwrap();
        assert_eq!((g.output, g.pad_before, g.pad_after()), (3, 1, 2));
        let g = AxisGeometry::new(7, 3, 1, 2, Padding::Valid).unwrap();
        assert_eq!((g.output, g.pad_before), (3, 0));
        assert!(AxisGeometry::new(3, 3, 1, 2, Padding::Valid).is_err());
    }

    #[test]
    fn transpose_lengths_follow_keras() {
        assert_eq!(conv_transpose_output_len(5, 3, 2, 1, Padding::Valid, None).unwrap(), 11);
        assert_eq!(conv_transpose_output_len(5, 1, 3, 1, Padding::Valid, None).unwrap(), 15);
        assert_eq!(conv_transpose_output_len(5, 3, 2, 1, Padding::Same, None).unwrap(), 10);
        assert_eq!(conv_transpose_output_len(5, 4, 3, 1, Padding::Same, Some(1)).unwrap(), 13);
        assert!(conv_transpose_axis(5, 2, 1, 1, Padding::Same, Some(0)).is_err());
    }
}
