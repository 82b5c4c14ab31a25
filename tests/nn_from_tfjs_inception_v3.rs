//! nsfwjs's InceptionV3: a real trained TF.js layers model (Keras 2.2.4, 318 layers, 22
//! million uint8-quantized weights in six shards) reads and predicts as TensorFlow.js 4.22
//! does, on the GPU and on the CPU, for a fixed input and for a photo.
//!
//! The model is 29 MB of JavaScript inside the `nsfwjs` npm dev dependency, too big to
//! commit: each test binary run extracts it from node_modules into the target directory
//! (tests/fixtures/io/nsfwjs_inception_v3/extract.cjs). Only TF.js's reference
//! (`tfjs_reference.json`, made as that directory's README says) is committed.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use convbook::data::images::{decode_image, ColorMode};
use convbook::io::tfjs::TfjsModel;
use convbook::nn::Model;
use convbook::{CpuData, Device, Tensor};
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/io/nsfwjs_inception_v3");
const SIDE: usize = 299;
/// The photo: scikit-image's Chelsea the cat (451x300), its central 299x299 crop, so no
/// resizing method can make the two engines' inputs differ.
const PHOTO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/www/data/photos/chelsea.jpg");

fn reference() -> Value {
    let path = format!("{FIXTURE}/tfjs_reference.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The model directory extracted from node_modules/nsfwjs, once per test binary run (a
/// second); a missing package is a failure that says how to install it, never a skip.
fn model_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let package = Path::new(ROOT).join("node_modules/nsfwjs");
        assert!(
            package.join("dist/models/inception_v3/model.min.js").is_file(),
            "{} lacks the InceptionV3 model: run `npm ci` in the repository root (`cargo xtask test` does) to install the npm dev dependencies",
            package.display()
        );
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nsfwjs_inception_v3");
        // A stale model.json must not pass for a fresh extraction that failed half-way.
        std::fs::remove_file(out.join("model.json")).ok();
        let status = Command::new("node")
            .arg(format!("{FIXTURE}/extract.cjs"))
            .arg(&package)
            .arg(&out)
            .status()
            .unwrap_or_else(|e| panic!("cannot run node to extract nsfwjs's InceptionV3 ({e}): install Node.js 20.19+ and run `npm ci`"));
        assert!(status.success(), "extract.cjs failed ({status}) on {}", package.display());
        out
    })
}

fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0x811c_9dc5u32, |h, b| (h ^ b as u32).wrapping_mul(0x0100_0193)) as u64
}

