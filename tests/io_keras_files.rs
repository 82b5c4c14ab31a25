//! Keras's own files (tests/fixtures/keras_files, made by make_fixtures.py there): `.keras`
//! archives, legacy full-model `.h5`, Keras 3 and legacy weights-only `.h5`, loaded and
//! run on CPU and GPU against Keras's predictions; broken files; `.keras` written back.

mod common;

use common::{block, gpu};
use convbook::io::keras_file::{KerasArchive, ModelFormat};
use convbook::io::npy::read_npz;
use convbook::nn::applications::{self, AppArgs};
use convbook::nn::Model;
use convbook::{CpuData, Device, Tensor};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keras_files");

fn bytes(file: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/{file}")).unwrap()
}

/// (input, Keras's output) for a fixture model ("small", "mobilenetv2").
fn reference(stem: &str) -> (Tensor, Vec<f32>) {
    let arrays = read_npz(&bytes("reference.npz")).unwrap();
    let get = |key: String| arrays.iter().find(|(k, _)| *k == key).unwrap_or_else(|| panic!("no {key}")).1.clone();
    let x = get(format!("{stem}_x"));
    let y = get(format!("{stem}_y"));
    let CpuData::F32(want) = y.data else { panic!("{stem}_y is not float32") };
    (Tensor::from_data(&Device::Cpu, x.data, &x.shape).unwrap(), want)
}

fn predict(model: &Model, x: &Tensor, device: &Device) -> Vec<f32> {
    model.to_device(device).unwrap();
    let y = block(model.predict(device, x, 8)).unwrap();
    block(y.to_f32_vec()).unwrap()
}

fn assert_predicts_as_keras(model: &Model, stem: &str, what: &str) {
    let (x, want) = reference(stem);
    for device in [Device::Cpu, gpu()] {
        let got = predict(model, &x, &device);
        assert_eq!(got.len(), want.len(), "{what}");
        let worst = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "{what} on {device:?}: max |ours - keras| = {worst}");
    }
}

fn load(file: &str) -> Model {
    Model::from_keras_bytes(&bytes(file), file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The architecture of small.keras with no weights loaded.
fn small_architecture() -> Model {
    let archive = KerasArchive::from_bytes(&bytes("small.keras"), "small.keras").unwrap();
    Model::from_keras_config(&archive.config).unwrap()
}

#[test]
fn formats_are_told_apart_by_their_bytes() {
    assert_eq!(ModelFormat::detect(&bytes("small.keras")), Some(ModelFormat::KerasArchive));
    assert_eq!(ModelFormat::detect(&bytes("small.h5")), Some(ModelFormat::Hdf5));
    assert_eq!(ModelFormat::detect(b"  {\"modelTopology\": {}}"), Some(ModelFormat::TfjsJson));
    assert_eq!(ModelFormat::detect(b"\x93NUMPY"), None);
}

#[test]
fn keras_archive_with_nested_model_and_shared_layer_predicts_as_keras() {
    let model = load("small.keras");
    assert_eq!(model.name(), "small");
    assert!(model.get_layer("inner").unwrap().as_model().is_some(), "the nested model is a model layer");
    assert_predicts_as_keras(&model, "small", "small.keras");
}

#[test]
fn legacy_full_model_h5_predicts_as_keras() {
    assert_predicts_as_keras(&load("small.h5"), "small", "small.h5");
}

#[test]
fn keras3_weights_file_loads_into_the_architecture() {
    let model = small_architecture();
    model.load_weights_bytes(&bytes("small.weights.h5"), "small.weights.h5").unwrap();
    assert_predicts_as_keras(&model, "small", "small.weights.h5");
}

#[test]
fn legacy_weights_file_loads_into_the_architecture() {
    let model = small_architecture();
    model.load_weights_bytes(&bytes("small_legacy.weights.h5"), "small_legacy.weights.h5").unwrap();
    assert_predicts_as_keras(&model, "small", "small_legacy.weights.h5");
}

#[test]
fn weights_of_a_keras_archive_and_a_full_h5_load_into_an_architecture() {
    for file in ["small.keras", "small.h5"] {
        let model = small_architecture();
        model.load_weights_bytes(&bytes(file), file).unwrap();
        assert_predicts_as_keras(&model, "small", file);
    }
}

#[test]
fn mobilenet_v2_application_files_predict_as_keras() {
    for file in ["mobilenetv2.keras", "mobilenetv2.h5"] {
        assert_predicts_as_keras(&load(file), "mobilenetv2", file);
    }
}

#[test]
fn mobilenet_v2_weights_load_into_our_application() {
    let args = AppArgs { include_top: false, alpha: 0.35, input_shape: Some(vec![32, 32, 3]), ..AppArgs::default() };
    // mobilenetv2_legacy.weights.h5: weights only, in the layout of Keras's published application files.
    for file in ["mobilenetv2.h5", "mobilenetv2.keras", "mobilenetv2_legacy.weights.h5"] {
        let model = applications::build("MobileNetV2", &args).unwrap();
        model.load_weights_bytes(&bytes(file), file).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_predicts_as_keras(&model, "mobilenetv2", file);
    }
}

#[test]
fn weights_for_another_architecture_are_refused_naming_the_file() {
    let args = AppArgs { include_top: false, alpha: 0.35, input_shape: Some(vec![32, 32, 3]), ..AppArgs::default() };
    let model = applications::build("MobileNetV2", &args).unwrap();
    for file in ["small.weights.h5", "small_legacy.weights.h5", "small.keras"] {
        let e = model.load_weights_bytes(&bytes(file), file).unwrap_err().to_string();
        assert!(e.contains(file) && e.contains("weights"), "{file}: {e}");
    }
}

#[test]
fn broken_files_give_errors_naming_the_file_and_the_problem() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("cut.keras", bytes("small.keras")[..4000].to_vec(), "zip"),
        ("cut.h5", bytes("small.h5")[..6000].to_vec(), "HDF5"),
        ("noise.bin", (0..512u32).map(|i| (i * 7919 % 251) as u8).collect(), "not a model file"),
        ("weights_only.h5", bytes("small_legacy.weights.h5"), "weights only"),
        ("model.json", b"{\"modelTopology\": {}}".to_vec(), "TF.js"),
    ];
    for (name, data, problem) in cases {
        let Err(e) = Model::from_keras_bytes(&data, name) else { panic!("{name} loaded") };
        let e = e.to_string();
        assert!(e.contains(name) && e.contains(problem), "{name}: {e}");
    }
    // A zip that is not a .keras archive.
    let npz = convbook::io::npy::write_npz(&[("a", &CpuData::F32(vec![1.0]), &[1][..])]).unwrap();
    let Err(e) = Model::from_keras_bytes(&npz, "arrays.npz") else { panic!("arrays.npz loaded") };
    let e = e.to_string();
    assert!(e.contains("arrays.npz") && e.contains("config.json"), "{e}");
    // Bytes flipped in the middle of the weights: an error or a load, never a panic.
    let mut flipped = bytes("small.h5");
    for i in (2000..flipped.len()).step_by(97) {
        flipped[i] ^= 0x5a;
    }
    if let Err(e) = Model::from_keras_bytes(&flipped, "flipped.h5") {
        assert!(e.to_string().contains("flipped.h5"), "{e}");
    }
}

