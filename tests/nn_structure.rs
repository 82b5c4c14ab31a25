//! Model structure against Keras (tests/fixtures/model_structure): several inputs and
//! outputs (per-output losses, loss weights, per-output metrics and their log names), and
//! a model used as a layer of another, frozen and then fine-tuned. Each case is one SGD
//! step: the logs and every weight after it must match Keras.

mod common;
use common::keras::{arr, cases, check_floor, load};
use common::*;

use convbook::nn::losses::Loss;
use convbook::nn::optimizers::Optimizer;
use convbook::nn::{input, sequential, KerasTensor, Layer, LayerKind, Model};
use convbook::ops::optim_update::OptimizerConfig;
use convbook::{Device, Tensor};
use serde_json::{json, Value};

fn layer(class: &str, config: Value) -> Layer {
    Layer::new(LayerKind::from_config(class, &config).unwrap(), None)
}

fn named(class: &str, config: Value, name: &str) -> Layer {
    Layer::new(LayerKind::from_config(class, &config).unwrap(), Some(name))
}

fn sgd(lr: f64) -> Optimizer {
    let mut c = OptimizerConfig::from_keras_name("sgd").unwrap();
    c.set_learning_rate(lr);
    Optimizer::new(c)
}

fn tensor(v: &Value, device: &Device) -> Tensor {
    let (data, shape) = arr(&json!({"a": v}), "a");
    Tensor::from_f32(device, data, &shape).unwrap()
}

/// Keras's fixture model: inputs "pixels" (4) and "meta" (3), outputs "digit" (softmax 3)
/// and "is_even" (sigmoid 1).
fn two_heads() -> Model {
    let a = input(&[4], Some("pixels")).unwrap();
    let b = input(&[3], Some("meta")).unwrap();
    let x = layer("Concatenate", json!({})).call(&[a.clone(), b.clone()]).unwrap();
    let x = layer("Dense", json!({"units": 5, "activation": "relu"})).call(&[x]).unwrap();
    let digit = named("Dense", json!({"units": 3, "activation": "softmax"}), "digit").call(&[x.clone()]).unwrap();
    let even = named("Dense", json!({"units": 1, "activation": "sigmoid"}), "is_even").call(&[x]).unwrap();
    Model::new(&[a, b], &[digit, even], None).unwrap()
}

/// The fixture's conv base (Conv2D, BatchNormalization, MaxPooling2D) called as a layer.
fn nested() -> (Model, Model) {
    let base = sequential(
        &[6, 6, 2],
        &[
            layer("Conv2D", json!({"filters": 3, "kernel_size": 3, "activation": "relu"})),
            layer("BatchNormalization", json!({})),
            layer("MaxPooling2D", json!({"pool_size": 2})),
        ],
        Some("conv_base"),
    )
    .unwrap();
    let inputs = input(&[6, 6, 2], None).unwrap();
    let x: KerasTensor = base.as_layer().call(&[inputs.clone()]).unwrap();
    let x = layer("Flatten", json!({})).call(&[x]).unwrap();
    let out = layer("Dense", json!({"units": 3, "activation": "softmax"})).call(&[x]).unwrap();
    (base.clone(), Model::new(&[inputs], &[out], None).unwrap())
}

/// Keras's fixture model with regression heads: "age" (1 value, mse) and "box" (2, mae).
fn regression_heads() -> Model {
    let inputs = input(&[5], Some("features")).unwrap();
    let x = layer("Dense", json!({"units": 6, "activation": "tanh"})).call(&[inputs.clone()]).unwrap();
    let age = named("Dense", json!({"units": 1}), "age").call(&[x.clone()]).unwrap();
    let boxes = named("Dense", json!({"units": 2}), "box").call(&[x]).unwrap();
    Model::new(&[inputs], &[age, boxes], None).unwrap()
}

