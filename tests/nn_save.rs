//! Saving: a model written as a TF.js layers-format file (topology + weights) loads back
//! as the same model: same layers, summary and trainable flags, same predictions.

mod common;
use common::*;

use convbook::io::tfjs::TfjsModel;
use convbook::nn::{input, sequential, KerasTensor, Layer, LayerKind, Model};
use convbook::{Device, Tensor};
use serde_json::{json, Value};

fn layer(class: &str, config: Value) -> Layer {
    Layer::new(LayerKind::from_config(class, &config).unwrap(), None)
}

fn apply(class: &str, config: Value, x: &KerasTensor) -> KerasTensor {
    layer(class, config).call(&[x.clone()]).unwrap()
}

/// Every layer type of the seed chapters, a nested augmentation Sequential, a frozen
/// layer, and a layer shared with another model (its node numbers must be renumbered).
fn kitchen_sink() -> Model {
    let augment = sequential(
        &[12, 12, 3],
        &[
            layer("RandomFlip", json!({"mode": "horizontal"})),
            layer("RandomRotation", json!({"factor": 0.1})),
            layer("RandomZoom", json!({"height_factor": 0.2})),
        ],
        Some("augment"),
    )
    .unwrap();
    let shared = layer("Conv2D", json!({"filters": 4, "kernel_size": 1}));
    // An unrelated model that calls `shared` first: node 0 of it is not in the saved model.
    let other = input(&[5, 5, 6], None).unwrap();
    shared.call(&[other]).unwrap();

    let inputs = input(&[12, 12, 3], Some("image")).unwrap();
    let mut x = augment.as_layer().call(&[inputs.clone()]).unwrap();
    x = apply("Rescaling", json!({"scale": 1.0 / 255.0, "offset": -0.5}), &x);
    x = apply("ZeroPadding2D", json!({"padding": 1}), &x);
    x = apply("Conv2D", json!({"filters": 6, "kernel_size": 3, "strides": 2, "padding": "same", "use_bias": false}), &x);
    x = apply("BatchNormalization", json!({"momentum": 0.9}), &x);
    x = apply("ReLU", json!({"max_value": 6.0}), &x);
    let a = apply("SeparableConv2D", json!({"filters": 3, "kernel_size": 3, "padding": "same", "activation": "relu"}), &x);
    let b = apply("DepthwiseConv2D", json!({"kernel_size": 3, "padding": "same", "depth_multiplier": 1}), &x);
    let b = shared.call(&[b]).unwrap();
    let b = apply("Conv2D", json!({"filters": 3, "kernel_size": 1}), &b);
    x = layer("Add", json!({})).call(&[a.clone(), b]).unwrap();
    x = layer("Concatenate", json!({})).call(&[x, a]).unwrap();
    x = apply("Conv2DTranspose", json!({"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}), &x);
    let pooled = apply("MaxPooling2D", json!({"pool_size": 2}), &x);
    x = apply("AveragePooling2D", json!({"pool_size": 2, "strides": 1, "padding": "same"}), &pooled);
    let frozen = layer("Conv2D", json!({"filters": 5, "kernel_size": 2, "activation": "tanh"}));
    frozen.set_trainable(false);
    x = frozen.call(&[x]).unwrap();
    let g = apply("GlobalAveragePooling2D", json!({}), &x);
    let f = apply("Flatten", json!({}), &x);
    let f = apply("Dropout", json!({"rate": 0.3}), &f);
    let f = apply("Dense", json!({"units": 4, "activation": "sigmoid"}), &f);
    let out = layer("Concatenate", json!({})).call(&[g, f]).unwrap();
    let out = apply("Activation", json!({"activation": "softmax"}), &out);
    Model::new(&[inputs], &[out], Some("kitchen_sink")).unwrap()
}

fn round_trip(model: &Model) -> Model {
    let file = block(model.to_tfjs()).unwrap();
    let (json_text, shards) = file.to_parts();
    let read = TfjsModel::from_parts(&json_text, |name| {
        Ok(shards.iter().find(|(n, _)| n == name).map(|(_, b)| b.clone()).expect("shard"))
    })
    .unwrap();
    Model::from_tfjs(&read).unwrap_or_else(|e| panic!("{e}\n{json_text}"))
}

/// Weights that are not their initial values (BatchNormalization statistics included).
fn set_distinct_weights(model: &Model) {
    for (i, w) in model.weights().iter().enumerate() {
        let n: usize = w.shape().iter().product();
        let values: Vec<f32> = (0..n).map(|j| 0.5 + 0.3 * ((i * 31 + j * 7) as f32).sin()).collect();
        w.set(Tensor::from_f32(&Device::Cpu, values, &w.shape()).unwrap()).unwrap();
    }
}

fn predict(model: &Model, x: &Tensor, device: &Device) -> Vec<f32> {
    // From the GPU back to the CPU too (the weights are read back).
    block(model.move_to(device)).unwrap();
    let x = block(x.to_device(device)).unwrap();
    block(model.call(&[x], false).unwrap()[0].to_f32_vec()).unwrap()
}

#[test]
fn every_seed_layer_type_survives_a_save_and_load() {
    convbook::nn::init::set_random_seed(12);
    let model = kitchen_sink();
    set_distinct_weights(&model);
    let loaded = round_trip(&model);
    // Rows, not the text: the shared conv's call here is its second (conv2d[1][0]) in the
    // original and its first in the file.
    let rows = |m: &Model| m.summary_data().rows.iter().map(|r| (r.name.clone(), r.class_name.clone(), r.output_shape.clone())).collect::<Vec<_>>();
    assert_eq!(rows(&loaded), rows(&model));
    assert_eq!(loaded.count_params(), model.count_params());
    assert_eq!(loaded.count_trainable_params(), model.count_trainable_params());
    assert!(loaded.count_trainable_params() < loaded.count_params(), "the frozen conv stays frozen");
    assert_eq!(loaded.get_layer("augment").unwrap().class_name(), "Sequential");
    let x = Tensor::from_f32(&Device::Cpu, random_vec(&mut rng(4), 2 * 12 * 12 * 3, 0.0, 255.0), &[2, 12, 12, 3]).unwrap();
    for device in [gpu(), Device::Cpu] {
        let want = predict(&model, &x, &device);
        let got = predict(&loaded, &x, &device);
        assert_close(&got, &want, 1e-5, 1e-6, &format!("reloaded model on {}", device.describe()));
    }
}

/// The same model through a Keras 3 `.keras` archive (what `model.save("x.keras")` and
/// ModelCheckpoint("x.keras") write in the notebook).
#[test]
fn every_seed_layer_type_survives_a_keras_archive() {
    convbook::nn::init::set_random_seed(12);
    let model = kitchen_sink();
    set_distinct_weights(&model);
    let written = block(model.to_keras()).unwrap();
    let loaded = Model::from_keras_bytes(&written, "kitchen_sink.keras").unwrap_or_else(|e| panic!("{e}"));
    // Nested models are written as Functional (see nn::to_keras); every other row is the same.
    let rows = |m: &Model| {
        let rows = m.summary_data().rows.into_iter();
        rows.map(|r| (r.name, r.class_name.replace("Sequential", "Functional"), r.output_shape)).collect::<Vec<_>>()
    };
    assert_eq!(rows(&loaded), rows(&model));
    assert_eq!(loaded.count_params(), model.count_params());
    assert_eq!(loaded.count_trainable_params(), model.count_trainable_params());
    let x = Tensor::from_f32(&Device::Cpu, random_vec(&mut rng(4), 2 * 12 * 12 * 3, 0.0, 255.0), &[2, 12, 12, 3]).unwrap();
    for device in [gpu(), Device::Cpu] {
        let want = predict(&model, &x, &device);
        let got = predict(&loaded, &x, &device);
        assert_close(&got, &want, 1e-5, 1e-6, &format!("model from its .keras on {}", device.describe()));
    }
}

#[test]
fn a_sequential_saves_as_a_sequential() {
    let model = sequential(
        &[6],
        &[layer("Dense", json!({"units": 4, "activation": "relu"})), layer("Dense", json!({"units": 2}))],
        Some("seq"),
    )
    .unwrap();
    let file = block(model.to_tfjs()).unwrap();
    let topology = file.topology().to_json();
    assert_eq!(topology["class_name"], "Sequential");
    let loaded = round_trip(&model);
    assert_eq!(loaded.class_name(), "Sequential");
    assert_eq!(loaded.summary(), model.summary());
}

#[test]
fn checkpoint_paths_are_formatted_as_keras_does() {
    use convbook::nn::train::checkpoint_path;
    assert_eq!(checkpoint_path("ckpt/best", 3), "ckpt/best");
    assert_eq!(checkpoint_path("ckpt/epoch_{epoch:02d}", 3), "ckpt/epoch_03");
    assert_eq!(checkpoint_path("e{epoch}-{epoch:03d}", 12), "e12-012");
}

/// ModelCheckpoint(filepath, save_best_only) writes the best epoch by val_loss; the folder
/// loads back as that epoch's model.
#[test]
fn model_checkpoint_writes_the_best_epoch_to_a_folder() {
    use convbook::nn::losses::Loss;
    use convbook::nn::optimizers::Optimizer;
    use convbook::nn::train::{Callback, FitOptions, ModelCheckpoint, Silent};
    convbook::nn::init::set_random_seed(5);
    let inputs = input(&[6], None).unwrap();
    let h = apply("Dense", json!({"units": 8, "activation": "relu"}), &inputs);
    let out = apply("Dense", json!({"units": 3, "activation": "softmax"}), &h);
    let model = Model::new(&[inputs], &[out], None).unwrap();
    let mut sgd = Optimizer::from_name("sgd").unwrap();
    sgd.config.set_learning_rate(0.5);
    model.compile(sgd, Loss::parse("sparse_categorical_crossentropy", false).unwrap(), &[]).unwrap();
    let cpu = Device::Cpu;
    let x = Tensor::from_f32(&cpu, random_vec(&mut rng(1), 40 * 6, -1.0, 1.0), &[40, 6]).unwrap();
    let y = Tensor::from_i32(&cpu, (0..40).map(|i| i % 3).collect(), &[40]).unwrap();
    let dir = std::env::temp_dir().join(format!("convbook-ckpt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let best_dir = dir.join("best");
    let opts = FitOptions {
        epochs: 6,
        batch_size: 8,
        validation_data: Some((vec![x.clone()], vec![y.clone()])),
        callbacks: vec![
            Callback::ModelCheckpoint(ModelCheckpoint {
                monitor: "val_loss".into(),
                save_best_only: true,
                filepath: Some(best_dir.to_string_lossy().into_owned()),
            }),
            Callback::ModelCheckpoint(ModelCheckpoint {
                monitor: "val_loss".into(),
                save_best_only: false,
                filepath: Some(dir.join("epoch_{epoch:02d}").to_string_lossy().into_owned()),
            }),
        ],
        ..Default::default()
    };
    let history = block(model.fit(&gpu(), &[x.clone()], &[y.clone()], &opts, &mut Silent)).unwrap();
    let val = &history.history["val_loss"];
    let best_value = val.iter().cloned().fold(f64::INFINITY, f64::min);
    for e in 1..=6 {
        assert!(dir.join(format!("epoch_{e:02}/model.json")).exists(), "epoch {e} was saved");
    }
    // Compiled as saved (Keras's load_model): evaluate works at once.
    let loaded = Model::from_tfjs(&TfjsModel::load(best_dir.join("model.json")).unwrap()).unwrap();
    let got = block(loaded.evaluate(&cpu, &[x], &[y], 40)).unwrap()["loss"];
    assert!((got - best_value).abs() < 1e-4, "checkpoint loss {got} vs best val_loss {best_value} in {val:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compile_settings_are_saved_and_restored() {
    use convbook::nn::losses::Loss;
    use convbook::nn::optimizers::Optimizer;
    let a = input(&[4], Some("a")).unwrap();
    let h = apply("Dense", json!({"units": 5, "activation": "relu"}), &a);
    let p = Layer::new(LayerKind::from_config("Dense", &json!({"units": 3})).unwrap(), Some("logits")).call(&[h.clone()]).unwrap();
    let q = Layer::new(LayerKind::from_config("Dense", &json!({"units": 1, "activation": "sigmoid"})).unwrap(), Some("flag")).call(&[h]).unwrap();
    let model = Model::new(&[a], &[p, q], None).unwrap();
    let mut adam = Optimizer::from_name("adam").unwrap();
    adam.config.set_learning_rate(0.003);
    model
        .compile_outputs(
            adam,
            vec![Loss::parse("sparse_categorical_crossentropy", true).unwrap(), Loss::parse("binary_crossentropy", false).unwrap()],
            Some(vec![1.0, 0.25]),
            vec![vec!["accuracy".into()], vec![]],
        )
        .unwrap();
    let saved = model.training_config().unwrap();
    assert_eq!(saved["optimizer_config"]["class_name"], "Adam");
    assert_eq!(saved["optimizer_config"]["config"]["learning_rate"], 0.003);
    assert_eq!(saved["loss"]["logits"]["config"]["from_logits"], true);
    assert_eq!(saved["loss_weights"]["flag"], 0.25);
    let loaded = round_trip(&model);
    assert_eq!(loaded.training_config(), Some(saved));
    // Uncompiled models save none, and load uncompiled.
    let plain = sequential(&[3], &[layer("Dense", json!({"units": 2}))], None).unwrap();
    assert!(block(plain.to_tfjs()).unwrap().training_config.is_none());
    let e = block(round_trip(&plain).evaluate(&Device::Cpu, &[], &[], 1)).unwrap_err().to_string();
    assert!(e.contains("must be compiled"), "{e}");
}
