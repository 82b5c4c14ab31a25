//! The native CLI end to end on a real TF.js model file: summary, predict from .npy,
//! and one training step that writes a model whose predictions moved.

use std::process::Command;

use convbook::io::npy::{load_npy, save_npy};
use convbook::CpuData;

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/io/nsfwjs_mobilenet_v2/model.json");

fn convbook(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_convbook")).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("convbook-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn summary_predict_and_train_step() {
    let (ok, out, err) = convbook(&["summary", MODEL]);
    assert!(ok, "{err}");
    assert!(out.contains("Total params: 2,619,461") && out.contains("Conv1 (Conv2D)"), "{out}");

    let x: Vec<f32> = (0..2 * 224 * 224 * 3u64).map(|i| ((i * 7919) % 255) as f32 / 255.0).collect();
    let xin = tmp("x.npy");
    save_npy(&xin, &CpuData::F32(x), &[2, 224, 224, 3]).unwrap();
    let yout = tmp("y.npy");
    let (ok, _, err) = convbook(&["predict", MODEL, xin.to_str().unwrap(), yout.to_str().unwrap(), "--cpu"]);
    assert!(ok, "{err}");
    let y = load_npy(&yout).unwrap();
    assert_eq!(y.shape, vec![2, 5]);

    let labels = tmp("labels.npy");
    save_npy(&labels, &CpuData::I32(vec![1, 3]), &[2]).unwrap();
    let out_model = tmp("trained/model.json");
    let (ok, _, err) = convbook(&[
        "train-step",
        MODEL,
        xin.to_str().unwrap(),
        labels.to_str().unwrap(),
        "--loss",
        "sparse_categorical_crossentropy",
        "--optimizer",
        "sgd",
        "--lr",
        "0.05",
        "--out",
        out_model.to_str().unwrap(),
        "--cpu",
    ]);
    assert!(ok, "{err}");
    assert!(err.contains("loss before the step"), "{err}");
    let y2out = tmp("y2.npy");
    let (ok, _, err) = convbook(&["predict", out_model.to_str().unwrap(), xin.to_str().unwrap(), y2out.to_str().unwrap(), "--cpu"]);
    assert!(ok, "{err}");
    let (before, after) = (y.data.to_f64(), load_npy(&y2out).unwrap().data.to_f64());
    assert!(before.iter().zip(&after).any(|(a, b)| (a - b).abs() > 1e-6), "the step changed nothing");
    // The labelled classes gained probability.
    assert!(after[1] > before[1] && after[5 + 3] > before[5 + 3], "{before:?} -> {after:?}");
}

#[test]
fn bad_invocations_are_errors_not_panics() {
    let (ok, _, err) = convbook(&["predict", MODEL]);
    assert!(!ok && err.contains("usage"), "{err}");
    let (ok, _, err) = convbook(&["summary", "/nonexistent/model.json"]);
    assert!(!ok && err.contains("/nonexistent/model.json"), "{err}");
    let (ok, _, err) = convbook(&["train-step", MODEL, "a.npy", "b.npy", "--loss", "hinge", "--out", "x.json", "--bogus", "1"]);
    assert!(!ok && err.contains("--bogus"), "{err}");
}

const SMALL_MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/io/keras3/sequential/model.json");

/// NumPy's default dtype is float64 and integer arrays are common: predict converts
/// both to the model's float32 as Keras does (it used to refuse them: "dtypes differ").
#[test]
fn predict_converts_float64_and_integer_inputs() {
    let ints: Vec<i32> = (0..3 * 6).map(|i| i % 5 - 2).collect();
    let predict = |name: &str, data: CpuData| {
        let (xin, yout) = (tmp(&format!("{name}.npy")), tmp(&format!("{name}_y.npy")));
        save_npy(&xin, &data, &[3, 6]).unwrap();
        let (ok, _, err) = convbook(&["predict", SMALL_MODEL, xin.to_str().unwrap(), yout.to_str().unwrap(), "--cpu"]);
        assert!(ok, "{name}: {err}");
        let y = load_npy(&yout).unwrap();
        assert_eq!(y.shape[0], 3, "{name}");
        y.data
    };
    let reference = predict("as_f32", CpuData::F32(ints.iter().map(|&v| v as f32).collect()));
    assert!(matches!(reference, CpuData::F32(_)));
    assert_eq!(predict("as_f64", CpuData::F64(ints.iter().map(|&v| v as f64).collect())), reference);
    assert_eq!(predict("as_i32", CpuData::I32(ints.clone())), reference);
    let i64_bytes = convbook::io::npy::write_npy_as(&CpuData::I32(ints.clone()), &[3, 6], convbook::io::NpyDType::I64).unwrap();
    let (xin, yout) = (tmp("as_i64.npy"), tmp("as_i64_y.npy"));
    std::fs::write(&xin, i64_bytes).unwrap();
    let (ok, _, err) = convbook(&["predict", SMALL_MODEL, xin.to_str().unwrap(), yout.to_str().unwrap(), "--cpu"]);
    assert!(ok, "int64: {err}");
    assert_eq!(load_npy(&yout).unwrap().data, reference);
}

/// `summary --application`: Keras's table and totals (Keras 3.15, weights=None).
#[test]
fn summary_of_an_application() {
    let (ok, out, err) = convbook(&["summary", "--application", "Xception", "--no-top"]);
    assert!(ok, "{err}");
    assert!(out.contains("Model: \"xception\""), "{out}");
    assert!(out.contains("block14_sepconv2_act (Activation)") && out.contains("(None, 10, 10, 2048)"), "{out}");
    assert!(out.contains("Total params: 20,861,480"), "{out}");
    let (ok, out, err) = convbook(&["summary", "--application", "VGG16"]);
    assert!(ok, "{err}");
    assert!(out.contains("fc1 (Dense)") && out.contains("102,764,544") && out.contains("Total params: 138,357,544"), "{out}");
    let (ok, out, err) = convbook(&["summary", "--application", "MobileNetV2", "--no-top", "--input-shape", "96,96,3", "--alpha", "0.35"]);
    assert!(ok, "{err}");
    assert!(out.contains("Model: \"mobilenetv2_0.35_96\"") && out.contains("(None, 3, 3, 1280)"), "{out}");
    let (ok, _, err) = convbook(&["summary", "--application", "ResNet18"]);
    assert!(!ok && err.contains("unknown application") && err.contains("ResNet50"), "{err}");
    let (ok, _, err) = convbook(&["summary", "--application", "VGG16", "--input-shape", "224x224"]);
    assert!(!ok && err.contains("--input-shape"), "{err}");
    let (ok, _, err) = convbook(&["summary", "--application", "VGG16", "--input-shape", "16,16,3"]);
    assert!(!ok && err.contains("at least 32x32"), "{err}");
}

const KERAS_FILES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keras_files");

/// Keras's own files on the command line: summary and predict read `.keras` and `.h5`
/// (told apart by their bytes, not their names), predictions match Keras's, train-step
/// writes a `.keras` that loads again; a file of no known format is named in the error.
#[test]
fn keras_and_h5_files_on_the_command_line() {
    let reference = convbook::io::npy::read_npz(&std::fs::read(format!("{KERAS_FILES}/reference.npz")).unwrap()).unwrap();
    let get = |key: &str| reference.iter().find(|(k, _)| k == key).unwrap().1.clone();
    let (x, want) = (get("small_x"), get("small_y"));
    let xin = tmp("small_x.npy");
    save_npy(&xin, &x.data, &x.shape).unwrap();

    let (ok, out, err) = convbook(&["summary", &format!("{KERAS_FILES}/small.keras")]);
    assert!(ok, "{err}");
    assert!(out.contains("inner (Sequential)") && out.contains("sep (SeparableConv2D)"), "{out}");

    // A legacy .h5 under a name that says nothing about its format.
    let renamed = tmp("model.bin");
    std::fs::copy(format!("{KERAS_FILES}/small.h5"), &renamed).unwrap();
    for model in [format!("{KERAS_FILES}/small.keras"), renamed.to_str().unwrap().to_string()] {
        let yout = tmp("small_y.npy");
        let (ok, _, err) = convbook(&["predict", &model, xin.to_str().unwrap(), yout.to_str().unwrap(), "--cpu"]);
        assert!(ok, "{model}: {err}");
        let got = load_npy(&yout).unwrap().data.to_f64();
        let worst = got.iter().zip(want.data.to_f64()).map(|(g, w)| (g - w).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-4, "{model}: max difference from Keras {worst}");
    }

    let labels = tmp("small_labels.npy");
    save_npy(&labels, &CpuData::I32(vec![0, 2]), &[2]).unwrap();
    let trained = tmp("trained_small.keras");
    let (ok, _, err) = convbook(&[
        "train-step",
        &format!("{KERAS_FILES}/small.h5"),
        xin.to_str().unwrap(),
        labels.to_str().unwrap(),
        "--loss",
        "sparse_categorical_crossentropy",
        "--lr",
        "0.5",
        "--out",
        trained.to_str().unwrap(),
        "--cpu",
    ]);
    assert!(ok, "{err}");
    let yout = tmp("trained_y.npy");
    let (ok, _, err) = convbook(&["predict", trained.to_str().unwrap(), xin.to_str().unwrap(), yout.to_str().unwrap(), "--cpu"]);
    assert!(ok, "{err}");
    let after = load_npy(&yout).unwrap().data.to_f64();
    let before = want.data.to_f64();
    assert!(after[0] > before[0] && after[3 + 2] > before[3 + 2], "the labelled classes gained: {before:?} -> {after:?}");

    let (ok, _, err) = convbook(&["summary", &format!("{KERAS_FILES}/reference.npz")]);
    assert!(!ok && err.contains("reference.npz") && err.contains("config.json"), "{err}");
    let (ok, _, err) = convbook(&["summary", xin.to_str().unwrap()]);
    assert!(!ok && err.contains("small_x.npy") && err.contains("not a model file"), "{err}");
}