#[test]
fn dataset_sizes_are_checked_against_the_byte_budget() {
    // A 4 TiB kernel declared by a 2 KiB file.
    let e = small_architecture().load_weights_bytes(&bytes("huge.weights.h5"), "huge.weights.h5").unwrap_err().to_string();
    assert!(e.contains("huge.weights.h5") && e.contains("layers/conv2d/vars/0") && e.contains("declares"), "{e}");
}

/// `.keras` written by convbook reads back to the same predictions; the file and its
/// prediction are left in the target directory for make_fixtures.py --check (Keras's
/// own load_model on our file).
#[test]
fn keras_archive_written_by_us_round_trips() {
    let model = load("small.keras");
    let optimizer = convbook::nn::optimizers::Optimizer::from_name("adam").unwrap();
    let loss = convbook::nn::losses::Loss::parse("categorical_crossentropy", false).unwrap();
    model.compile(optimizer, loss, &["accuracy"]).unwrap();
    let written = block(model.to_keras()).unwrap();
    let again = Model::from_keras_bytes(&written, "ours.keras").unwrap();
    assert!(again.training_config().is_some(), "compiled as it was saved");
    assert_eq!(again.training_config(), model.training_config());
    let (x, _) = reference("small");
    let before = predict(&model, &x, &Device::Cpu);
    let after = predict(&again, &x, &Device::Cpu);
    assert_eq!(before, after);
    assert_predicts_as_keras(&again, "small", "ours.keras");

    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("convbook_small.keras");
    std::fs::write(&out, &written).unwrap();
    convbook::io::npy::save_npy(out.with_extension("npy"), &CpuData::F32(after), &[2, 3]).unwrap();
}

/// (input, Keras's output) of the Keras 2 transfer-learning model (make_keras2_h5.py).
fn keras2_reference() -> (Tensor, Vec<f32>) {
    let arrays = read_npz(&bytes("keras2_nested_reference.npz")).unwrap();
    let get = |key: &str| arrays.iter().find(|(k, _)| k == key).unwrap_or_else(|| panic!("no {key}")).1.clone();
    let (x, y) = (get("x"), get("y"));
    let CpuData::F32(want) = y.data else { panic!("y is not float32") };
    (Tensor::from_data(&Device::Cpu, x.data, &x.shape).unwrap(), want)
}

fn assert_predicts_as_keras2(model: &Model, what: &str) {
    let (x, want) = keras2_reference();
    for device in [Device::Cpu, gpu()] {
        let got = predict(model, &x, &device);
        assert_eq!(got.len(), want.len(), "{what}");
        let worst = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "{what} on {device:?}: max |ours - keras| = {worst}");
    }
}

#[test]
fn keras2_h5_with_a_nested_base_and_a_shared_layer_predicts_as_keras() {
    let model = load("keras2_nested.h5");
    let base = model.get_layer("base").unwrap();
    assert!(base.as_model().is_some(), "the Sequential base is a model layer");
    assert_predicts_as_keras2(&model, "keras2_nested.h5");
    // Weights only (tf.keras model.save_weights("x.h5")), into the same architecture.
    let architecture = load("keras2_nested.h5");
    architecture.load_weights_bytes(&bytes("keras2_nested.weights.h5"), "keras2_nested.weights.h5").unwrap();
    assert_predicts_as_keras2(&architecture, "keras2_nested.weights.h5");
}

#[test]
fn keras2_h5_weights_are_matched_by_name_not_position() {
    // The base's weight_names listed in reverse: by position nothing would fit.
    assert_predicts_as_keras2(&load("keras2_nested_shuffled.h5"), "keras2_nested_shuffled.h5");
}

#[test]
fn keras2_h5_missing_weight_is_named_with_the_file() {
    let Err(e) = Model::from_keras_bytes(&bytes("keras2_nested_missing.h5"), "keras2_nested_missing.h5") else {
        panic!("keras2_nested_missing.h5 loaded")
    };
    let e = e.to_string();
    assert!(e.contains("keras2_nested_missing.h5") && e.contains("block2_bn/moving_variance"), "{e}");
}
