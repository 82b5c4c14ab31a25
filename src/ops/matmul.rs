//! Matrix multiply: `[..., M, K] x [..., K, N]`, batch dims equal or one side unbatched.

pub(crate) mod spec;
pub use spec::MatmulSpec;

use super::{common_device, on_device, require_float, require_same_dtype, CpuFloat};
use crate::error::Result;
use crate::gpu::kernels::matmul as gpu;
use crate::reference::matmul as reference;
use crate::shape::{fmt_shape, numel};
use crate::tensor::Tensor;
use crate::{bail, ensure};


/// `op(a) @ op(b)` where op transposes the last two axes when asked.
pub fn matmul_t(a: &Tensor, b: &Tensor, trans_a: bool, trans_b: bool) -> Result<Tensor> {
    let device = common_device("matmul", &[a, b])?;
    require_float("matmul", a)?;
    require_same_dtype("matmul", a, b)?;
    ensure!(
        a.rank() >= 2 && b.rank() >= 2,
        "matmul: both operands need rank >= 2, got {} and {}",
        fmt_shape(a.shape()),
        fmt_shape(b.shape())
    );
    let (ra, rb) = (a.rank(), b.rank());
    let (m, ka) = if trans_a { (a.shape()[ra - 1], a.shape()[ra - 2]) } else { (a.shape()[ra - 2], a.shape()[ra - 1]) };
    let (kb, n) = if trans_b { (b.shape()[rb - 1], b.shape()[rb - 2]) } else { (b.shape()[rb - 2], b.shape()[rb - 1]) };
    let (a_batch, b_batch) = (&a.shape()[..ra - 2], &b.shape()[..rb - 2]);
    let shapes = || {
        format!(
            "{}{} and {}{}",
            fmt_shape(a.shape()),
            if trans_a { "ᵀ" } else { "" },
            fmt_shape(b.shape()),
            if trans_b { "ᵀ" } else { "" }
        )
    };
    ensure!(ka == kb, "matmul: inner dimensions differ ({ka} vs {kb}) for shapes {}", shapes());
    let batch_dims: Vec<usize> = if a_batch == b_batch || b_batch.is_empty() {
        a_batch.to_vec()
    } else if a_batch.is_empty() {
        b_batch.to_vec()
    } else {
        bail!("matmul: batch dimensions of {} do not match", shapes())
    };
    let batch = numel(&batch_dims);
    let spec = MatmulSpec {
        batch,
        m,
        n,
        k: ka,
        trans_a,
        trans_b,
        a_batch_stride: if a_batch.is_empty() { 0 } else { m * ka },
        b_batch_stride: if b_batch.is_empty() { 0 } else { ka * n },
    };
    let mut out_shape = batch_dims;
    out_shape.extend([m, n]);
    on_device!(device, a.dtype(), "matmul",
        fast_f32 => {
            let y = crate::cpu::matmul::matmul(f32::slice(a, "matmul")?, f32::slice(b, "matmul")?, &spec);
            Ok(Tensor::from_cpu(&out_shape, f32::wrap(y)))
        },
        cpu::<F> => {
            let y = reference::matmul(F::slice(a, "matmul")?, F::slice(b, "matmul")?, &spec);
            Ok(Tensor::from_cpu(&out_shape, F::wrap(y)))
        },
        gpu(ctx) => gpu::matmul(ctx, device, a, b, &spec, &out_shape),
    )
}

impl Tensor {
    /// Matrix product over the last two axes, batch axes broadcast (`keras.ops.matmul`).
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        matmul_t(self, other, false, false)
    }
}

/// Gradients of `matmul_t(a, b, trans_a, trans_b)` given `dy`; batch axes that were
/// broadcast (an unbatched operand) are summed away.
pub(crate) fn matmul_backward(a: &Tensor, b: &Tensor, trans_a: bool, trans_b: bool, dy: &Tensor) -> Result<(Tensor, Tensor)> {
    let ga = if trans_a { matmul_t(b, dy, trans_b, true)? } else { matmul_t(dy, b, false, !trans_b)? };
    let gb = if trans_b { matmul_t(dy, a, true, trans_a)? } else { matmul_t(a, dy, !trans_a, false)? };
    let fold = |g: Tensor, like: &Tensor| -> Result<Tensor> {
        if g.rank() == like.rank() {
            return Ok(g);
        }
        let lead: Vec<isize> = (0..(g.rank() - like.rank()) as isize).collect();
        g.sum(&lead, false)
    };
    Ok((fold(ga, a)?, fold(gb, b)?))
}
