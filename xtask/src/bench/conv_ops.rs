//! A bench shape as the library's op specs, its operands, and its three passes run
//! through the public op functions (the same ones the autograd tape calls).

use convbook::ops::{conv2d, conv_transpose2d, depthwise_conv2d};
use convbook::ops::conv2d::Conv2dSpec;
use convbook::ops::geometry::{Padding, Window2d};
use convbook::ops::conv_transpose2d::ConvTranspose2dSpec;
use convbook::ops::depthwise_conv2d::DepthwiseConv2dSpec;
use convbook::{Device, Tensor};

use super::measure::inputs;
use super::seed_layers::{Kind, Shape};
use crate::util::Result;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    Forward,
    GradInput,
    GradKernel,
}

pub const PASSES: [Pass; 3] = [Pass::Forward, Pass::GradInput, Pass::GradKernel];

impl Pass {
    pub fn label(self) -> &'static str {
        match self {
            Pass::Forward => "fwd",
            Pass::GradInput => "dX",
            Pass::GradKernel => "dW",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Pass::Forward => "forward",
            Pass::GradInput => "grad_input",
            Pass::GradKernel => "grad_kernel",
        }
    }
}

#[derive(Clone, Copy)]
pub enum Spec {
    Conv(Conv2dSpec),
    Transpose(ConvTranspose2dSpec),
    Depthwise(DepthwiseConv2dSpec),
}

impl Spec {
    pub fn of(s: &Shape) -> Spec {
        let padding = if s.same { Padding::Same } else { Padding::Valid };
        let [in_h, in_w, channels] = s.input;
        let (batch, kernel, strides, dilation) = (s.batch, [s.kernel; 2], [s.stride; 2], [1, 1]);
        match s.kind {
            Kind::Conv2d => Spec::Conv(Conv2dSpec {
                batch,
                in_h,
                in_w,
                in_channels: channels,
                out_channels: s.filters,
                kernel,
                strides,
                dilation,
                padding,
            }),
            Kind::ConvTranspose2d => Spec::Transpose(ConvTranspose2dSpec {
                batch,
                in_h,
                in_w,
                in_channels: channels,
                out_channels: s.filters,
                kernel,
                strides,
                padding,
                output_padding: None,
                dilation,
            }),
            Kind::Depthwise => Spec::Depthwise(DepthwiseConv2dSpec {
                batch,
                in_h,
                in_w,
                in_channels: channels,
                depth_multiplier: s.filters,
                kernel,
                strides,
                dilation,
                padding,
            }),
        }
    }

    pub fn input_shape(&self) -> [usize; 4] {
        match self {
            Spec::Conv(s) => s.input_shape(),
            Spec::Transpose(s) => s.input_shape(),
            Spec::Depthwise(s) => s.input_shape(),
        }
    }

    pub fn kernel_shape(&self) -> [usize; 4] {
        match self {
            Spec::Conv(s) => s.kernel_shape(),
            Spec::Transpose(s) => s.kernel_shape(),
            Spec::Depthwise(s) => s.kernel_shape(),
        }
    }

    pub fn output_shape(&self) -> Result<[usize; 4]> {
        match self {
            Spec::Conv(s) => s.output_shape(),
            Spec::Transpose(s) => s.output_shape(),
            Spec::Depthwise(s) => s.output_shape(),
        }
        .map_err(|e| e.to_string())
    }

    /// The forward convolution's geometry (for a transposed convolution, the one it
    /// transposes: its output side is the transposed op's input).
    fn window(&self) -> Result<Window2d> {
        match self {
            Spec::Conv(s) => s.window(),
            Spec::Transpose(s) => s.window(),
            Spec::Depthwise(s) => s.window(),
        }
        .map_err(|e| e.to_string())
    }

    /// Multiply-adds of one pass (all three passes visit the same taps): (nominal, the
    /// usual count with every tap of every window; inside, without the taps that fall
    /// in the padding, which the CPU reference skips).
    pub fn macs(&self) -> Result<(u64, u64)> {
        let w = self.window()?;
        let (batch, per_tap) = match self {
            Spec::Conv(s) => (s.batch, s.in_channels * s.out_channels),
            Spec::Transpose(s) => (s.batch, s.in_channels * s.out_channels),
            Spec::Depthwise(s) => (s.batch, s.in_channels * s.depth_multiplier),
        };
        let nominal = batch * w.h.output * w.w.output * w.h.kernel * w.w.kernel * per_tap;
        let inside = batch * w.h.taps().len() * w.w.taps().len() * per_tap;
        Ok((nominal as u64, inside as u64))
    }

    pub fn run(&self, pass: Pass, t: &Operands) -> Result<Tensor> {
        let b = t.bias.as_ref();
        match (self, pass) {
            (Spec::Conv(s), Pass::Forward) => conv2d::conv2d_with_spec(&t.x, &t.kernel, b, s),
            (Spec::Conv(s), Pass::GradInput) => conv2d::conv2d_grad_input(&t.dy, &t.kernel, s),
            (Spec::Conv(s), Pass::GradKernel) => conv2d::conv2d_grad_kernel(&t.x, &t.dy, s),
            (Spec::Transpose(s), Pass::Forward) => conv_transpose2d::conv_transpose2d_with_spec(&t.x, &t.kernel, b, s),
            (Spec::Transpose(s), Pass::GradInput) => conv_transpose2d::conv_transpose2d_grad_input(&t.dy, &t.kernel, s),
            (Spec::Transpose(s), Pass::GradKernel) => conv_transpose2d::conv_transpose2d_grad_kernel(&t.x, &t.dy, s),
            (Spec::Depthwise(s), Pass::Forward) => depthwise_conv2d::depthwise_conv2d_with_spec(&t.x, &t.kernel, b, s),
            (Spec::Depthwise(s), Pass::GradInput) => depthwise_conv2d::depthwise_conv2d_grad_input(&t.dy, &t.kernel, s),
            (Spec::Depthwise(s), Pass::GradKernel) => depthwise_conv2d::depthwise_conv2d_grad_kernel(&t.x, &t.dy, s),
        }
        .map_err(|e| e.to_string())
    }
}

/// Input, kernel, optional bias and output gradient of one spec; the same seed gives
/// the same values on either device.
pub struct Operands {
    x: Tensor,
    kernel: Tensor,
    bias: Option<Tensor>,
    dy: Tensor,
}

impl Operands {
    pub fn new(device: &Device, spec: &Spec, bias: bool, seed: u64) -> Result<Operands> {
        let make = |shape: &[usize], seed: u64| {
            Tensor::from_f32(device, inputs(shape.iter().product(), seed), shape).map_err(|e| e.to_string())
        };
        let out = spec.output_shape()?;
        Ok(Operands {
            x: make(&spec.input_shape(), seed)?,
            kernel: make(&spec.kernel_shape(), seed + 1)?,
            bias: if bias { Some(make(&[out[3]], seed + 2)?) } else { None },
            dy: make(&out, seed + 3)?,
        })
    }
}

/// The same op on one image and a few rows: cheap to time on the CPU, and its
/// multiply-adds run at about the full op's rate.
pub fn proxy(s: &Shape) -> Shape {
    const ROWS: usize = 4;
    let rows = match (s.kind, s.same) {
        (Kind::ConvTranspose2d, _) => ROWS,
        (_, true) => ROWS * s.stride,
        (_, false) => (ROWS - 1) * s.stride + s.kernel,
    };
    Shape { batch: 1, input: [s.input[0].min(rows), s.input[1], s.input[2]], ..*s }
}
