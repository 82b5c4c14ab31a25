//! Keras's one-batch entry points: `train_on_batch` is one `fit` step on the whole
//! batch, `test_on_batch` is `evaluate` on it, `predict_on_batch` is `predict`; errors
//! name the model and the shapes.

mod common;
use common::*;

use convbook::nn::train::{FitOptions, Silent};
use convbook::nn::{input, Layer, LayerKind, Model};
use convbook::{Device, Tensor};
use serde_json::json;

/// A small classifier with the same seeded weights each time it is built.
fn model() -> Model {
    let x = input(&[6], None).unwrap();
    let dense = |units: usize, activation: &str| Layer::new(LayerKind::from_config("Dense", &json!({"units": units, "activation": activation})).unwrap(), None);
    let h = dense(5, "relu").call(&[x.clone()]).unwrap();
    let y = dense(3, "softmax").call(&[h]).unwrap();
    let m = Model::new(&[x], &[y], Some("tiny")).unwrap();
    let mut r = rng(3);
    for w in m.weights() {
        let n = w.shape().iter().product();
        w.set(Tensor::from_f32(&Device::Cpu, random_vec(&mut r, n, -0.6, 0.6), &w.shape()).unwrap()).unwrap();
    }
    m.compile_with_options(&json!({"optimizer": "sgd", "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]})).unwrap();
    m
}

fn data(device: &Device) -> (Tensor, Tensor) {
    let mut r = rng(9);
    let x = Tensor::from_f32(device, random_vec(&mut r, 8 * 6, -1.0, 1.0), &[8, 6]).unwrap();
    let y = Tensor::from_i32(device, vec![0, 1, 2, 0, 1, 2, 2, 1], &[8]).unwrap();
    (x, y)
}

async fn weights_of(m: &Model) -> Vec<f32> {
    let mut out = vec![];
    for w in m.weights() {
        out.extend(w.value().to_f32_vec().await.unwrap());
    }
    out
}

fn check_on(device: &Device) {
    let on = device.describe();
    let (x, y) = data(device);
    let (a, b) = (model(), model());
    // test_on_batch is evaluate over the batch, and changes nothing.
    let tested = block(a.test_on_batch(device, &[x.clone()], &[y.clone()])).unwrap();
    let evaluated = block(a.evaluate(device, &[x.clone()], &[y.clone()], 8)).unwrap();
    assert_eq!(tested.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["loss", "accuracy"], "{on}: loss first, as Keras");
    for (k, v) in &tested {
        assert!((v - evaluated[k]).abs() < 1e-6, "{on}: test_on_batch {k} {v} vs evaluate {}", evaluated[k]);
    }
    // train_on_batch is one fit step on the whole batch, in the same order.
    let trained = block(a.train_on_batch(device, &[x.clone()], &[y.clone()])).unwrap();
    let opts = FitOptions { batch_size: 8, shuffle: false, ..Default::default() };
    let history = block(b.fit(device, &[x.clone()], &[y.clone()], &opts, &mut Silent)).unwrap();
    assert!((trained[0].1 - tested[0].1).abs() < 1e-6, "{on}: the loss is the one before the update");
    assert!((trained[0].1 - history.history["loss"][0]).abs() < 1e-6, "{on}: train_on_batch {trained:?} vs fit {:?}", history.history);
    let (wa, wb) = (block(weights_of(&a)), block(weights_of(&b)));
    assert_close(&wa, &wb, 1e-6, 1e-7, &format!("{on}: weights after train_on_batch vs fit"));
    let after = block(a.test_on_batch(device, &[x.clone()], &[y.clone()])).unwrap();
    assert!(after[0].1 < tested[0].1, "{on}: one SGD step lowers the loss: {tested:?} -> {after:?}");
    // predict_on_batch is predict over the batch.
    let p = block(a.predict_on_batch(device, &[x.clone()])).unwrap().remove(0);
    assert!(p.device().same(device), "{on}: predict_on_batch leaves the outputs on the device");
    let q = block(a.predict(device, &x, 3)).unwrap();
    assert_close(&block(p.to_f32_vec()).unwrap(), &block(q.to_f32_vec()).unwrap(), 1e-6, 1e-7, &format!("{on}: predict_on_batch vs predict"));
}

#[test]
fn on_batch_methods_match_fit_evaluate_and_predict_on_cpu() {
    check_on(&Device::Cpu);
}

#[test]
fn on_batch_methods_match_fit_evaluate_and_predict_on_gpu() {
    check_on(&gpu());
}

#[test]
fn on_batch_errors_name_the_model_and_the_shapes() {
    let m = model();
    let (x, y) = data(&Device::Cpu);
    let err = block(m.train_on_batch(&Device::Cpu, &[x.clone(), x.clone()], &[y.clone()])).unwrap_err().to_string();
    assert!(err.contains("train_on_batch") && err.contains("\"tiny\"") && err.contains("1 input"), "{err}");
    let wide = Tensor::from_f32(&Device::Cpu, vec![0.0; 8 * 7], &[8, 7]).unwrap();
    let err = block(m.test_on_batch(&Device::Cpu, &[wide.clone()], &[y.clone()])).unwrap_err().to_string();
    assert!(err.contains("\"tiny\"") && err.contains("(None, 6)") && err.contains("(8, 7)"), "{err}");
    let err = block(m.predict_on_batch(&Device::Cpu, &[wide])).unwrap_err().to_string();
    assert!(err.contains("\"tiny\"") && err.contains("(8, 7)"), "{err}");
    let short = Tensor::from_i32(&Device::Cpu, vec![0; 5], &[5]).unwrap();
    let err = block(m.train_on_batch(&Device::Cpu, &[x], &[short])).unwrap_err().to_string();
    assert!(err.contains("train_on_batch: model \"tiny\"") && err.contains("int32 (5)") && err.contains("has 8"), "{err}");
    let fresh = Model::new(&m.inputs().to_vec(), &m.outputs().to_vec(), Some("uncompiled")).unwrap();
    let (x, y) = data(&Device::Cpu);
    assert!(block(fresh.train_on_batch(&Device::Cpu, &[x], &[y])).is_err());
}