fn run_case(case: &Value, model: &Model, device: &Device) {
    let name = case["name"].as_str().unwrap();
    let weights = model.weights();
    let before = case["weights_before"].as_array().unwrap();
    assert_eq!(weights.len(), before.len(), "{name}: weight count");
    for (w, v) in weights.iter().zip(before) {
        // Keras paths carry the nested model's name ("conv_base/conv2d/kernel").
        assert!(v["path"].as_str().unwrap().ends_with(&w.path), "{name}: {} vs Keras {}", w.path, v["path"]);
        w.set(tensor(v, &Device::Cpu)).unwrap();
    }
    assert_eq!(model.count_params(), case["total_params"].as_u64().unwrap() as usize, "{name}: total params");
    assert_eq!(model.count_trainable_params(), case["trainable_params"].as_u64().unwrap() as usize, "{name}: trainable params");

    let c = &case["compile"];
    let n = model.outputs().len();
    let losses: Vec<Loss> = match &c["loss"] {
        Value::String(s) => vec![Loss::parse(s, false).unwrap(); n],
        Value::Array(l) => l.iter().map(|s| Loss::parse(s.as_str().unwrap(), false).unwrap()).collect(),
        other => panic!("{name}: loss {other}"),
    };
    let loss_weights = c["loss_weights"].as_array().map(|l| l.iter().map(|v| v.as_f64().unwrap()).collect());
    let metrics: Vec<Vec<String>> = model
        .outputs()
        .iter()
        .map(|o| match c["metrics"].get(o.layer().name()) {
            Some(m) => m.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect(),
            None => vec![],
        })
        .collect();
    model.compile_outputs(sgd(case["learning_rate"].as_f64().unwrap()), losses, loss_weights, metrics).unwrap();
    model.to_device(device).unwrap();

    let xs: Vec<Tensor> = case["x"].as_array().unwrap().iter().map(|v| tensor(v, device)).collect();
    let sparse: Vec<bool> = match &c["loss"] {
        Value::String(s) => vec![s.contains("sparse"); n],
        Value::Array(l) => l.iter().map(|s| s.as_str().unwrap().contains("sparse")).collect(),
        _ => unreachable!(),
    };
    let ys: Vec<Tensor> = case["y"]
        .as_array()
        .unwrap()
        .iter()
        .zip(sparse)
        .map(|(v, sparse)| {
            let t = tensor(v, device);
            // Sparse labels are integers.
            if sparse { t.cast(convbook::tensor::DType::I32).unwrap() } else { t }
        })
        .collect();
    let on = device.describe();
    for (i, p) in model.call(&xs, false).unwrap().iter().enumerate() {
        let want = arr(&json!({"p": case["predictions"][i]}), "p").0;
        check_floor(case, &format!("prediction {i} on {on}"), &block(p.to_f32_vec()).unwrap(), &want, 1e-4, 1e-4);
    }
    let logs = block(model.train_step(&xs, &ys)).unwrap();
    let want = case["logs"].as_object().unwrap();
    let keys: Vec<&str> = logs.iter().map(|(k, _)| k.as_str()).collect();
    let mut want_keys: Vec<&str> = want.keys().map(String::as_str).collect();
    let mut got_keys = keys.clone();
    got_keys.sort();
    want_keys.sort();
    assert_eq!(got_keys, want_keys, "{name}: log names on {on}");
    for (k, v) in &logs {
        let w = want[k].as_f64().unwrap();
        assert!((v - w).abs() <= 1e-4 * w.abs().max(1.0), "{name}: {k} = {v} vs Keras {w} on {on}");
    }
    for (w, v) in model.weights().iter().zip(case["weights_after"].as_array().unwrap()) {
        let got = block(w.value().to_f32_vec()).unwrap();
        let want = arr(&json!({"w": v}), "w").0;
        check_floor(case, &format!("{} after one step on {on}", w.path), &got, &want, 1e-4, 1e-4);
    }
}

fn all_cases(device: &Device) {
    let file = load("model_structure", "model_structure.json");
    let find = |n: &str| cases(&file).iter().find(|c| c["name"] == n).unwrap_or_else(|| panic!("fixture case {n}"));
    run_case(find("two_inputs_two_outputs"), &two_heads(), device);
    let (base, model) = nested();
    base.set_trainable(false);
    run_case(find("nested_frozen_base"), &model, device);
    base.set_trainable(true);
    base.layers()[1].set_trainable(false);
    run_case(find("nested_fine_tune"), &model, device);
    // Built last, as in the fixture script, so the automatic names match Keras's.
    run_case(find("regression_heads"), &regression_heads(), device);
}

#[test]
fn structure_cases_match_keras_on_gpu() {
    all_cases(&gpu());
}

#[test]
fn structure_cases_match_keras_on_cpu() {
    all_cases(&Device::Cpu);
}

#[test]
fn a_nested_model_is_one_row_and_one_layer() {
    let (base, model) = nested();
    let rows = model.summary_data().rows;
    let names: Vec<(&str, &str)> = rows.iter().map(|r| (r.name.as_str(), r.class_name.as_str())).collect();
    assert_eq!(names[1], ("conv_base", "Sequential"));
    assert_eq!(rows[1].output_shape, "(None, 2, 2, 3)");
    assert_eq!(rows[1].params, base.count_params());
    assert_eq!(model.get_layer("conv_base").unwrap().as_model().map(|m| m.same(&base)), Some(true));
    // Called twice (a siamese pair), it is still one layer with one set of weights.
    let a = input(&[6, 6, 2], None).unwrap();
    let b = input(&[6, 6, 2], None).unwrap();
    let (fa, fb) = (base.as_layer().call(&[a.clone()]).unwrap(), base.as_layer().call(&[b.clone()]).unwrap());
    let joined = layer("Concatenate", json!({})).call(&[fa, fb]).unwrap();
    let pair = Model::new(&[a, b], &[joined], None).unwrap();
    assert_eq!(pair.layers().iter().filter(|l| l.name() == "conv_base").count(), 1);
    assert_eq!(pair.count_params(), base.count_params());
    // The model's flag reaches every layer inside, as Keras's setter does.
    base.set_trainable(false);
    assert!(base.layers().iter().all(|l| !l.trainable()));
    assert_eq!(pair.count_trainable_params(), 0);
    base.set_trainable(true);
    // The conv's kernel and bias, BatchNormalization's gamma and beta.
    assert_eq!(pair.count_trainable_params(), 3 * 3 * 2 * 3 + 3 + 6);
}

