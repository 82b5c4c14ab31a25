//! Compile ahead (`Model::warm_up`): the dry pass on one zero sample compiles, on the
//! GPU, the pipelines the first training step needs, and changes nothing it reads.

mod common;
use common::*;

use convbook::nn::init::{initialize, set_random_seed, Initializer};
use convbook::nn::losses::Loss;
use convbook::nn::optimizers::Optimizer;
use convbook::nn::{input, Layer, LayerKind, Model};
use convbook::ops::optim_update::OptimizerConfig;
use convbook::{Device, Tensor};
use serde_json::{json, Value};

fn layer(class: &str, config: Value) -> Layer {
    Layer::new(LayerKind::from_config(class, &config).unwrap(), None)
}

/// A small 8.1-style convnet with the layers whose state a pass could touch: batch
/// normalization (moving statistics) and dropout (randomness).
fn convnet() -> Model {
    let x = input(&[8, 8, 1], None).unwrap();
    let chain = [
        layer("Conv2D", json!({"filters": 8, "kernel_size": 3, "activation": "relu"})),
        layer("BatchNormalization", json!({})),
        layer("MaxPooling2D", json!({"pool_size": 2})),
        layer("Flatten", json!({})),
        layer("Dropout", json!({"rate": 0.5})),
        layer("Dense", json!({"units": 3, "activation": "softmax"})),
    ];
    let y = chain.iter().fold(x.clone(), |t, l| l.call(&[t]).unwrap());
    let model = Model::new(&[x], &[y], None).unwrap();
    let sgd = OptimizerConfig::from_keras_name("sgd").unwrap();
    model.compile(Optimizer::new(sgd), Loss::parse("sparse_categorical_crossentropy", false).unwrap(), &[]).unwrap();
    model
}

fn weight_values(model: &Model) -> Vec<(bool, Vec<f64>)> {
    model.weights().iter().map(|w| (w.value().device().is_gpu(), w.value().cpu_data().unwrap().to_f64())).collect()
}

fn next_draw() -> Vec<f64> {
    initialize(Initializer::parse("glorot_uniform").unwrap(), &[3, 2]).unwrap().cpu_data().unwrap().to_f64()
}

#[test]
fn warm_up_leaves_weights_statistics_and_the_seeded_stream_alone() {
    let device = block(Device::gpu()).unwrap();
    set_random_seed(11);
    let _ = convnet();
    let undisturbed = next_draw();

    set_random_seed(11);
    let model = convnet();
    let before = weight_values(&model);
    assert!(model.warm_up(&device, true).unwrap());
    block(device.sync()).unwrap();
    // Weights (moving mean and variance included) stay on the CPU, unchanged.
    assert_eq!(weight_values(&model), before);
    assert_eq!(next_draw(), undisturbed, "the warm-up drew from the seeded stream");
}

#[test]
fn warm_up_compiles_what_the_first_training_step_needs() {
    let device = block(Device::gpu()).unwrap();
    let Device::Gpu(ctx) = &device else { unreachable!() };
    let model = convnet();
    assert!(model.warm_up(&device, true).unwrap());
    block(device.sync()).unwrap();
    let warmed = ctx.pipeline_compile_ms();
    for label in ["conv2d:forward", "conv2d:grad_kernel", "pool2d:max_forward_argmax", "pool2d:max_backward_argmax", "matmul:matmul", "batch_norm:moments_partial", "batch_norm:grad_sums_partial"] {
        assert!(warmed.contains_key(label), "{label} not compiled by the warm-up: {:?}", warmed.keys());
    }
    assert!(warmed.values().all(|ms| ms.is_finite() && *ms >= 0.0), "{warmed:?}");

    model.to_device(&device).unwrap();
    let x = Tensor::from_f32(&device, (0..4 * 64).map(|i| (i % 7) as f32 / 7.0).collect(), &[4, 8, 8, 1]).unwrap();
    let y = Tensor::from_i32(&device, vec![0, 1, 2, 1], &[4]).unwrap();
    block(model.train_step(&[x], &[y])).unwrap();
    // What the step still had to compile is the loss's and the optimizer's (the dry pass
    // differentiates a plain sum, and updates nothing), and helpers they call.
    let late: Vec<String> = ctx.pipeline_compile_ms().into_keys().filter(|k| !warmed.contains_key(k)).collect();
    let allowed = ["loss:", "optim_update:", "reduce:", "elementwise:", "copy:"];
    assert!(late.iter().all(|k| allowed.iter().any(|a| k.starts_with(a))), "compiled late: {late:?}");
}

/// The dry pass runs one sample but plans the conv GEMMs' tiles for a batch: a layer with
/// 3x3 = 9 output pixels would take a 16-row tile at batch 1, which a batch of 16 (144
/// rows) does not use. The warm-up must compile what that batch needs, and nothing the
/// batch then leaves unused.
#[test]
fn warm_up_compiles_the_tiles_a_batch_uses() {
    let device = block(Device::gpu()).unwrap();
    let Device::Gpu(ctx) = &device else { unreachable!() };
    let x = input(&[5, 5, 2], None).unwrap();
    let conv = layer("Conv2D", json!({"filters": 8, "kernel_size": 3, "activation": "relu"}));
    let y = layer("Flatten", json!({})).call(&[conv.call(&[x.clone()]).unwrap()]).unwrap();
    let model = Model::new(&[x], &[y], None).unwrap();
    model.to_device(&device).unwrap();
    assert!(model.warm_up(&device, false).unwrap());
    block(device.sync()).unwrap();
    let warmed = ctx.pipeline_compile_ms();
    let convs: Vec<&String> = warmed.keys().filter(|k| k.starts_with("conv2d:")).collect();
    assert_eq!(convs, vec!["conv2d:forward"], "the warm-up compiled {:?}", warmed.keys());

    let batch = Tensor::from_f32(&device, (0..16 * 50).map(|i| (i % 5) as f32).collect(), &[16, 5, 5, 2]).unwrap();
    block(model.predict(&device, &batch, 16)).unwrap();
    let late: Vec<String> = ctx.pipeline_compile_ms().into_keys().filter(|k| !warmed.contains_key(k)).collect();
    assert!(late.iter().all(|k| !k.starts_with("conv")), "compiled late: {late:?}");
}
