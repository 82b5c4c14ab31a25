//! Pooling and batch normalization on the GPU vs the CPU reference, forward and
//! gradients, on randomized configurations.

mod common;
use common::*;

use convbook::ops::batch_norm::{
    batch_norm_inference, batch_norm_inference_fused, batch_norm_inference_grad, batch_norm_inference_grad_fused, batch_norm_train,
    batch_norm_train_fused, batch_norm_train_grad, batch_norm_train_grad_with_stats,
};
use convbook::ops::pool2d::{
    global_average_pool2d, max_pool2d_argmax, max_pool2d_grad_from_argmax, pool2d, pool2d_grad_input, pool2d_spec,
};
use convbook::ops::geometry::Padding;
use convbook::ops::pool2d::PoolKind;
use convbook::{Device, Tensor};
use rand::Rng;

fn pair(data: &[f32], shape: &[usize]) -> (Tensor, Tensor) {
    (
        Tensor::from_f32(&gpu(), data.to_vec(), shape).unwrap(),
        Tensor::from_f32(&Device::Cpu, data.to_vec(), shape).unwrap(),
    )
}

fn values(t: &Tensor) -> Vec<f32> {
    block(t.to_f32_vec()).unwrap()
}

#[test]
fn pooling_forward_and_gradients_match_reference() {
    let mut r = rng(41);
    let mut checked = 0;
    while checked < 40 {
        let (n, h, w, c) = (r.random_range(1..3), r.random_range(1..12), r.random_range(1..12), r.random_range(1..6));
        let kind = if checked % 2 == 0 { PoolKind::Max } else { PoolKind::Average };
        let pool = [r.random_range(1..4), r.random_range(1..4)];
        let strides = if r.random_bool(0.5) { None } else { Some([r.random_range(1..4), r.random_range(1..4)]) };
        let padding = if r.random_bool(0.5) { Padding::Same } else { Padding::Valid };
        // Coarse values so max-pool windows contain ties.
        let xd: Vec<f32> = (0..n * h * w * c).map(|_| r.random_range(-3..4) as f32 * 0.5).collect();
        let (xg, xc) = pair(&xd, &[n, h, w, c]);
        let Ok(spec) = pool2d_spec(&xc, kind, pool, strides, padding) else { continue };
        let what = format!("{spec:?}");
        let (yg, yc) = (pool2d(&xg, &spec).unwrap(), pool2d(&xc, &spec).unwrap());
        assert_eq!(yg.shape(), yc.shape());
        assert_close(&values(&yg), &values(&yc), 1e-5, 1e-6, &format!("{what}: forward"));
        let dyd = random_vec(&mut r, yc.numel(), -1.0, 1.0);
        let (dyg, dyc) = pair(&dyd, yc.shape());
        let (gg, gc) = (pool2d_grad_input(&xg, &dyg, &spec).unwrap(), pool2d_grad_input(&xc, &dyc, &spec).unwrap());
        assert_close(&values(&gg), &values(&gc), 1e-5, 1e-6, &format!("{what}: input gradient"));
        if kind == PoolKind::Max {
            // The training path: the forward keeps its argmax, the backward reads it.
            let ((ya, ag), (yca, ac)) = (max_pool2d_argmax(&xg, &spec).unwrap(), max_pool2d_argmax(&xc, &spec).unwrap());
            assert_eq!(values(&ya), values(&yc), "{what}: forward with argmax (GPU)");
            assert_eq!(values(&yca), values(&yc), "{what}: forward with argmax (CPU)");
            assert_eq!(values(&ag), values(&ac), "{what}: argmax (ties go to the first maximum)");
            let ga = max_pool2d_grad_from_argmax(&ag, &dyg, &spec).unwrap();
            let gca = max_pool2d_grad_from_argmax(&ac, &dyc, &spec).unwrap();
            assert_close(&values(&ga), &values(&gc), 1e-5, 1e-6, &format!("{what}: input gradient from argmax (GPU)"));
            assert_close(&values(&gca), &values(&gc), 1e-5, 1e-6, &format!("{what}: input gradient from argmax (CPU)"));
        }
        checked += 1;
    }
    let xd = random_vec(&mut r, 2 * 5 * 7 * 3, -1.0, 1.0);
    let (xg, xc) = pair(&xd, &[2, 5, 7, 3]);
    let (g, c) = (global_average_pool2d(&xg).unwrap(), global_average_pool2d(&xc).unwrap());
    assert_eq!(g.shape(), &[2, 3]);
    assert_close(&values(&g), &values(&c), 1e-5, 1e-6, "global average pooling");
}

