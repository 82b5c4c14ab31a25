//! conv2d, conv_transpose2d and depthwise_conv2d on the GPU vs the CPU reference: forward and every
//! gradient, on randomized configurations.

mod common;
use common::*;

use convbook::cpu::ReferenceKernels;
use convbook::ops::conv2d::{bias_grad, conv2d_grad_input, conv2d_grad_kernel, conv2d_spec, conv2d_with_spec};
use convbook::ops::conv_transpose2d::{
    conv_transpose2d_grad_input, conv_transpose2d_grad_kernel, conv_transpose2d_spec, conv_transpose2d_with_spec,
};
use convbook::ops::depthwise_conv2d::{
    depthwise_conv2d_grad_input, depthwise_conv2d_grad_kernel, depthwise_conv2d_spec, depthwise_conv2d_with_spec,
};
use convbook::ops::geometry::Padding;
use convbook::{Device, Tensor};
use rand::rngs::SmallRng;
use rand::Rng;

fn pick_padding(r: &mut SmallRng) -> Padding {
    if r.random_bool(0.5) {
        Padding::Same
    } else {
        Padding::Valid
    }
}

/// Same data on both devices.
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
fn conv2d_forward_and_gradients_match_reference() {
    let _reference = ReferenceKernels::on(); // the CPU side runs the reference loops
    let mut r = rng(21);
    let mut checked = 0;
    while checked < 24 {
        let (n, h, w) = (r.random_range(1..3), r.random_range(3..14), r.random_range(3..14));
        let (ci, co) = (r.random_range(1..9), r.random_range(1..70));
        let k = [r.random_range(1..5), r.random_range(1..5)];
        let strides = [r.random_range(1..4), r.random_range(1..4)];
        let dilation = if r.random_bool(0.3) { [r.random_range(1..3), r.random_range(1..3)] } else { [1, 1] };
        let padding = pick_padding(&mut r);
        let xd = random_vec(&mut r, n * h * w * ci, -1.0, 1.0);
        let kd = random_vec(&mut r, k[0] * k[1] * ci * co, -1.0, 1.0);
        let bd = random_vec(&mut r, co, -1.0, 1.0);
        let (xg, xc) = pair(&xd, &[n, h, w, ci]);
        let (kg, kc) = pair(&kd, &[k[0], k[1], ci, co]);
        let (bg, bc) = pair(&bd, &[co]);
        let Ok(spec) = conv2d_spec(&xc, &kc, strides, padding, dilation) else {
            continue; // kernel larger than a VALID input: not a configuration
        };
        let what = format!("conv2d {spec:?}");
        let yg = conv2d_with_spec(&xg, &kg, Some(&bg), &spec).unwrap();
        let yc = conv2d_with_spec(&xc, &kc, Some(&bc), &spec).unwrap();
        assert_eq!(yg.shape(), yc.shape());
        assert_close(&values(&yg), &values(&yc), 1e-4, 1e-4, &format!("{what}: forward"));

        let dyd = random_vec(&mut r, yc.numel(), -1.0, 1.0);
        let (dyg, dyc) = pair(&dyd, yc.shape());
        let gi = (conv2d_grad_input(&dyg, &kg, &spec).unwrap(), conv2d_grad_input(&dyc, &kc, &spec).unwrap());
        assert_close(&values(&gi.0), &values(&gi.1), 1e-4, 1e-4, &format!("{what}: input gradient"));
        let gk = (conv2d_grad_kernel(&xg, &dyg, &spec).unwrap(), conv2d_grad_kernel(&xc, &dyc, &spec).unwrap());
        assert_eq!(gk.0.shape(), &spec.kernel_shape());
        assert_close(&values(&gk.0), &values(&gk.1), 1e-4, 1e-3, &format!("{what}: kernel gradient"));
        let gb = (bias_grad(&dyg).unwrap(), bias_grad(&dyc).unwrap());
        assert_close(&values(&gb.0), &values(&gb.1), 1e-4, 1e-4, &format!("{what}: bias gradient"));
        checked += 1;
    }
}

