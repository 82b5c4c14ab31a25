//! A compiled `.keras` carries its optimizer (tests/fixtures/keras_files/trained_*.keras,
//! made by make_fixtures.py --training): loading one restores the optimizer's class,
//! hyper-parameters, step count and slots, so the next training step lands on the weights
//! Keras's next step gives; our own `.keras` of a trained model carries the same state.

mod common;

use common::{block, gpu};
use convbook::io::npy::{read_npz, write_npz, NpyArray};
use convbook::nn::Model;
use convbook::{CpuData, Device, Tensor};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keras_files");
const OPTIMIZERS: [&str; 3] = ["adam", "rmsprop", "sgd"];
/// Steps Keras took before saving (make_fixtures.py's TRAINING_STEPS).
const SAVED_AFTER: usize = 3;

fn next_step() -> Vec<(String, NpyArray)> {
    read_npz(&std::fs::read(format!("{DIR}/trained_next.npz")).unwrap()).unwrap()
}

fn array<'a>(arrays: &'a [(String, NpyArray)], key: &str) -> &'a NpyArray {
    &arrays.iter().find(|(k, _)| k == key).unwrap_or_else(|| panic!("trained_next.npz has no {key}")).1
}

fn load(optimizer: &str) -> Model {
    let file = format!("trained_{optimizer}.keras");
    let bytes = std::fs::read(format!("{DIR}/{file}")).unwrap();
    Model::from_keras_bytes(&bytes, &file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// One training step on the recorded batch of `optimizer`, on `device`.
fn train_once(model: &Model, optimizer: &str, device: &Device) {
    let arrays = next_step();
    let on = |key: String| {
        let a = array(&arrays, &key);
        Tensor::from_data(device, a.data.clone(), &a.shape).unwrap()
    };
    model.to_device(device).unwrap();
    block(model.train_step(&[on(format!("{optimizer}_x"))], &[on(format!("{optimizer}_y"))])).unwrap();
}

fn weights_of(model: &Model) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    model.weights().iter().map(|w| (w.path.clone(), w.shape(), block(w.value().to_f32_vec()).unwrap())).collect()
}

fn assert_weights_match_keras(model: &Model, optimizer: &str, what: &str) {
    let arrays = next_step();
    for (path, _, got) in weights_of(model) {
        let CpuData::F32(want) = &array(&arrays, &format!("{optimizer}:{path}")).data else { panic!("{path} is not float32") };
        assert_eq!(got.len(), want.len(), "{what}: {path}");
        let worst = got.iter().zip(want).map(|(g, w)| (g - w).abs()).fold(0.0f32, f32::max);
        assert!(worst <= 1e-5, "{what}: {path} after one more step: max |ours - keras| = {worst}");
    }
}

#[test]
fn compiled_keras_archive_restores_the_optimizer() {
    for (optimizer, class) in OPTIMIZERS.iter().zip(["Adam", "RMSprop", "SGD"]) {
        let model = load(optimizer);
        assert_eq!(model.optimizer_iterations(), Some(SAVED_AFTER), "{optimizer}: steps taken");
        let config = model.training_config().unwrap_or_else(|| panic!("trained_{optimizer}.keras: not compiled"));
        assert_eq!(config["optimizer_config"]["class_name"], class, "{optimizer}");
        assert_eq!(config["loss"], "categorical_crossentropy", "{optimizer}");
        assert_eq!(config["metrics"], serde_json::json!(["accuracy"]), "{optimizer}");
        let options = &config["optimizer_config"]["config"];
        let lr = options["learning_rate"].as_f64().unwrap();
        let want_lr = if *optimizer == "sgd" { 0.1 } else { 0.01 };
        assert!((lr - want_lr).abs() < 1e-7, "{optimizer}: learning rate {lr}");
        match *optimizer {
            "rmsprop" => assert!(options["centered"] == true && options["momentum"] == 0.5, "{options}"),
            "sgd" => assert!(options["nesterov"] == true && options["momentum"] == 0.9, "{options}"),
            _ => {}
        }
    }
}

#[test]
fn next_training_step_after_loading_matches_kerass_on_cpu_and_gpu() {
    for optimizer in OPTIMIZERS {
        for device in [Device::Cpu, gpu()] {
            // Loaded on the CPU, as a notebook does, then trained where the test says:
            // the restored slots follow the weights to the GPU.
            let model = load(optimizer);
            train_once(&model, optimizer, &device);
            assert_eq!(model.optimizer_iterations(), Some(SAVED_AFTER + 1));
            assert_weights_match_keras(&model, optimizer, &format!("trained_{optimizer}.keras on {device:?}"));
        }
    }
}

#[test]
fn without_its_state_the_next_step_differs() {
    // The check above can fail: the same file with the optimizer starting fresh (its
    // weights only) lands elsewhere.
    let model = load("adam");
    let optimizer = convbook::nn::optimizers::Optimizer::from_name("adam").unwrap();
    let loss = convbook::nn::losses::Loss::parse("categorical_crossentropy", false).unwrap();
    let mut fresh = optimizer;
    fresh.config.set_learning_rate(0.01);
    model.compile(fresh, loss, &["accuracy"]).unwrap();
    train_once(&model, "adam", &Device::Cpu);
    let arrays = next_step();
    let differs = weights_of(&model).into_iter().any(|(path, _, got)| {
        let CpuData::F32(want) = &array(&arrays, &format!("adam:{path}")).data else { return false };
        got.iter().zip(want).any(|(g, w)| (g - w).abs() > 1e-4)
    });
    assert!(differs, "a fresh Adam reached Keras's weights: the state check proves nothing");
}

/// Our `.keras` of a trained model carries its optimizer state: loaded back, the next step
/// is the step the model in memory takes. The file and the weights after that step are left
/// in the target directory for make_fixtures.py --check-training (Keras continues training
/// from our file and must reach the same weights).
#[test]
fn our_keras_archive_carries_the_optimizer_state() {
    for optimizer in OPTIMIZERS {
        let model = load(optimizer);
        train_once(&model, optimizer, &Device::Cpu);
        let written = block(model.to_keras()).unwrap();
        let again = Model::from_keras_bytes(&written, "ours.keras").unwrap();
        assert_eq!(again.training_config(), model.training_config(), "{optimizer}");
        assert_eq!(again.optimizer_iterations(), Some(SAVED_AFTER + 1), "{optimizer}");
        train_once(&model, optimizer, &Device::Cpu);
        train_once(&again, optimizer, &Device::Cpu);
        let (ours, reloaded) = (weights_of(&model), weights_of(&again));
        assert_eq!(ours, reloaded, "{optimizer}: the reloaded model's next step differs from the original's");

        let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("convbook_trained_{optimizer}.keras"));
        std::fs::write(&out, &written).unwrap();
        let data: Vec<(String, Vec<usize>, CpuData)> = ours.into_iter().map(|(p, s, v)| (p, s, CpuData::F32(v))).collect();
        let entries: Vec<(&str, &CpuData, &[usize])> = data.iter().map(|(p, s, v)| (p.as_str(), v, s.as_slice())).collect();
        std::fs::write(out.with_extension("npz"), write_npz(&entries).unwrap()).unwrap();
    }
}
