//! Host code of shaders/resize.wgsl: its uniform block, the tap tables it reads, and
//! its launches.

use crate::error::Result;
use crate::gpu::params::uniform_block;
use crate::gpu::{grid_1d, GpuBuffer, GpuContext, Stem, WG_1D};
use crate::ops::resize::spec::{AxisTaps, ResizeSpec};
use crate::tensor::{DType, Tensor};
use crate::Device;

uniform_block! {
    /// shaders/resize.wgsl `struct Params`.
    pub(crate) struct ResizeParams {
        pub batch: u32,
        pub in_h: u32,
        pub in_w: u32,
        pub channels: u32,
        pub out_h: u32,
        pub out_w: u32,
        pub row_covers: u32,
        pub col_taps: u32,
        pub col_covers: u32,
        pub _pad0: u32,
        pub _pad1: u32,
        pub _pad2: u32,
    }
}

/// One axis as words: a (lower, upper, lerp bits) triple per output, then a
/// (first, end) pair per input.
fn push_axis(words: &mut Vec<u32>, axis: &AxisTaps) {
    for t in &axis.taps {
        words.extend([t.lower as u32, t.upper as u32, (t.lerp as f32).to_bits()]);
    }
    for &(first, end) in &axis.covers {
        words.extend([first as u32, end as u32]);
    }
}

/// The rows' table then the columns', uploaded, with the uniform block locating them.
fn tables(ctx: &GpuContext, spec: &ResizeSpec) -> Result<(ResizeParams, GpuBuffer)> {
    let (rows, cols) = (spec.rows(), spec.columns());
    let mut words = Vec::with_capacity(3 * (spec.out_h + spec.out_w) + 2 * (spec.in_h + spec.in_w));
    push_axis(&mut words, &rows);
    let col_taps = words.len();
    push_axis(&mut words, &cols);
    let params = ResizeParams {
        batch: spec.batch as u32,
        in_h: spec.in_h as u32,
        in_w: spec.in_w as u32,
        channels: spec.channels as u32,
        out_h: spec.out_h as u32,
        out_w: spec.out_w as u32,
        row_covers: (3 * spec.out_h) as u32,
        col_taps: col_taps as u32,
        col_covers: (col_taps + 3 * spec.out_w) as u32,
        ..Default::default()
    };
    let buffer = ctx.upload(bytemuck::cast_slice(&words), "resize taps")?;
    Ok((params, buffer))
}

pub(crate) fn forward(ctx: &GpuContext, device: &Device, x: &Tensor, spec: &ResizeSpec) -> Result<Tensor> {
    let shape = spec.output_shape();
    let n: usize = shape.iter().product();
    let out = ctx.alloc((n * 4) as u64, "resize")?;
    let (params, taps) = tables(ctx, spec)?;
    ctx.launch(
        Stem::Resize,
        "forward",
        &[],
        &params,
        &[(1, x.gpu_buffer()?), (2, &taps), (3, &out)],
        grid_1d(n, WG_1D),
    )?;
    Ok(Tensor::from_gpu_buffer(device, out, &shape, DType::F32))
}

pub(crate) fn grad_input(ctx: &GpuContext, device: &Device, dy: &Tensor, spec: &ResizeSpec) -> Result<Tensor> {
    let shape = spec.input_shape();
    let n: usize = shape.iter().product();
    let out = ctx.alloc((n * 4) as u64, "resize input gradient")?;
    let (params, taps) = tables(ctx, spec)?;
    ctx.launch(
        Stem::Resize,
        "grad_input",
        &[],
        &params,
        &[(1, dy.gpu_buffer()?), (2, &taps), (3, &out)],
        grid_1d(n, WG_1D),
    )?;
    Ok(Tensor::from_gpu_buffer(device, out, &shape, DType::F32))
}