#[test]
fn conv2d_kernel_gradient_splits_long_reductions() {
    let _reference = ReferenceKernels::on(); // the CPU side runs the reference loops
    // 2 x 48 x 48 = 4608 output pixels: more than one split of the reduction.
    let mut r = rng(22);
    let xd = random_vec(&mut r, 2 * 48 * 48 * 3, -1.0, 1.0);
    let kd = random_vec(&mut r, 3 * 3 * 3 * 8, -1.0, 1.0);
    let (xg, xc) = pair(&xd, &[2, 48, 48, 3]);
    let (kg, _) = pair(&kd, &[3, 3, 3, 8]);
    let spec = conv2d_spec(&xg, &kg, [1, 1], Padding::Same, [1, 1]).unwrap();
    let dyd = random_vec(&mut r, 2 * 48 * 48 * 8, -1.0, 1.0);
    let (dyg, dyc) = pair(&dyd, &[2, 48, 48, 8]);
    let g = conv2d_grad_kernel(&xg, &dyg, &spec).unwrap();
    let c = conv2d_grad_kernel(&xc, &dyc, &spec).unwrap();
    assert_close(&values(&g), &values(&c), 1e-4, 1e-3, "split-K kernel gradient");
}

#[test]
fn conv_transpose2d_forward_and_gradients_match_reference() {
    let _reference = ReferenceKernels::on(); // the CPU side runs the reference loops
    let mut r = rng(23);
    let mut checked = 0;
    while checked < 24 {
        let (n, h, w) = (r.random_range(1..3), r.random_range(1..9), r.random_range(1..9));
        let (ci, co) = (r.random_range(1..9), r.random_range(1..70));
        let k = [r.random_range(1..5), r.random_range(1..5)];
        let strides = [r.random_range(1..4), r.random_range(1..4)];
        let padding = pick_padding(&mut r);
        let output_padding = if r.random_bool(0.4) {
            Some([r.random_range(0..strides[0]), r.random_range(0..strides[1])])
        } else {
            None
        };
        let xd = random_vec(&mut r, n * h * w * ci, -1.0, 1.0);
        let kd = random_vec(&mut r, k[0] * k[1] * co * ci, -1.0, 1.0);
        let bd = random_vec(&mut r, co, -1.0, 1.0);
        let (xg, xc) = pair(&xd, &[n, h, w, ci]);
        let (kg, kc) = pair(&kd, &[k[0], k[1], co, ci]);
        let (bg, bc) = pair(&bd, &[co]);
        let Ok(spec) = conv_transpose2d_spec(&xc, &kc, strides, padding, output_padding) else {
            continue; // output_padding that TensorFlow rejects too
        };
        let what = format!("conv_transpose2d {spec:?}");
        let yg = conv_transpose2d_with_spec(&xg, &kg, Some(&bg), &spec).unwrap();
        let yc = conv_transpose2d_with_spec(&xc, &kc, Some(&bc), &spec).unwrap();
        assert_eq!(yg.shape(), yc.shape());
        assert_close(&values(&yg), &values(&yc), 1e-4, 1e-4, &format!("{what}: forward"));

        let dyd = random_vec(&mut r, yc.numel(), -1.0, 1.0);
        let (dyg, dyc) = pair(&dyd, yc.shape());
        let gi = (
            conv_transpose2d_grad_input(&dyg, &kg, &spec).unwrap(),
            conv_transpose2d_grad_input(&dyc, &kc, &spec).unwrap(),
        );
        assert_close(&values(&gi.0), &values(&gi.1), 1e-4, 1e-4, &format!("{what}: input gradient"));
        let gk = (
            conv_transpose2d_grad_kernel(&xg, &dyg, &spec).unwrap(),
            conv_transpose2d_grad_kernel(&xc, &dyc, &spec).unwrap(),
        );
        assert_eq!(gk.0.shape(), &spec.kernel_shape());
        assert_close(&values(&gk.0), &values(&gk.1), 1e-4, 1e-3, &format!("{what}: kernel gradient"));
        checked += 1;
    }
}