#[test]
fn nested_model_errors_name_the_model_and_shapes() {
    let (base, _) = nested();
    let wrong = input(&[8, 8, 5], None).unwrap();
    let e = base.as_layer().call(&[wrong]).unwrap_err().to_string();
    assert!(e.contains("conv_base") && e.contains("(None, 6, 6, 2)") && e.contains("(None, 8, 8, 5)"), "{e}");
    let model = two_heads();
    let e = model.compile(sgd(0.1), Loss::parse("binary_crossentropy", false).unwrap(), &["accuracy"]).map(|_| ());
    assert!(e.is_ok());
    let x = Tensor::from_f32(&Device::Cpu, vec![0.0; 8], &[2, 4]).unwrap();
    let e = block(model.evaluate(&Device::Cpu, &[x.clone()], &[x.clone()], 2)).unwrap_err().to_string();
    assert!(e.contains("2 input(s) (pixels, meta)") && e.contains("1 array(s)"), "{e}");
    // Accuracy needs a classification loss.
    let e = regression_heads()
        .compile_outputs(sgd(0.1), vec![Loss::parse("mse", false).unwrap(); 2], None, vec![vec!["accuracy".into()], vec![]])
        .unwrap_err()
        .to_string();
    assert!(e.contains("output \"age\" uses mean_squared_error"), "{e}");
    let heads = model.as_layer().call(&[input(&[4], None).unwrap(), input(&[3], None).unwrap()]).unwrap_err().to_string();
    assert!(heads.contains("2 outputs"), "{heads}");
}

#[test]
fn fit_and_predict_take_one_array_per_input_and_output() {
    convbook::nn::init::set_random_seed(3);
    let model = two_heads();
    model
        .compile_outputs(
            {
                let mut adam = Optimizer::from_name("adam").unwrap();
                adam.config.set_learning_rate(0.02);
                adam
            },
            vec![Loss::parse("sparse_categorical_crossentropy", false).unwrap(), Loss::parse("binary_crossentropy", false).unwrap()],
            Some(vec![1.0, 0.5]),
            vec![vec!["accuracy".into()], vec!["accuracy".into()]],
        )
        .unwrap();
    // A learnable rule: the digit is the argmax of the first three pixels; is_even of meta[0] > 0.
    let mut r = rng(9);
    let n = 96;
    let px = random_vec(&mut r, n * 4, -1.0, 1.0);
    let meta = random_vec(&mut r, n * 3, -1.0, 1.0);
    let digit: Vec<i32> = px
        .chunks(4)
        .map(|p| (0..3).max_by(|&i, &j| p[i].partial_cmp(&p[j]).unwrap()).unwrap() as i32)
        .collect();
    let even: Vec<f32> = meta.chunks(3).map(|m| if m[0] > 0.0 { 1.0 } else { 0.0 }).collect();
    let cpu = Device::Cpu;
    let xs = vec![Tensor::from_f32(&cpu, px, &[n, 4]).unwrap(), Tensor::from_f32(&cpu, meta, &[n, 3]).unwrap()];
    let ys = vec![Tensor::from_i32(&cpu, digit, &[n]).unwrap(), Tensor::from_f32(&cpu, even, &[n, 1]).unwrap()];
    let opts = convbook::nn::train::FitOptions {
        epochs: 30,
        batch_size: 16,
        validation_data: Some((xs.clone(), ys.clone())),
        ..Default::default()
    };
    let device = gpu();
    let h = block(model.fit(&device, &xs, &ys, &opts, &mut convbook::nn::train::Silent)).unwrap();
    let keys: Vec<&String> = h.history.keys().collect();
    assert_eq!(
        keys,
        [
            "digit_accuracy", "digit_loss", "is_even_accuracy", "is_even_loss", "loss",
            "val_digit_accuracy", "val_digit_loss", "val_is_even_accuracy", "val_is_even_loss", "val_loss"
        ]
    );
    let loss = &h.history["loss"];
    assert!(loss[loss.len() - 1] < loss[0] * 0.7, "loss should fall: {loss:?}");
    // "loss" is the weighted sum of the per-output losses.
    let last = |k: &str| *h.history[k].last().unwrap();
    assert!((last("val_loss") - (last("val_digit_loss") + 0.5 * last("val_is_even_loss"))).abs() < 1e-4);
    assert!(last("val_is_even_accuracy") > 0.85, "{:?}", h.history["val_is_even_accuracy"]);
    let preds = block(model.predict_in_mode(&device, &xs, 32, false)).unwrap();
    assert_eq!(preds.iter().map(|p| p.shape().to_vec()).collect::<Vec<_>>(), [vec![n, 3], vec![n, 1]]);
}
