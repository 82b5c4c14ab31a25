//! Host code of shaders/loss.wgsl: its uniform block and its launches.

use crate::error::Result;
use crate::gpu::params::uniform_block;
use crate::gpu::{grid_1d, GpuContext, Stem};
use crate::ops::loss::spec::{Crossentropy, EPSILON};
use crate::tensor::{DType, Tensor};
use crate::{bail, Device};

uniform_block! {
    /// shaders/loss.wgsl `struct Params`.
    pub(crate) struct LossParams {
        pub rows: u32,
        pub classes: u32,
        pub kind: u32,
        pub from_logits: u32,
        pub target_kind: u32,
        pub has_dy: u32,
        pub partials: u32,
        pub nan_bits: u32,
        pub eps: f32,
        pub one_minus_eps: f32,
        pub inv_count: f32,
        pub _pad: u32,
    }
}

const TREE: u32 = 256;

#[allow(clippy::too_many_arguments)]
/// The crossentropy's mean value, its gradient (scaled by `dy[0]` when given), or both,
/// over `rows` loss values of `classes` classes each.
pub(crate) fn crossentropy(
    ctx: &GpuContext,
    device: &Device,
    kind: Crossentropy,
    pred: &Tensor,
    target: &Tensor,
    (rows, classes): (usize, usize),
    from_logits: bool,
    dy: Option<&Tensor>,
    (want_value, want_grad): (bool, bool),
) -> Result<(Option<Tensor>, Option<Tensor>)> {
    let op = kind.name();
    let target_kind = match target.dtype() {
        DType::F32 => 0,
        DType::I32 => 1,
        DType::U8 => 2,
        other => bail!("{op}: {} targets are not supported on the GPU (predictions {})", other.name(), pred.describe()),
    };
    let groups = grid_1d(rows, TREE);
    let n_partials = (groups[0] * groups[1]) as usize;
    let params = LossParams {
        rows: rows as u32,
        classes: classes as u32,
        kind: match kind {
            Crossentropy::Sparse => 0,
            Crossentropy::Categorical => 1,
            Crossentropy::Binary => 2,
        },
        from_logits: from_logits as u32,
        target_kind: target_kind as u32,
        has_dy: dy.is_some() as u32,
        partials: n_partials as u32,
        nan_bits: f32::NAN.to_bits(),
        eps: EPSILON as f32,
        one_minus_eps: (1.0 - EPSILON) as f32,
        inv_count: if rows == 0 { 0.0 } else { (1.0 / rows as f64) as f32 },
        _pad: 0,
    };
    let p = pred.gpu_buffer()?;
    let t = target.gpu_buffer()?;
    let grad = if want_grad { Some(ctx.alloc_tensor(&format!("{op} gradient"), pred.shape(), DType::F32)?) } else { None };
    let mut value = None;
    if want_value {
        let partials = ctx.alloc((n_partials * 4) as u64, op)?;
        match &grad {
            Some(g) => ctx.launch(
                Stem::Loss,
                "value_and_grad",
                &[],
                &params,
                &[(1, p), (2, t), (3, &partials), (6, g)],
                groups,
            )?,
            None => ctx.launch(Stem::Loss, "value", &[], &params, &[(1, p), (2, t), (3, &partials)], groups)?,
        }
        let out = ctx.alloc(4, op)?;
        ctx.launch(Stem::Loss, "finish", &[], &params, &[(3, &partials), (4, &out)], [1, 1, 1])?;
        value = Some(Tensor::from_gpu_buffer(device, out, &[], DType::F32));
    } else if let Some(g) = &grad {
        // Without an upstream gradient the dy binding is unused; pred stands in.
        let d = match dy {
            Some(d) => d.gpu_buffer()?,
            None => p,
        };
        ctx.launch(Stem::Loss, "gradient", &[], &params, &[(1, p), (2, t), (5, d), (6, g)], groups)?;
    }
    Ok((value, grad.map(|g| Tensor::from_gpu_buffer(device, g, pred.shape(), DType::F32))))
}