/// The GEMM rows (output pixels; for the input gradient, input pixels) land in each tile
/// height of gpu::kernels::gemm_tiles: at most 16 rows, 17 to 32, more; with reductions
/// of many BK-deep steps and a second, partial column tile. Stride 2 takes the
/// transposed GEMM's phase split; stride 1 with 100 rows its run as a correlation.
#[test]
fn every_gemm_tile_height_matches_reference() {
    let _reference = ReferenceKernels::on(); // the CPU side runs the reference loops
    let mut r = rng(25);
    // (batch, input side, channels in, channels out, stride): rows 9, 25, 2 x 36, 100.
    let cases = [(1, 6, 40, 70, 2), (1, 5, 33, 65, 1), (2, 12, 20, 3, 2), (1, 3, 256, 64, 1), (1, 10, 24, 40, 1)];
    for (n, side, ci, co, stride) in cases {
        for padding in [Padding::Same, Padding::Valid] {
            let xd = random_vec(&mut r, n * side * side * ci, -1.0, 1.0);
            let kd = random_vec(&mut r, 9 * ci * co, -1.0, 1.0);
            let bd = random_vec(&mut r, co, -1.0, 1.0);
            let (xg, xc) = pair(&xd, &[n, side, side, ci]);
            let (kg, kc) = pair(&kd, &[3, 3, ci, co]);
            let (bg, bc) = pair(&bd, &[co]);
            let Ok(spec) = conv2d_spec(&xc, &kc, [stride, stride], padding, [1, 1]) else { continue };
            let what = format!("conv2d {spec:?}");
            let yg = conv2d_with_spec(&xg, &kg, Some(&bg), &spec).unwrap();
            let yc = conv2d_with_spec(&xc, &kc, Some(&bc), &spec).unwrap();
            assert_close(&values(&yg), &values(&yc), 1e-4, 1e-4, &format!("{what}: forward"));
            let dyd = random_vec(&mut r, yc.numel(), -1.0, 1.0);
            let (dyg, dyc) = pair(&dyd, yc.shape());
            let gi = (conv2d_grad_input(&dyg, &kg, &spec).unwrap(), conv2d_grad_input(&dyc, &kc, &spec).unwrap());
            assert_close(&values(&gi.0), &values(&gi.1), 1e-4, 1e-4, &format!("{what}: input gradient"));

            // The same sizes through Conv2DTranspose (kernel (kh, kw, out, in)).
            let kt = random_vec(&mut r, 9 * co * ci, -1.0, 1.0);
            let (ktg, ktc) = pair(&kt, &[3, 3, co, ci]);
            let spec = conv_transpose2d_spec(&xc, &ktc, [stride, stride], padding, None).unwrap();
            let what = format!("conv_transpose2d {spec:?}");
            let yg = conv_transpose2d_with_spec(&xg, &ktg, Some(&bg), &spec).unwrap();
            let yc = conv_transpose2d_with_spec(&xc, &ktc, Some(&bc), &spec).unwrap();
            assert_close(&values(&yg), &values(&yc), 1e-4, 1e-4, &format!("{what}: forward"));
        }
    }
}

#[test]
fn shape_errors_name_the_op_and_shapes() {
    let g = gpu();
    let x = Tensor::from_f32(&g, vec![0.0; 2 * 5 * 5 * 3], &[2, 5, 5, 3]).unwrap();
    let k = Tensor::from_f32(&g, vec![0.0; 3 * 3 * 4 * 8], &[3, 3, 4, 8]).unwrap();
    let e = conv2d_spec(&x, &k, [1, 1], Padding::Valid, [1, 1]).unwrap_err();
    assert!(e.message().contains("(2, 5, 5, 3)") && e.message().contains("(3, 3, 4, 8)"), "{e}");
    let big = Tensor::from_f32(&g, vec![0.0; 7 * 7 * 3], &[7, 7, 3, 1]).unwrap();
    assert!(conv2d_spec(&x, &big, [1, 1], Padding::Valid, [1, 1]).is_err());
}

