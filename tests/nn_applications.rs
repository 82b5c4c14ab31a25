//! keras.applications against Keras 3.15 (tests/fixtures/applications/make_fixture.py):
//! every layer's name, class, output shape and parameter count, model names and totals,
//! and a forward pass with Keras's weights.

use std::time::Instant;

mod common;
use common::block;

use convbook::device::Device;
use convbook::nn::applications::{self, AppArgs, Pooling};
use convbook::nn::Model;
use convbook::tensor::Tensor;
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/applications");

fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DIR}/{name}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn dims(v: &Value) -> String {
    let parts: Vec<String> = v.as_array().unwrap().iter().map(|d| d.as_u64().map_or("None".into(), |x| x.to_string())).collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

/// Without a top and an input_shape Keras leaves the spatial size open (None); ours
/// takes the family's default size, so an open Keras dimension (after the batch) matches any.
fn same_shape(ours: &str, keras: &Value) -> bool {
    let open: Vec<Value> = keras.as_array().unwrap().iter().enumerate().map(|(i, d)| if i > 0 && d.is_null() { Value::Null } else { d.clone() }).collect();
    if !open.iter().skip(1).any(Value::is_null) {
        return ours == dims(keras);
    }
    let parts: Vec<&str> = ours.trim_matches(|c| c == '(' || c == ')').split(", ").collect();
    parts.len() == open.len()
        && parts.iter().zip(&open).enumerate().all(|(i, (p, k))| (i > 0 && k.is_null()) || *p == k.as_u64().map_or("None".into(), |x| x.to_string()))
}

/// Layer-by-layer comparison with one fixture record.
fn assert_matches_keras(model: &Model, keras: &Value) {
    let summary = model.summary_data();
    assert_eq!(summary.name, keras["name"].as_str().unwrap());
    let want = keras["layers"].as_array().unwrap();
    // Rows come in Keras's order (by graph depth, so parallel branches interleave).
    let mut names: Vec<&str> = summary.rows.iter().map(|r| r.name.as_str()).collect();
    let mut want_names: Vec<&str> = want.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, want_names, "{}: layer order", summary.name);
    names.sort_unstable();
    want_names.sort_unstable();
    assert_eq!(names, want_names, "{}: layer names", summary.name);
    for k in want {
        let row = summary.rows.iter().find(|r| r.name == k["name"].as_str().unwrap()).unwrap();
        assert_eq!(row.class_name, k["class_name"].as_str().unwrap(), "{}", row.name);
        assert!(same_shape(&row.output_shape, &k["output_shape"]), "{}: {} vs Keras {}", row.name, row.output_shape, k["output_shape"]);
        assert_eq!(row.params as u64, k["params"].as_u64().unwrap(), "{}", row.name);
    }
    assert_eq!(model.count_params() as u64, keras["count_params"].as_u64().unwrap(), "{}", summary.name);
}

fn args(include_top: bool) -> AppArgs {
    AppArgs { include_top, ..AppArgs::default() }
}

#[test]
fn every_application_matches_keras_layer_by_layer() {
    let structure = fixture("structure.json");
    for name in applications::NAMES {
        for top in [true, false] {
            let key = if top { name.to_string() } else { format!("{name}_notop") };
            let start = Instant::now();
            let model = applications::build(name, &args(top)).unwrap();
            assert_matches_keras(&model, &structure[&key]);
            eprintln!("{key}: {:?}", start.elapsed());
        }
    }
}

#[test]
fn alpha_input_size_and_pooling_variants_match_keras() {
    let structure = fixture("structure.json");
    let mobilenet = AppArgs { include_top: false, alpha: 0.35, input_shape: Some(vec![96, 96, 3]), ..AppArgs::default() };
    assert_matches_keras(&applications::build("MobileNetV2", &mobilenet).unwrap(), &structure["MobileNetV2_0.35_96_notop"]);
    let resnet = AppArgs { include_top: false, pooling: Some(Pooling::Max), input_shape: Some(vec![64, 64, 3]), ..AppArgs::default() };
    assert_matches_keras(&applications::build("ResNet50", &resnet).unwrap(), &structure["ResNet50_64_maxpool"]);
}

#[test]
fn arguments_are_checked_as_keras_does() {
    let err = |name: &str, a: AppArgs| applications::build(name, &a).err().unwrap().to_string();
    let small = AppArgs { input_shape: Some(vec![70, 70, 3]), ..AppArgs::default() };
    assert!(err("Xception", small).contains("at least 71x71"));
    let gray = AppArgs { input_shape: Some(vec![224, 224, 1]), ..AppArgs::default() };
    assert!(err("VGG16", gray).contains("(height, width, 3)"));
    let imagenet = AppArgs { weights: Some("imagenet".into()), ..AppArgs::default() };
    assert!(err("ResNet50", imagenet).contains("loadWeights"));
    assert!(err("ResNet18", AppArgs::default()).contains("unknown application"));
    let opts = serde_json::json!({"includeTop": false, "inputShape": [96, 96, 3], "alpha": 0.35, "pooling": "avg"});
    let parsed = AppArgs::from_options("MobileNetV2", &opts).unwrap();
    assert!(!parsed.include_top && parsed.pooling == Some(Pooling::Avg) && parsed.alpha == 0.35);
    let typo = serde_json::json!({"includeTops": false});
    assert!(AppArgs::from_options("MobileNetV2", &typo).unwrap_err().to_string().contains("include"));
}

/// Keras's weights (by layer name) and output for a fixed input.
fn check_numeric(stem: &str, name: &str, a: AppArgs, device: &Device) {
    let record = fixture(&format!("{stem}.json"));
    let bytes = std::fs::read(format!("{DIR}/{stem}.bin")).unwrap();
    let floats: Vec<f32> = bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let model = applications::build(name, &a).unwrap();
    assert_eq!(model.name(), record["model"].as_str().unwrap());
    let mut at = 0;
    for layer in record["layers"].as_array().unwrap() {
        let ours = model.get_layer(layer["name"].as_str().unwrap()).unwrap().weights();
        let shapes = layer["shapes"].as_array().unwrap();
        assert_eq!(ours.len(), shapes.len(), "{}", layer["name"]);
        for (w, shape) in ours.iter().zip(shapes) {
            let shape: Vec<usize> = shape.as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
            let n: usize = shape.iter().product();
            w.set(Tensor::from_f32(&Device::cpu(), floats[at..at + n].to_vec(), &shape).unwrap()).unwrap();
            at += n;
        }
    }
    assert_eq!(at, floats.len());
    model.to_device(device).unwrap();
    let input: Vec<f32> = record["input"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
    let mut shape = vec![1];
    shape.extend(record["input_shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize));
    let x = Tensor::from_f32(device, input, &shape).unwrap();
    let y = model.call(&[x], false).unwrap().remove(0);
    let want: Vec<f64> = record["output"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let got = block(y.to_data()).unwrap().to_f64();
    assert_eq!(got.len(), want.len());
    let worst = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-4, "{stem}: max abs difference {worst}");
}

#[test]
fn mobilenet_v2_alpha_035_predicts_as_keras_on_cpu() {
    let a = AppArgs { include_top: false, alpha: 0.35, input_shape: Some(vec![32, 32, 3]), ..AppArgs::default() };
    check_numeric("mobilenetv2_0.35_32", "MobileNetV2", a, &Device::cpu());
}
