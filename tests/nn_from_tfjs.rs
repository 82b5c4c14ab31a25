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
