//! The image_transform stem (Keras's augmentation resampler): GPU vs CPU reference vs
//! Keras's affine_transform (TensorFlow backend) for every fill mode and interpolation.

mod common;
use common::keras::{arr, cases, check, load};
use common::*;

use convbook::ops::image_transform::{random_flips, random_rotations, random_zooms, transform, FillMode, Interpolation};
use convbook::{Device, Tensor};

fn modes(case: &serde_json::Value) -> (FillMode, Interpolation, f64) {
    let cfg = &case["config"];
    let interp = if cfg["interpolation"] == "nearest" { Interpolation::Nearest } else { Interpolation::Bilinear };
    (FillMode::parse(cfg["fill_mode"].as_str().unwrap()).unwrap(), interp, cfg["fill_value"].as_f64().unwrap())
}

#[test]
fn matches_keras_on_gpu_and_cpu() {
    let file = load("image_transform", "image_transform.json");
    for case in cases(&file) {
        let (fill, interp, value) = modes(case);
        let (images, ishape) = arr(case, "images");
        let (t, tshape) = arr(case, "transforms");
        let want = arr(case, "y").0;
        for device in [gpu(), Device::Cpu] {
            let x = Tensor::from_f32(&device, images.clone(), &ishape).unwrap();
            let tt = Tensor::from_f32(&device, t.clone(), &tshape).unwrap();
            let y = transform(&x, &tt, fill, interp, value).unwrap();
            // Nearest rounding of points exactly halfway may differ by one pixel; the
            // cases keep coordinates away from .5 via rounded coefficients, so compare tightly.
            check(case, &format!("y on {}", device.describe()), &block(y.to_f32_vec()).unwrap(), &want, 1e-4);
        }
    }
    assert!(cases(&file).len() >= 20);
}

#[test]
fn random_layer_transforms_on_gpu_match_cpu() {
    let mut r = rng(61);
    let (n, h, w, c) = (6, 9, 13, 3);
    let images = random_vec(&mut r, n * h * w * c, -1.0, 1.0);
    for rows in [
        random_flips(&mut r, n, h, w, true, true),
        random_rotations(&mut r, n, h, w, 0.1),
        random_zooms(&mut r, n, h, w, 0.2, None),
        random_zooms(&mut r, n, h, w, 0.3, Some(0.1)),
    ] {
        let (g, cpu) = on_both(&[(images.clone(), vec![n, h, w, c]), (rows, vec![n, 8])], |t| {
            transform(&t[0], &t[1], FillMode::Reflect, Interpolation::Bilinear, 0.0)
        });
        assert_close(&g, &cpu, 1e-4, 1e-5, "random transforms");
    }
    // A horizontal flip is exact and involutive.
    let flips: Vec<f32> = (0..n).flat_map(|_| [-1.0, 0.0, (w - 1) as f32, 0.0, 1.0, 0.0, 0.0, 0.0]).collect();
    let (g, _) = on_both(&[(images.clone(), vec![n, h, w, c]), (flips, vec![n, 8])], |t| {
        transform(&t[0], &t[1], FillMode::Reflect, Interpolation::Bilinear, 0.0)
    });
    assert_eq!(g[..c], images[(w - 1) * c..w * c]);
}
