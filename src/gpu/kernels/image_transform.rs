//! Host code of shaders/image_transform.wgsl: its uniform block and its launches.

use crate::error::Result;
use crate::gpu::params::uniform_block;
use crate::gpu::{grid_1d, GpuContext, Stem, WG_1D};
use crate::ops::image_transform::spec::TransformSpec;
use crate::tensor::{DType, Tensor};
use crate::Device;

uniform_block! {
    /// shaders/image_transform.wgsl `struct Params`.
    pub(crate) struct ImageTransformParams {
        pub batch: u32,
        pub height: u32,
        pub width: u32,
        pub channels: u32,
        pub fill_mode: u32,
        pub interpolation: u32,
        pub fill_value: f32,
        pub _pad: u32,
    }
}

/// Resample every image through its row of 8 transform coefficients.
pub(crate) fn transform(
    ctx: &GpuContext,
    device: &Device,
    images: &Tensor,
    transforms: &Tensor,
    spec: &TransformSpec,
) -> Result<Tensor> {
    let n = images.numel();
    let out = ctx.alloc_tensor("image_transform output", images.shape(), DType::F32)?;
    let params = ImageTransformParams {
        batch: spec.batch as u32,
        height: spec.height as u32,
        width: spec.width as u32,
        channels: spec.channels as u32,
        fill_mode: spec.fill_mode as u32,
        interpolation: spec.interpolation as u32,
        fill_value: spec.fill_value as f32,
        _pad: 0,
    };
    ctx.launch(
        Stem::ImageTransform,
        "transform",
        &[],
        &params,
        &[(1, images.gpu_buffer()?), (2, transforms.gpu_buffer()?), (3, &out)],
        grid_1d(n, WG_1D),
    )?;
    Ok(Tensor::from_gpu_buffer(device, out, images.shape(), DType::F32))
}
