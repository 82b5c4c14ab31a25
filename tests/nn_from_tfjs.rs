//! A real trained TF.js layers model (nsfwjs's MobileNetV2, uint8-quantized) builds into
//! a Model whose prediction on the GPU matches what TensorFlow.js itself computes.

mod common;
use common::*;

use convbook::io::tfjs::TfjsModel;
use convbook::nn::Model;
use convbook::{Device, Tensor};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/io/nsfwjs_mobilenet_v2");

fn reference() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/tfjs_reference.json")).unwrap()).unwrap()
}

#[test]
fn mobilenet_v2_predicts_like_tfjs() {
    let file = TfjsModel::load(format!("{DIR}/model.json")).unwrap();
    let model = Model::from_tfjs(&file).unwrap();
    let r = reference();
    assert_eq!(model.count_params() as u64, r["count_params"].as_u64().unwrap());
    assert_eq!(model.layers().len() as u64, r["num_layers"].as_u64().unwrap());
    // The fixed input TF.js was given: x[i] = ((i * 7919) % 255) / 255.
    let n = 224 * 224 * 3;
    let x: Vec<f32> = (0..n).map(|i| ((i as u64 * 7919) % 255) as f32 / 255.0).collect();
    let want: Vec<f32> = r["prediction"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
    for device in [gpu(), Device::Cpu] {
        let model = Model::from_tfjs(&file).unwrap();
        model.to_device(&device).unwrap();
        let input = Tensor::from_f32(&device, x.clone(), &[1, 224, 224, 3]).unwrap();
        let got = block(model.call(&[input], false).unwrap()[0].to_f32_vec()).unwrap();
        assert_close(&got, &want, 1e-3, 1e-4, &format!("MobileNetV2 prediction on {}", device.describe()));
    }
    let frozen = model.count_params() - model.count_trainable_params();
    assert!(frozen > 0, "the file marks the base layers trainable: false");
}

#[test]
fn unknown_layers_and_weight_mismatches_are_errors() {
    let mut file = TfjsModel::load(format!("{DIR}/model.json")).unwrap();
    file.weights.pop();
    let e = Model::from_tfjs(&file).err().unwrap();
    assert!(e.message().contains("weights"), "{e}");
    let mut file = TfjsModel::load(format!("{DIR}/model.json")).unwrap();
    file.layers[3].class_name = "Bogus".into();
    let e = Model::from_tfjs(&file).err().unwrap();
    assert!(e.message().contains("Bogus"), "{e}");
}

/// A Keras 3 transfer-learning model (tests/fixtures/io/keras3/make_nested_tfjs.py): a
/// frozen Sequential conv base called as a layer, then a head.
#[test]
fn a_nested_frozen_base_loads_as_one_layer_and_predicts_like_keras() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/io/keras3");
    let file = TfjsModel::load(format!("{dir}/nested/model.json")).unwrap();
    let reference = convbook::io::npy::load_npz(format!("{dir}/nested_reference.npz")).unwrap();
    let model = Model::from_tfjs(&file).unwrap();
    let names: Vec<(&str, &str)> = model.layers().iter().map(|l| (l.name(), l.class_name())).collect();
    assert_eq!(names, [("photo", "InputLayer"), ("conv_base", "Sequential"), ("gap", "GlobalAveragePooling2D"), ("out", "Dense")]);
    let base = model.get_layer("conv_base").unwrap();
    let inner = base.as_model().unwrap();
    assert_eq!(inner.layers().iter().map(|l| l.name()).collect::<Vec<_>>(), ["image", "conv", "bn", "pool"]);
    assert!(!base.trainable() && inner.layers().iter().all(|l| !l.trainable()), "the file freezes the base");
    // Only the head trains: out's kernel (4x2) and bias.
    assert_eq!(model.count_trainable_params(), 10);
    assert_eq!(model.count_params(), 3 * 3 * 3 * 4 + 4 + 4 * 4 + 10);
    let summary = model.summary();
    assert!(summary.contains("conv_base (Sequential)"), "{summary}");
    let array = |name: &str| &reference.iter().find(|(n, _)| n == name).unwrap().1;
    let (x, y) = (array("x"), array("y"));
    let want: Vec<f32> = block(Tensor::from_data(&Device::Cpu, y.data.clone(), &y.shape).unwrap().to_f32_vec()).unwrap();
    for device in [gpu(), Device::Cpu] {
        let model = Model::from_tfjs(&file).unwrap();
        model.to_device(&device).unwrap();
        let input = Tensor::from_data(&device, x.data.clone(), &x.shape).unwrap();
        let got = block(model.call(&[input], false).unwrap()[0].to_f32_vec()).unwrap();
        assert_close(&got, &want, 1e-4, 1e-5, &format!("nested model prediction on {}", device.describe()));
    }
}
