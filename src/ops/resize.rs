//! Resizing NHWC images to a new height and width (`tf.image.resize` with
//! antialias=False; Keras's `Resizing` and `UpSampling2D`), and its input gradient.

pub mod spec;
pub use spec::{aspect_crop, aspect_pad, Aspect, ResizeMethod, ResizeSpec};

use super::{expect_shape, on_device, require_float};
use crate::error::Result;
use crate::gpu::kernels::resize as gpu;
use crate::reference::resize as reference;
use crate::tensor::Tensor;

const OP: &str = "resize";

/// Resize `x` (N, H, W, C) to `size` [height, width].
pub fn resize(x: &Tensor, size: [usize; 2], method: ResizeMethod) -> Result<Tensor> {
    let spec = ResizeSpec::new(x.shape(), size, method)?;
    resize_with_spec(x, &spec)
}

pub(crate) fn resize_with_spec(x: &Tensor, spec: &ResizeSpec) -> Result<Tensor> {
    require_float(OP, x)?;
    expect_shape(OP, "input", x, &spec.input_shape())?;
    let device = x.device();
    on_device!(device, x.dtype(), OP,
        cpu::<F> => {
            let y = reference::resize(F::slice(x, OP)?, spec)?;
            Ok(Tensor::from_cpu(&spec.output_shape(), F::wrap(y)))
        },
        gpu(ctx) => gpu::forward(ctx, device, x, spec),
    )
}

/// Gradient with respect to the input, from the output gradient `dy`. Each input pixel
/// gathers over the outputs that read it, so no two invocations write the same element.
pub fn resize_grad_input(dy: &Tensor, spec: &ResizeSpec) -> Result<Tensor> {
    require_float(OP, dy)?;
    expect_shape(OP, "output gradient", dy, &spec.output_shape())?;
    let device = dy.device();
    on_device!(device, dy.dtype(), OP,
        cpu::<F> => {
            let g = reference::resize_grad_input(F::slice(dy, OP)?, spec)?;
            Ok(Tensor::from_cpu(&spec.input_shape(), F::wrap(g)))
        },
        gpu(ctx) => gpu::grad_input(ctx, device, dy, spec),
    )
}

/// Keras's `ops.image.resize` on a batch: crop or pad to the target's aspect ratio first
/// when `aspect` says so, then resize. (Layers do the same on the tape.)
pub fn resize_images(x: &Tensor, size: [usize; 2], method: ResizeMethod, aspect: Aspect) -> Result<Tensor> {
    let spec = ResizeSpec::new(x.shape(), size, method)?;
    let (n, h, w, c) = (spec.batch, spec.in_h, spec.in_w, spec.channels);
    let x = match aspect {
        Aspect::Stretch => return resize_with_spec(x, &spec),
        Aspect::Crop => {
            let (top, left, ch, cw) = aspect_crop(h, w, size);
            x.slice(&[0, top, left, 0], &[n, ch, cw, c])?
        }
        Aspect::Pad(fill) => {
            let (rows, cols) = aspect_pad(h, w, size);
            x.pad(&[(0, 0), rows, cols, (0, 0)], fill)?
        }
    };
    resize(&x, size, method)
}
