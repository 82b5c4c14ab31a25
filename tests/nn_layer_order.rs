//! `model.layers` and summary rows of functional models follow Keras's order (by depth in
//! the graph, then by the walk from the outputs), whatever order the layers were created
//! in (tests/fixtures/layer_order/make_fixture.py records Keras 3's `model.layers`).

use std::collections::HashMap;

use convbook::nn::{input, KerasTensor, Layer, LayerKind, Model};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/layer_order/layer_order.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

/// The case's model, its layers created in the fixture's (creation) order.
fn build(case: &Value) -> Model {
    let mut made: HashMap<String, Layer> = HashMap::new();
    for spec in case["layers"].as_array().unwrap() {
        let name = spec["name"].as_str().unwrap();
        let kind = LayerKind::from_config(spec["class"].as_str().unwrap(), &spec["config"]).unwrap();
        made.insert(name.to_string(), Layer::new(kind, Some(name)));
    }
    let mut tensors: HashMap<String, KerasTensor> = HashMap::new();
    let mut inputs = Vec::new();
    for i in case["inputs"].as_array().unwrap() {
        let name = i[0].as_str().unwrap();
        let shape: Vec<usize> = i[1].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
        let t = input(&shape, Some(name)).unwrap();
        inputs.push(t.clone());
        tensors.insert(name.to_string(), t);
    }
    for call in case["calls"].as_array().unwrap() {
        let args: Vec<KerasTensor> = strings(&call[2]).iter().map(|a| tensors[a].clone()).collect();
        let out = made[call[1].as_str().unwrap()].call(&args).unwrap();
        tensors.insert(call[0].as_str().unwrap().to_string(), out);
    }
    let outputs: Vec<KerasTensor> = strings(&case["outputs"]).iter().map(|o| tensors[o].clone()).collect();
    Model::new(&inputs, &outputs, None).unwrap()
}

#[test]
fn model_layers_follow_keras_order() {
    let cases = fixture()["cases"].as_array().unwrap().clone();
    assert!(cases.len() >= 6);
    for case in &cases {
        let model = build(case);
        let want = strings(&case["keras_layers"]);
        let got: Vec<String> = model.layers().iter().map(|l| l.name().to_string()).collect();
        assert_eq!(got, want, "{}: model.layers", case["name"]);
    }
}

#[test]
fn summary_rows_follow_keras_order() {
    for case in fixture()["cases"].as_array().unwrap() {
        let model = build(case);
        let mut want = strings(&case["keras_layers"]);
        let rows: Vec<String> = model.summary_data().rows.iter().map(|r| r.name.clone()).collect();
        // A shared layer has one row per call, next to each other.
        want = want.into_iter().flat_map(|n| vec![n.clone(); rows.iter().filter(|r| **r == n).count().max(1)]).collect();
        assert_eq!(rows, want, "{}: summary rows", case["name"]);
    }
}
