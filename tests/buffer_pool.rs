//! Long op chains reuse pooled buffers: the live and created counts stay flat.

mod common;
use common::*;

use convbook::{Device, Tensor};

#[test]
fn repeated_steps_do_not_grow_gpu_memory() {
    // Own device: other test binaries run in other processes, but keep this one isolated too.
    let device = block(Device::gpu()).expect("GPU");
    let ctx = match &device {
        Device::Gpu(ctx) => ctx.clone(),
        Device::Cpu => unreachable!(),
    };
    let mut r = rng(12);
    let w = Tensor::from_f32(&device, random_vec(&mut r, 64 * 32, -0.1, 0.1), &[64, 32]).unwrap();
    let x = Tensor::from_f32(&device, random_vec(&mut r, 16 * 64, -1.0, 1.0), &[16, 64]).unwrap();
    let step = |w: &Tensor| -> Tensor {
        let h = x.matmul(w).unwrap().relu().unwrap();
        let p = h.softmax(-1).unwrap();
        let loss = p.log().unwrap().mean(&[], false).unwrap();
        block(loss.item()).unwrap();
        // A stand-in weight update keeps shapes identical step to step.
        w.affine(0.999, 0.0).unwrap()
    };
    // The first steps fill the pool (old and new weights overlap, releases wait for a
    // submit); from then on every step must be served from it.
    let mut w = w;
    for _ in 0..5 {
        w = step(&w);
    }
    let warm = ctx.pool_stats();
    for _ in 0..300 {
        w = step(&w);
    }
    let after = ctx.pool_stats();
    assert_eq!(after.live, warm.live, "live buffers grew: {warm:?} -> {after:?}");
    assert_eq!(after.created, warm.created, "the pool kept allocating: {warm:?} -> {after:?}");
    drop((w, x));
    assert!(ctx.pool_stats().live < warm.live);
}