fn f32s(data: &CpuData) -> &[f32] {
    match data {
        CpuData::F32(v) => v,
        other => panic!("expected f32 weights, found {:?}", other.dtype()),
    }
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

/// The input TF.js was given: x[i] = ((i * 7919) % 255) / 255 over (1, 299, 299, 3).
fn fixed_input() -> Vec<f32> {
    (0..SIDE * SIDE * 3).map(|i| ((i as u64 * 7919) % 255) as f32 / 255.0).collect()
}

/// Chelsea's central 299x299 crop as RGB bytes (TF.js got these bytes / 255).
fn photo_bytes() -> Vec<u8> {
    let bytes = std::fs::read(PHOTO).unwrap_or_else(|e| panic!("{PHOTO}: {e}"));
    let img = decode_image(&bytes, "chelsea.jpg", ColorMode::Rgb).unwrap();
    assert!(img.height >= SIDE && img.width >= SIDE, "chelsea.jpg is {}x{}", img.width, img.height);
    let (top, left) = ((img.height - SIDE) / 2, (img.width - SIDE) / 2);
    (top..top + SIDE)
        .flat_map(|y| {
            let row = (y * img.width + left) * 3;
            img.data[row..row + SIDE * 3].to_vec()
        })
        .collect()
}

#[test]
fn inception_v3_reads_like_tfjs() {
    let file = TfjsModel::load(model_dir().join("model.json")).unwrap();
    let r = reference();
    assert_eq!(r["tfjs_version"], "4.22.0");
    assert_eq!(file.keras_version.as_deref(), Some("2.2.4"));
    let names: Vec<&str> = file.layers.iter().map(|l| l.name.as_str()).collect();
    let tfjs_names: Vec<&str> = r["layer_names"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(names, tfjs_names, "layers, in TF.js's order");
    assert_eq!(file.layers.len(), 318);
    // uint8-quantized: one shard byte per parameter.
    let shard_bytes: u64 = (1..=6)
        .map(|i| std::fs::metadata(model_dir().join(format!("group1-shard{i}of6"))).unwrap().len())
        .sum();
    assert_eq!(file.num_params() as u64, shard_bytes);
    assert_eq!(file.num_params() as u64, r["count_params"].as_u64().unwrap());

    // Every weight bit for bit as TF.js dequantizes it (FNV-1a of its float32 bytes), and
    // a few value by value, so a mismatch shows where.
    let hashes = r["weight_fnv1a"].as_object().unwrap();
    assert_eq!(hashes.len(), file.weights.len());
    assert_eq!(file.weights.len(), r["num_weights"].as_u64().unwrap() as usize);
    for w in &file.weights {
        let hash = fnv1a(f32s(&w.data).iter().flat_map(|x| x.to_le_bytes()));
        assert_eq!(Some(hash), hashes[&w.name].as_u64(), "{} differs from TF.js", w.name);
    }
    let samples = r["weights"].as_object().unwrap();
    assert!(samples.contains_key("conv2d_1/kernel") && samples.contains_key("batch_normalization_94/moving_variance"));
    for (name, want) in samples {
        let w = file.weight(name).unwrap();
        let shape: Vec<usize> = want["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
        assert_eq!(w.shape, shape, "{name}");
        assert_eq!(f32s(&w.data), floats(&want["values"]), "{name}");
    }
}

#[test]
fn inception_v3_predicts_like_tfjs() {
    let file = TfjsModel::load(model_dir().join("model.json")).unwrap();
    let r = reference();
    let photo = photo_bytes();
    assert_eq!(
        Some(fnv1a(photo.iter().copied())),
        r["photo_fnv1a"].as_u64(),
        "chelsea.jpg decodes to other pixels than those TF.js was given (a JPEG decoder change?)"
    );
    let model = Model::from_tfjs(&file).unwrap();
    assert_eq!(model.layers().len() as u64, r["num_layers"].as_u64().unwrap());
    assert_eq!(model.count_params() as u64, r["count_params"].as_u64().unwrap());
    assert!(model.count_trainable_params() < model.count_params(), "the file freezes the base");

    // Both inputs in one batch: TF.js predicted them one at a time.
    let mut x = fixed_input();
    x.extend(photo.iter().map(|&b| b as f32 / 255.0));
    let mut want = floats(&r["prediction"]);
    let want_photo = floats(&r["photo_prediction"]);
    want.extend(&want_photo);
    assert_eq!(want.len(), 10, "5 classes per input");
    // Chelsea is a cat, not a drawing: the class TF.js picks (2, "Neutral") is ours too,
    // checked below through the values.
    let best = (0..5).max_by(|&a, &b| want_photo[a].total_cmp(&want_photo[b])).unwrap();
    assert_eq!(best, 2, "TF.js's class for the photo: {want_photo:?}");
    for device in [gpu(), Device::Cpu] {
        let model = Model::from_tfjs(&file).unwrap();
        model.to_device(&device).unwrap();
        let input = Tensor::from_f32(&device, x.clone(), &[2, SIDE, SIDE, 3]).unwrap();
        let got = block(model.call(&[input], false).unwrap()[0].to_f32_vec()).unwrap();
        let worst = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0f32, f32::max);
        println!("InceptionV3 on {}: max |difference| from TF.js {worst:.1e}", device.describe());
        assert_close(&got, &want, 0.0, 1e-4, &format!("InceptionV3 prediction on {} vs TF.js", device.describe()));
    }
}

/// Writes the photo's input for TF.js (tests/fixtures/io/nsfwjs_inception_v3/README.md):
/// `cargo test --test nn_from_tfjs_inception_v3 -- --ignored write_photo_for_tfjs_reference`.
#[test]
#[ignore]
fn write_photo_for_tfjs_reference() {
    let out = model_dir().join("chelsea_299.rgb");
    std::fs::write(&out, photo_bytes()).unwrap();
    println!("model: {}\nphoto: {}", model_dir().display(), out.display());
}
