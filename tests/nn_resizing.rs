//! Resizing and UpSampling2D against Keras (tests/fixtures/resize, its layer cases):
//! each case's layer is built from the config Keras wrote, run in a model on the GPU and
//! on the CPU, and its output and input gradient (loss = sum(y * proj)) compared with
//! Keras's and with each other. Also: the layers survive a TF.js topology round trip,
//! and summaries read as Keras's.

mod common;
use common::keras::{arr, cases, check, load};
use common::*;

use convbook::graph::{Tape, Var};
use convbook::nn::model::Run;
use convbook::nn::{input, Layer, LayerKind, Model};
use convbook::{Device, Tensor};
use serde_json::{json, Value};

const TOL: f64 = 1e-5;

fn model_of(class: &str, config: &Value, x_shape: &[usize]) -> Model {
    let kind = LayerKind::from_config(class, config).unwrap();
    let inputs = input(&x_shape[1..], None).unwrap();
    let outputs = Layer::new(kind, None).call(&[inputs.clone()]).unwrap();
    Model::new(&[inputs], &[outputs], None).unwrap()
}

/// Output and input gradient of the case's layer on `device`.
fn run(case: &Value, device: &Device) -> (Vec<f32>, Vec<f32>) {
    let (x, x_shape) = arr(case, "x");
    let (proj, proj_shape) = arr(case, "proj");
    let model = model_of(case["class_name"].as_str().unwrap(), &case["config"], &x_shape);
    let tape = Tape::new();
    let xv = tape.watch(&Tensor::from_f32(device, x, &x_shape).unwrap());
    let mut r = Run::new(Some(tape.clone()), true);
    let y: Var = model.run(&[xv.clone()], &mut r).unwrap().remove(0);
    assert_eq!(y.shape(), proj_shape.as_slice(), "{}: output shape", case["name"]);
    let seed = Tensor::from_f32(device, proj, &proj_shape).unwrap();
    let grads = tape.gradient(&y, &[&xv], Some(&seed)).unwrap();
    let grad_x = grads[0].clone().expect("no gradient for the input");
    (block(y.value().to_f32_vec()).unwrap(), block(grad_x.to_f32_vec()).unwrap())
}

#[test]
fn gpu_and_cpu_match_keras_forward_and_backward() {
    let file = load("resize", "resize.json");
    let layers: Vec<&Value> = cases(&file).iter().filter(|c| c["kind"] == "layer").collect();
    for case in &layers {
        let (gpu_y, gpu_grad) = run(case, &gpu());
        let (cpu_y, cpu_grad) = run(case, &Device::Cpu);
        check(case, "y (GPU)", &gpu_y, &arr(case, "y").0, TOL);
        check(case, "y (CPU)", &cpu_y, &arr(case, "y").0, TOL);
        check(case, "grad_x (GPU)", &gpu_grad, &arr(case, "grad_x").0, TOL);
        check(case, "grad_x (CPU)", &cpu_grad, &arr(case, "grad_x").0, TOL);
        assert_close(&gpu_grad, &cpu_grad, 1e-5, 1e-6, "grad_x GPU vs CPU");
    }
    let count = |class: &str| layers.iter().filter(|c| c["class_name"] == class).count();
    assert!(count("Resizing") >= 5 && count("UpSampling2D") >= 4);
}

/// A model with both layers is written as a TF.js topology and read back: same configs,
/// same prediction.
#[test]
fn layers_survive_a_tfjs_topology_round_trip() {
    let inputs = input(&[6, 9, 2], Some("image")).unwrap();
    let resizing = json!({"height": 4, "width": 4, "interpolation": "nearest", "crop_to_aspect_ratio": true});
    let x = Layer::new(LayerKind::from_config("Resizing", &resizing).unwrap(), Some("resize")).call(&[inputs.clone()]).unwrap();
    let up = json!({"size": [2, 3], "interpolation": "bilinear"});
    let y = Layer::new(LayerKind::from_config("UpSampling2D", &up).unwrap(), Some("up")).call(&[x]).unwrap();
    let model = Model::new(&[inputs], &[y], Some("resizer")).unwrap();
    let again = Model::from_topology(&model.topology()).unwrap();
    assert_eq!(again.topology(), model.topology());
    let x: Vec<f32> = (0..6 * 9 * 2).map(|i| (i as f32 * 0.37).sin()).collect();
    let predict = |m: &Model| {
        let t = Tensor::from_f32(&Device::Cpu, x.clone(), &[1, 6, 9, 2]).unwrap();
        block(m.call(&[t], false).unwrap()[0].to_f32_vec()).unwrap()
    };
    assert_eq!(predict(&again), predict(&model));
    assert_eq!(predict(&model).len(), 8 * 12 * 2);
}

/// The text Keras 3.15 prints for the same model.
#[test]
fn summary_matches_keras() {
    let inputs = input(&[32, 48, 3], Some("image")).unwrap();
    let named = |class: &str, config: Value, name: &str| Layer::new(LayerKind::from_config(class, &config).unwrap(), Some(name));
    let x = named("Resizing", json!({"height": 16, "width": 16}), "resizing").call(&[inputs.clone()]).unwrap();
    let x = named("UpSampling2D", json!({"size": [2, 3]}), "up").call(&[x]).unwrap();
    let model = Model::new(&[inputs], &[x], Some("resizer")).unwrap();
    let keras = "\
Model: \"resizer\"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ image (InputLayer)              │ (None, 32, 48, 3)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ resizing (Resizing)             │ (None, 16, 16, 3)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ up (UpSampling2D)               │ (None, 32, 48, 3)      │             0 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 0 (0.00 B)
 Trainable params: 0 (0.00 B)
 Non-trainable params: 0 (0.00 B)
";
    assert_eq!(model.summary().trim_end(), keras.trim_end());
}
