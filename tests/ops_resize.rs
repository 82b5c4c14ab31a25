//! The resize stem on the GPU vs the CPU reference, forward and input gradient, on
//! randomized shapes scaling up and down; against Keras (tests/fixtures/resize, its op
//! cases: keras.ops.image.resize); small cases worked by hand; errors.

mod common;
use common::keras::{arr, cases, check, load};
use common::*;

use convbook::ops::resize::{resize, resize_grad_input, ResizeMethod, ResizeSpec};
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
fn gpu_matches_reference_scaling_up_and_down() {
    let mut r = rng(71);
    for trial in 0..48 {
        let (n, h, w, c) = (r.random_range(1..3), r.random_range(1..10), r.random_range(1..10), r.random_range(1..5));
        // Alternate shrinking and growing each axis, sometimes by integer factors.
        let size = |len: usize, r: &mut rand::rngs::SmallRng, k: usize| match k % 3 {
            0 => r.random_range(1..=len),
            1 => r.random_range(len..=3 * len),
            _ => len * r.random_range(1..4),
        };
        let out = [size(h, &mut r, trial), size(w, &mut r, trial + 1)];
        let method = if trial % 2 == 0 { ResizeMethod::Bilinear } else { ResizeMethod::Nearest };
        let spec = ResizeSpec::new(&[n, h, w, c], out, method).unwrap();
        let what = format!("{spec:?}");
        let xd = random_vec(&mut r, n * h * w * c, -1.0, 1.0);
        let (xg, xc) = pair(&xd, &[n, h, w, c]);
        let (yg, yc) = (resize(&xg, out, method).unwrap(), resize(&xc, out, method).unwrap());
        assert_eq!(yg.shape(), &[n, out[0], out[1], c], "{what}");
        assert_eq!(yg.shape(), yc.shape(), "{what}");
        assert_close(&values(&yg), &values(&yc), 1e-5, 1e-6, &format!("{what}: forward"));
        let dyd = random_vec(&mut r, yc.numel(), -1.0, 1.0);
        let (dyg, dyc) = pair(&dyd, yc.shape());
        let (gg, gc) = (resize_grad_input(&dyg, &spec).unwrap(), resize_grad_input(&dyc, &spec).unwrap());
        assert_eq!(gg.shape(), &[n, h, w, c], "{what}");
        assert_close(&values(&gg), &values(&gc), 1e-5, 1e-5, &format!("{what}: input gradient"));
    }
}

/// Output and input gradient (loss = sum(y * proj)) within 1e-5 of Keras, on both devices.
#[test]
fn gpu_and_cpu_match_keras_image_resize() {
    let file = load("resize", "resize.json");
    let ops: Vec<_> = cases(&file).iter().filter(|c| c["kind"] == "op").collect();
    assert!(ops.len() >= 6);
    for case in ops {
        let (x, x_shape) = arr(case, "x");
        let (proj, proj_shape) = arr(case, "proj");
        let size = [case["size"][0].as_u64().unwrap() as usize, case["size"][1].as_u64().unwrap() as usize];
        let method = ResizeMethod::parse(case["interpolation"].as_str().unwrap()).unwrap();
        let spec = ResizeSpec::new(&x_shape, size, method).unwrap();
        for device in [gpu(), Device::Cpu] {
            let xt = Tensor::from_f32(&device, x.clone(), &x_shape).unwrap();
            let y = resize(&xt, size, method).unwrap();
            assert_eq!(y.shape(), proj_shape.as_slice(), "{}: output shape", case["name"]);
            let seed = Tensor::from_f32(&device, proj.clone(), &proj_shape).unwrap();
            let g = resize_grad_input(&seed, &spec).unwrap();
            let on = device.describe();
            check(case, &format!("y ({on})"), &values(&y), &arr(case, "y").0, 1e-5);
            check(case, &format!("grad_x ({on})"), &values(&g), &arr(case, "grad_x").0, 1e-5);
        }
    }
}

/// 1×2×2×1 → 4×4 and 3×3 → 1×1, by hand from half-pixel centres.
#[test]
fn small_cases_by_hand() {
    let image = [1.0, 2.0, 3.0, 4.0];
    let (xg, xc) = pair(&image, &[1, 2, 2, 1]);
    // Input coordinates -0.25, 0.25, 0.75, 1.25 along both axes (clamped at the edges).
    let line = |a: f32, b: f32| [a, a + 0.25 * (b - a), a + 0.75 * (b - a), b];
    let (top, bottom) = (line(1.0, 2.0), line(3.0, 4.0));
    let want: Vec<f32> = (0..4).flat_map(|i| line(top[i], bottom[i])).collect();
    let want: Vec<f32> = (0..16).map(|k| want[(k % 4) * 4 + k / 4]).collect();
    for x in [&xg, &xc] {
        assert_eq!(values(&resize(x, [4, 4], ResizeMethod::Bilinear).unwrap()), want);
        let nearest = values(&resize(x, [4, 4], ResizeMethod::Nearest).unwrap());
        assert_eq!(nearest, [1., 1., 2., 2., 1., 1., 2., 2., 3., 3., 4., 4., 3., 3., 4., 4.]);
    }
    let nine: Vec<f32> = (0..9).map(|v| v as f32).collect();
    let (xg, xc) = pair(&nine, &[1, 3, 3, 1]);
    for x in [&xg, &xc] {
        // The centre pixel, in both methods.
        assert_eq!(values(&resize(x, [1, 1], ResizeMethod::Bilinear).unwrap()), [4.0]);
        assert_eq!(values(&resize(x, [1, 1], ResizeMethod::Nearest).unwrap()), [4.0]);
        // Nothing reads the other pixels, so their gradient is zero.
        let spec = ResizeSpec::new(x.shape(), [1, 1], ResizeMethod::Nearest).unwrap();
        let dy = Tensor::from_f32(x.device(), vec![2.5], &[1, 1, 1, 1]).unwrap();
        let g = values(&resize_grad_input(&dy, &spec).unwrap());
        assert_eq!(g, [0., 0., 0., 0., 2.5, 0., 0., 0., 0.]);
    }
}

#[test]
fn errors_name_the_op_and_shapes() {
    let x = Tensor::from_f32(&Device::Cpu, vec![0.0; 6], &[2, 3]).unwrap();
    let e = resize(&x, [4, 4], ResizeMethod::Bilinear).unwrap_err().to_string();
    assert!(e.contains("resize") && e.contains("(2, 3)"), "{e}");
    let x = Tensor::from_f32(&Device::Cpu, vec![0.0; 4], &[1, 2, 2, 1]).unwrap();
    let e = resize(&x, [0, 4], ResizeMethod::Nearest).unwrap_err().to_string();
    assert!(e.contains("size must be positive"), "{e}");
    let spec = ResizeSpec::new(&[1, 2, 2, 1], [3, 3], ResizeMethod::Bilinear).unwrap();
    let e = resize_grad_input(&x, &spec).unwrap_err().to_string();
    assert!(e.contains("output gradient") && e.contains("(1, 3, 3, 1)"), "{e}");
    let labels = Tensor::from_i32(&Device::Cpu, vec![0; 4], &[1, 2, 2, 1]).unwrap();
    assert!(resize(&labels, [3, 3], ResizeMethod::Nearest).unwrap_err().to_string().contains("float"));
}