#[test]
fn depthwise_conv2d_forward_and_gradients_match_reference() {
    let _reference = ReferenceKernels::on(); // the CPU side runs the reference loops
    let mut r = rng(24);
    let mut checked = 0;
    while checked < 24 {
        let (n, h, w) = (r.random_range(1..3), r.random_range(3..14), r.random_range(3..14));
        // Every third case has multiplier 1 and a multiple of 4 channels: the four-channel
        // forward kernel's case.
        let (c, mult) =
            if checked % 3 == 0 { (4 * r.random_range(1..4), 1) } else { (r.random_range(1..12), r.random_range(1..4)) };
        let k = [r.random_range(1..5), r.random_range(1..5)];
        let strides = [r.random_range(1..4), r.random_range(1..4)];
        let dilation = if r.random_bool(0.3) { [r.random_range(1..3), r.random_range(1..3)] } else { [1, 1] };
        let padding = pick_padding(&mut r);
        let xd = random_vec(&mut r, n * h * w * c, -1.0, 1.0);
        let kd = random_vec(&mut r, k[0] * k[1] * c * mult, -1.0, 1.0);
        let bd = random_vec(&mut r, c * mult, -1.0, 1.0);
        let (xg, xc) = pair(&xd, &[n, h, w, c]);
        let (kg, kc) = pair(&kd, &[k[0], k[1], c, mult]);
        let (bg, bc) = pair(&bd, &[c * mult]);
        let Ok(spec) = depthwise_conv2d_spec(&xc, &kc, strides, padding, dilation) else {
            continue;
        };
        let what = format!("depthwise_conv2d {spec:?}");
        let yg = depthwise_conv2d_with_spec(&xg, &kg, Some(&bg), &spec).unwrap();
        let yc = depthwise_conv2d_with_spec(&xc, &kc, Some(&bc), &spec).unwrap();
        assert_eq!(yg.shape(), yc.shape());
        assert_close(&values(&yg), &values(&yc), 1e-4, 1e-4, &format!("{what}: forward"));
        let dyd = random_vec(&mut r, yc.numel(), -1.0, 1.0);
        let (dyg, dyc) = pair(&dyd, yc.shape());
        let gi = (
            depthwise_conv2d_grad_input(&dyg, &kg, &spec).unwrap(),
            depthwise_conv2d_grad_input(&dyc, &kc, &spec).unwrap(),
        );
        assert_close(&values(&gi.0), &values(&gi.1), 1e-4, 1e-4, &format!("{what}: input gradient"));
        let gk = (
            depthwise_conv2d_grad_kernel(&xg, &dyg, &spec).unwrap(),
            depthwise_conv2d_grad_kernel(&xc, &dyc, &spec).unwrap(),
        );
        assert_close(&values(&gk.0), &values(&gk.1), 1e-4, 1e-3, &format!("{what}: kernel gradient"));
        checked += 1;
    }
}

/// The GPU picks its kernels by size: up to 25 taps the ones compiled for the kernel size
/// (and the two-stage kernel gradient, whose workgroups split channels into tiles of up
/// to 64 and positions into chunks), past 25 the generic ones. Both sides of each split.
#[test]
fn depthwise_conv2d_kernel_sizes_and_wide_channels_match_reference() {
    let _reference = ReferenceKernels::on();
    let mut r = rng(25);
    // (batch, side, channels, multiplier, kernel, stride)
    for (n, side, c, mult, k, stride) in
        [(2, 17, 70, 1, [3, 3], [1, 1]), (1, 9, 33, 2, [3, 3], [2, 2]), (2, 12, 5, 1, [6, 5], [1, 1]), (1, 11, 3, 2, [7, 7], [2, 1])]
    {
        let xd = random_vec(&mut r, n * side * side * c, -1.0, 1.0);
        let kd = random_vec(&mut r, k[0] * k[1] * c * mult, -1.0, 1.0);
        let (xg, xc) = pair(&xd, &[n, side, side, c]);
        let (kg, kc) = pair(&kd, &[k[0], k[1], c, mult]);
        let spec = depthwise_conv2d_spec(&xc, &kc, stride, Padding::Same, [1, 1]).unwrap();
        let what = format!("depthwise_conv2d {spec:?}");
        let yg = depthwise_conv2d_with_spec(&xg, &kg, None, &spec).unwrap();
        let yc = depthwise_conv2d_with_spec(&xc, &kc, None, &spec).unwrap();
        assert_close(&values(&yg), &values(&yc), 1e-4, 1e-4, &format!("{what}: forward"));
        let (dyg, dyc) = pair(&random_vec(&mut r, yc.numel(), -1.0, 1.0), yc.shape());
        let gi = (depthwise_conv2d_grad_input(&dyg, &kg, &spec).unwrap(), depthwise_conv2d_grad_input(&dyc, &kc, &spec).unwrap());
        assert_close(&values(&gi.0), &values(&gi.1), 1e-4, 1e-4, &format!("{what}: input gradient"));
        let gk = (depthwise_conv2d_grad_kernel(&xg, &dyg, &spec).unwrap(), depthwise_conv2d_grad_kernel(&xc, &dyc, &spec).unwrap());
        assert_close(&values(&gk.0), &values(&gk.1), 1e-4, 1e-3, &format!("{what}: kernel gradient"));
    }
}
