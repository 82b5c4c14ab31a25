//! Per-image projective transforms of NHWC batches (the engine of Keras's RandomFlip,
//! RandomRotation and RandomZoom), and the transform matrices those layers draw.

pub(crate) mod spec;
pub use spec::{FillMode, Interpolation, TransformSpec};

use rand::Rng;

use super::{on_device, require_float};
use crate::error::Result;
use crate::gpu::kernels::image_transform as gpu;
use crate::reference::image_transform as reference;
use crate::tensor::Tensor;
use crate::ensure;


/// Resample every image of `images` (N, H, W, C) through its row of `transforms` (N, 8).
pub fn transform(
    images: &Tensor,
    transforms: &Tensor,
    fill_mode: FillMode,
    interpolation: Interpolation,
    fill_value: f64,
) -> Result<Tensor> {
    const OP: &str = "image_transform";
    require_float(OP, images)?;
    ensure!(images.rank() == 4, "{OP}: expects images (batch, height, width, channels), got {}", images.describe());
    let s = images.shape();
    ensure!(
        transforms.shape() == [s[0], 8] && transforms.dtype() == images.dtype(),
        "{OP}: expects {} transforms of 8 coefficients, got {}",
        s[0],
        transforms.describe()
    );
    let spec = TransformSpec {
        batch: s[0],
        height: s[1],
        width: s[2],
        channels: s[3],
        fill_mode,
        interpolation,
        fill_value,
    };
    let device = super::common_device(OP, &[images, transforms])?;
    on_device!(device, images.dtype(), OP,
        cpu::<F> => {
            let y = reference::transform(F::slice(images, OP)?, F::slice(transforms, OP)?, &spec)?;
            Ok(Tensor::from_cpu(images.shape(), F::wrap(y)))
        },
        gpu(ctx) => gpu::transform(ctx, device, images, transforms, &spec),
    )
}

/// Transform rows that flip each image horizontally and/or vertically with probability ½.
pub fn random_flips(rng: &mut impl Rng, batch: usize, height: usize, width: usize, horizontal: bool, vertical: bool) -> Vec<f32> {
    let mut t = Vec::with_capacity(batch * 8);
    for _ in 0..batch {
        let fx = horizontal && rng.random_bool(0.5);
        let fy = vertical && rng.random_bool(0.5);
        let (a0, a2) = if fx { (-1.0, (width - 1) as f32) } else { (1.0, 0.0) };
        let (a4, a5) = if fy { (-1.0, (height - 1) as f32) } else { (1.0, 0.0) };
        t.extend([a0, 0.0, a2, 0.0, a4, a5, 0.0, 0.0]);
    }
    t
}

/// Rotations about the image centre by angles uniform in ±factor·2π (Keras RandomRotation).
pub fn random_rotations(rng: &mut impl Rng, batch: usize, height: usize, width: usize, factor: f64) -> Vec<f32> {
    let (h, w) = ((height - 1) as f64, (width - 1) as f64);
    let mut t = Vec::with_capacity(batch * 8);
    for _ in 0..batch {
        let angle = rng.random_range(-factor..=factor) * std::f64::consts::TAU;
        let (sin, cos) = angle.sin_cos();
        let x_offset = (w - (cos * w - sin * h)) / 2.0;
        let y_offset = (h - (sin * w + cos * h)) / 2.0;
        t.extend([cos, -sin, x_offset, sin, cos, y_offset, 0.0, 0.0].map(|v| v as f32));
    }
    t
}

/// Zooms about the centre by 1 + U(±height_factor) (width likewise, or the same factor
/// when `width_factor` is None, keeping the aspect ratio), as Keras RandomZoom.
pub fn random_zooms(
    rng: &mut impl Rng,
    batch: usize,
    height: usize,
    width: usize,
    height_factor: f64,
    width_factor: Option<f64>,
) -> Vec<f32> {
    let (h, w) = ((height - 1) as f64, (width - 1) as f64);
    let mut t = Vec::with_capacity(batch * 8);
    for _ in 0..batch {
        let zy = 1.0 + rng.random_range(-height_factor..=height_factor);
        let zx = match width_factor {
            Some(f) => 1.0 + rng.random_range(-f..=f),
            None => zy,
        };
        t.extend([zx, 0.0, w / 2.0 * (1.0 - zx), 0.0, zy, h / 2.0 * (1.0 - zy), 0.0, 0.0].map(|v| v as f32));
    }
    t
}
