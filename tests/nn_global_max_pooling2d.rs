//! GlobalMaxPooling2D against Keras (tests/fixtures/global_max_pooling2d): each case's
//! layer is built from the config Keras wrote, run in a model on the GPU and on the CPU,
//! and its output and input gradient (loss = sum(y * proj)) compared with Keras's and
//! with each other.

mod common;
use common::keras::{arr, cases, check, load};
use common::*;

use convbook::graph::{Tape, Var};
use convbook::nn::model::Run;
use convbook::nn::{input, Layer, LayerKind, Model};
use convbook::{Device, Tensor};
use serde_json::Value;

const TOL: f64 = 1e-6;

/// Output and input gradient of the case's layer on `device`.
fn run(case: &Value, device: &Device) -> (Vec<f32>, Vec<f32>) {
    let (x, x_shape) = arr(case, "x");
    let (proj, proj_shape) = arr(case, "proj");
    let kind = LayerKind::from_config("GlobalMaxPooling2D", &case["config"]).unwrap();
    let inputs = input(&x_shape[1..], None).unwrap();
    let outputs = Layer::new(kind, None).call(&[inputs.clone()]).unwrap();
    let model = Model::new(&[inputs], &[outputs], None).unwrap();

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
    let file = load("global_max_pooling2d", "global_max_pooling2d.json");
    for case in cases(&file) {
        let (gpu_y, gpu_grad) = run(case, &gpu());
        let (cpu_y, cpu_grad) = run(case, &Device::Cpu);
        check(case, "y (GPU)", &gpu_y, &arr(case, "y").0, TOL);
        check(case, "y (CPU)", &cpu_y, &arr(case, "y").0, TOL);
        check(case, "grad_x (GPU)", &gpu_grad, &arr(case, "grad_x").0, TOL);
        check(case, "grad_x (CPU)", &cpu_grad, &arr(case, "grad_x").0, TOL);
        assert_close(&gpu_grad, &cpu_grad, 1e-6, 0.0, "grad_x GPU vs CPU");
    }
    assert!(cases(&file).len() >= 5);
}