#[test]
fn argmax_ops_name_their_mistakes() {
    let x = Tensor::from_f32(&gpu(), vec![0.0; 2 * 4 * 4 * 3], &[2, 4, 4, 3]).unwrap();
    let avg = pool2d_spec(&x, PoolKind::Average, [2, 2], None, Padding::Valid).unwrap();
    let e = max_pool2d_argmax(&x, &avg).err().unwrap();
    assert!(e.message().contains("average"), "{e}");
    let max = pool2d_spec(&x, PoolKind::Max, [2, 2], None, Padding::Valid).unwrap();
    let (y, _) = max_pool2d_argmax(&x, &max).unwrap();
    let e = max_pool2d_grad_from_argmax(&y, &y, &max).err().unwrap();
    assert!(e.message().contains("int32") && e.message().contains("(2, 2, 2, 3)"), "{e}");
}

#[test]
fn batch_norm_forward_and_gradients_match_reference() {
    let mut r = rng(42);
    for trial in 0..24 {
        let shape = match trial % 3 {
            0 => vec![r.random_range(1..4), r.random_range(1..9), r.random_range(1..9), r.random_range(1..20)],
            1 => vec![r.random_range(2..40), r.random_range(1..30)],
            _ => vec![600, r.random_range(1..5)], // long per-channel reductions
        };
        let c = *shape.last().unwrap();
        let xd = random_vec(&mut r, shape.iter().product(), -2.0, 3.0);
        let (xg, xc) = pair(&xd, &shape);
        let with_gamma = trial % 4 != 1;
        let with_beta = trial % 4 != 2;
        let gd = random_vec(&mut r, c, 0.5, 1.5);
        let bd = random_vec(&mut r, c, -0.5, 0.5);
        let (gg, gc) = pair(&gd, &[c]);
        let (bg, bc) = pair(&bd, &[c]);
        let (mmg, mmc) = pair(&random_vec(&mut r, c, -0.5, 0.5), &[c]);
        let (mvg, mvc) = pair(&random_vec(&mut r, c, 0.5, 2.0), &[c]);
        let gamma = |t: &Tensor| if with_gamma { Some(t.clone()) } else { None };
        let beta = |t: &Tensor| if with_beta { Some(t.clone()) } else { None };
        let what = format!("batch_norm {shape:?} gamma={with_gamma} beta={with_beta}");

        let tg = batch_norm_train(&xg, gamma(&gg).as_ref(), beta(&bg).as_ref(), &mmg, &mvg, 1e-3, 0.99).unwrap();
        let tc = batch_norm_train(&xc, gamma(&gc).as_ref(), beta(&bc).as_ref(), &mmc, &mvc, 1e-3, 0.99).unwrap();
        assert_close(&values(&tg.y), &values(&tc.y), 1e-4, 1e-4, &format!("{what}: training output"));
        assert_close(&values(&tg.moving_mean), &values(&tc.moving_mean), 1e-4, 1e-5, &format!("{what}: moving mean"));
        assert_close(&values(&tg.moving_variance), &values(&tc.moving_variance), 1e-4, 1e-5, &format!("{what}: moving var"));

        let ig = batch_norm_inference(&xg, gamma(&gg).as_ref(), beta(&bg).as_ref(), &mmg, &mvg, 1e-3).unwrap();
        let ic = batch_norm_inference(&xc, gamma(&gc).as_ref(), beta(&bc).as_ref(), &mmc, &mvc, 1e-3).unwrap();
        assert_close(&values(&ig), &values(&ic), 1e-4, 1e-5, &format!("{what}: inference output"));

        let (dyg, dyc) = pair(&random_vec(&mut r, xd.len(), -1.0, 1.0), &shape);
        let gg_ = batch_norm_train_grad(&xg, gamma(&gg).as_ref(), &dyg, 1e-3).unwrap();
        let gc_ = batch_norm_train_grad(&xc, gamma(&gc).as_ref(), &dyc, 1e-3).unwrap();
        assert_close(&values(&gg_.input), &values(&gc_.input), 1e-3, 1e-4, &format!("{what}: training input gradient"));
        assert_close(&values(&gg_.gamma), &values(&gc_.gamma), 1e-4, 1e-3, &format!("{what}: gamma gradient"));
        assert_close(&values(&gg_.beta), &values(&gc_.beta), 1e-4, 1e-3, &format!("{what}: beta gradient"));
        // The training step's path: the forward pass's statistics, not recomputed.
        let sg = batch_norm_train_grad_with_stats(&xg, &tg.batch_stats, gamma(&gg).as_ref(), &dyg, None, 1e-3).unwrap();
        assert_close(&values(&sg.input), &values(&gc_.input), 1e-3, 1e-4, &format!("{what}: input gradient, forward stats"));
        assert_close(&values(&sg.gamma), &values(&gc_.gamma), 1e-4, 1e-3, &format!("{what}: gamma gradient, forward stats"));
        assert_close(&values(&sg.beta), &values(&gc_.beta), 1e-4, 1e-3, &format!("{what}: beta gradient, forward stats"));

        let hg = batch_norm_inference_grad(&xg, gamma(&gg).as_ref(), &mmg, &mvg, &dyg, 1e-3).unwrap();
        let hc = batch_norm_inference_grad(&xc, gamma(&gc).as_ref(), &mmc, &mvc, &dyc, 1e-3).unwrap();
        assert_close(&values(&hg.input), &values(&hc.input), 1e-4, 1e-5, &format!("{what}: inference input gradient"));
        assert_close(&values(&hg.gamma), &values(&hc.gamma), 1e-4, 1e-3, &format!("{what}: inference gamma gradient"));

        // Fused with the ReLU after it: forward clamps, backward masks dy by the output.
        let fg = batch_norm_train_fused(&xg, gamma(&gg).as_ref(), beta(&bg).as_ref(), &mmg, &mvg, 1e-3, 0.99, true).unwrap();
        let fc = batch_norm_train_fused(&xc, gamma(&gc).as_ref(), beta(&bc).as_ref(), &mmc, &mvc, 1e-3, 0.99, true).unwrap();
        let relu_of = |v: Vec<f32>| v.into_iter().map(|v| v.max(0.0)).collect::<Vec<_>>();
        assert_close(&values(&fc.y), &relu_of(values(&tc.y)), 0.0, 0.0, &format!("{what}: fused CPU output is relu(bn)"));
        assert_close(&values(&fg.y), &values(&fc.y), 1e-4, 1e-4, &format!("{what}: fused training output"));
        assert_close(&values(&fg.moving_variance), &values(&fc.moving_variance), 1e-4, 1e-5, &format!("{what}: fused moving var"));
        let masked: Vec<f32> = values(&dyc).iter().zip(values(&fc.y)).map(|(&g, y)| if y > 0.0 { g } else { 0.0 }).collect();
        let masked_c = Tensor::from_f32(&Device::Cpu, masked, &shape).unwrap();
        let want = batch_norm_train_grad(&xc, gamma(&gc).as_ref(), &masked_c, 1e-3).unwrap();
        for (on, x, y, stats, dy, g) in
            [("GPU", &xg, &fg.y, &fg.batch_stats, &dyg, &gg), ("CPU", &xc, &fc.y, &fc.batch_stats, &dyc, &gc)]
        {
            let got = batch_norm_train_grad_with_stats(x, stats, gamma(g).as_ref(), dy, Some(y), 1e-3).unwrap();
            let on = format!("{what} on the {on}");
            assert_close(&values(&got.input), &values(&want.input), 1e-3, 1e-4, &format!("{on}: fused input gradient"));
            assert_close(&values(&got.gamma), &values(&want.gamma), 1e-4, 1e-3, &format!("{on}: fused gamma gradient"));
            assert_close(&values(&got.beta), &values(&want.beta), 1e-4, 1e-3, &format!("{on}: fused beta gradient"));
        }
        let ifg = batch_norm_inference_fused(&xg, gamma(&gg).as_ref(), beta(&bg).as_ref(), &mmg, &mvg, 1e-3, true).unwrap();
        let ifc = batch_norm_inference_fused(&xc, gamma(&gc).as_ref(), beta(&bc).as_ref(), &mmc, &mvc, 1e-3, true).unwrap();
        assert_close(&values(&ifc), &relu_of(values(&ic)), 0.0, 0.0, &format!("{what}: fused CPU inference is relu(bn)"));
        assert_close(&values(&ifg), &values(&ifc), 1e-4, 1e-5, &format!("{what}: fused inference output"));
        let imasked: Vec<f32> = values(&dyc).iter().zip(values(&ifc)).map(|(&g, y)| if y > 0.0 { g } else { 0.0 }).collect();
        let iwant = batch_norm_inference_grad(&xc, gamma(&gc).as_ref(), &mmc, &mvc, &Tensor::from_f32(&Device::Cpu, imasked, &shape).unwrap(), 1e-3).unwrap();
        let igot = batch_norm_inference_grad_fused(&xg, gamma(&gg).as_ref(), &mmg, &mvg, &dyg, Some(&ifg), 1e-3).unwrap();
        assert_close(&values(&igot.input), &values(&iwant.input), 1e-4, 1e-5, &format!("{what}: fused inference input gradient"));
        assert_close(&values(&igot.gamma), &values(&iwant.gamma), 1e-4, 1e-3, &format!("{what}: fused inference gamma gradient"));
    }
}

#[test]
fn mismatched_per_channel_tensors_are_errors() {
    let x = Tensor::from_f32(&gpu(), vec![0.0; 2 * 3], &[2, 3]).unwrap();
    let wrong = Tensor::from_f32(&gpu(), vec![0.0; 4], &[4]).unwrap();
    let ok = Tensor::from_f32(&gpu(), vec![0.0; 3], &[3]).unwrap();
    let e = batch_norm_inference(&x, Some(&wrong), None, &ok, &ok, 1e-3).err().unwrap();
    assert!(e.message().contains("(4)") && e.message().contains("(2, 3)"), "{e}");
}

/// Channels past one workgroup's tile of 64, and rows split into many chunks, with an
/// offset mean (the one-pass statistics must not cancel).
#[test]
fn batch_norm_wide_channels_and_long_rows_match_reference() {
    let mut r = rng(43);
    for shape in [vec![3, 7, 9, 70], vec![5000, 3], vec![2, 40, 40, 130]] {
        let c = *shape.last().unwrap();
        let xd: Vec<f32> = random_vec(&mut r, shape.iter().product(), 4.0, 6.0);
        let (xg, xc) = pair(&xd, &shape);
        let (gg, gc) = pair(&random_vec(&mut r, c, 0.5, 1.5), &[c]);
        let (bg, bc) = pair(&random_vec(&mut r, c, -0.5, 0.5), &[c]);
        let (mmg, mmc) = pair(&vec![0.0; c], &[c]);
        let (mvg, mvc) = pair(&vec![1.0; c], &[c]);
        let what = format!("batch_norm {shape:?}");
        let tg = batch_norm_train(&xg, Some(&gg), Some(&bg), &mmg, &mvg, 1e-3, 0.99).unwrap();
        let tc = batch_norm_train(&xc, Some(&gc), Some(&bc), &mmc, &mvc, 1e-3, 0.99).unwrap();
        assert_close(&values(&tg.y), &values(&tc.y), 1e-3, 1e-4, &format!("{what}: training output"));
        assert_close(&values(&tg.batch_mean().unwrap()), &values(&tc.batch_mean().unwrap()), 1e-5, 1e-5, &format!("{what}: batch mean"));
        assert_close(&values(&tg.batch_variance().unwrap()), &values(&tc.batch_variance().unwrap()), 1e-5, 1e-3, &format!("{what}: batch variance"));
        let (dyg, dyc) = pair(&random_vec(&mut r, xd.len(), -1.0, 1.0), &shape);
        let gg_ = batch_norm_train_grad(&xg, Some(&gg), &dyg, 1e-3).unwrap();
        let gc_ = batch_norm_train_grad(&xc, Some(&gc), &dyc, 1e-3).unwrap();
        assert_close(&values(&gg_.input), &values(&gc_.input), 1e-3, 1e-4, &format!("{what}: input gradient"));
        assert_close(&values(&gg_.gamma), &values(&gc_.gamma), 1e-4, 1e-3, &format!("{what}: gamma gradient"));
        assert_close(&values(&gg_.beta), &values(&gc_.beta), 1e-4, 1e-3, &format!("{what}: beta gradient"));
    }
}
