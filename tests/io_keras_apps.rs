//! keras.applications' own files (tests/fixtures/keras_apps, made by make_fixtures.py
//! there): Xception, VGG16, VGG19, ResNet50 and InceptionV3 saved by Keras as `.keras` and
//! legacy `.h5`, and their weights in the layout of the files `weights: "imagenet"`
//! downloads, loaded through the public path of the CLI and `loadModel`/`loadWeights`, and
//! run on the CPU and the GPU against Keras's predictions.
//!
//! Tolerance: |ours - keras| <= 1e-4 * max(1, max |keras|) over the output. The weights are
//! scaled so activations stay O(1), but a deep stack without normalization (VGG) can end
//! with outputs of tens; float32 sums in another order differ by a fixed number of ulps of
//! the values summed, so the bound follows the output's scale.

mod common;

use common::{block, gpu};
use convbook::io::npy::read_npz;
use convbook::nn::applications::{self, AppArgs};
use convbook::nn::Model;
use convbook::{CpuData, Device, Tensor};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keras_apps");

/// One application's fixtures: Keras's name, the files' stem, the input shape they were
/// built for, the parameter count Keras reports for it without the top.
struct App {
    name: &'static str,
    stem: &'static str,
    input: [usize; 3],
    params: usize,
}

const XCEPTION: App = App { name: "Xception", stem: "xception", input: [71, 71, 3], params: 20_861_480 };
const VGG16: App = App { name: "VGG16", stem: "vgg16", input: [32, 32, 3], params: 14_714_688 };
const VGG19: App = App { name: "VGG19", stem: "vgg19", input: [32, 32, 3], params: 20_024_384 };
const RESNET50: App = App { name: "ResNet50", stem: "resnet50", input: [32, 32, 3], params: 23_587_712 };
const INCEPTION_V3: App = App { name: "InceptionV3", stem: "inception_v3", input: [75, 75, 3], params: 21_802_784 };

/// The bytes of `file`, stored beside the fixtures as `file.xz`.
fn unxz(file: &str) -> Vec<u8> {
    let packed = std::fs::read(format!("{DIR}/{file}.xz")).unwrap_or_else(|e| panic!("{file}.xz: {e}"));
    let mut out = Vec::new();
    lzma_rs::xz_decompress(&mut packed.as_slice(), &mut out).unwrap_or_else(|e| panic!("{file}.xz: {e:?}"));
    out
}

/// (input, Keras's output and its shape) for an application's stem.
fn reference(stem: &str) -> (Tensor, Vec<f32>, Vec<usize>) {
    let arrays = read_npz(&std::fs::read(format!("{DIR}/reference.npz")).unwrap()).unwrap();
    let get = |key: String| arrays.iter().find(|(k, _)| *k == key).unwrap_or_else(|| panic!("no {key}")).1.clone();
    let x = get(format!("{stem}_x"));
    let y = get(format!("{stem}_y"));
    let CpuData::F32(want) = y.data else { panic!("{stem}_y is not float32") };
    (Tensor::from_data(&Device::Cpu, x.data, &x.shape).unwrap(), want, y.shape)
}

fn assert_predicts_as_keras(model: &Model, app: &App, what: &str) {
    assert_eq!(model.count_params(), app.params, "{what}: parameter count");
    let (x, want, shape) = reference(app.stem);
    let bound = 1e-4 * want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    for device in [Device::Cpu, gpu()] {
        let started = std::time::Instant::now();
        model.to_device(&device).unwrap();
        let uploaded = started.elapsed();
        let y = block(model.predict(&device, &x, 8)).unwrap_or_else(|e| panic!("{what} on {device:?}: {e}"));
        assert_eq!(y.shape(), &shape[..], "{what} on {device:?}: output shape");
        let got = block(y.to_f32_vec()).unwrap();
        let (worst, at) = got
            .iter()
            .zip(&want)
            .map(|(g, w)| (g - w).abs())
            .enumerate()
            .fold((0.0f32, 0), |(m, i), (j, d)| if d > m || d.is_nan() { (d, j) } else { (m, i) });
        assert!(
            worst <= bound,
            "{what} on {device:?}: max |ours - keras| = {worst} at {at} ({} vs {}), bound {bound}",
            got[at],
            want[at]
        );
        eprintln!(
            "{what} on {}: max |ours - keras| = {worst:.2e} (bound {bound:.2e}); weights to the device {uploaded:.1?}, predict {:.1?}",
            device.describe(),
            started.elapsed() - uploaded
        );
    }
}

/// The `.keras` archive and the legacy full-model `.h5` predict as Keras.
fn model_files_predict_as_keras(app: &App) {
    for file in [format!("{}.keras", app.stem), format!("{}.h5", app.stem)] {
        let model = Model::from_keras_bytes(&unxz(&file), &file).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(model.name(), app.stem, "{file}: model name");
        assert_predicts_as_keras(&model, app, &file);
    }
}

/// The weights alone, in the layout and under the name of Keras's published application
/// files, load into our own build of the architecture.
fn application_weights_load_into_our_build(app: &App) {
    let file = format!("{}_weights_tf_dim_ordering_tf_kernels_notop.h5", app.stem);
    let args = AppArgs { include_top: false, input_shape: Some(app.input.to_vec()), ..AppArgs::default() };
    let model = applications::build(app.name, &args).unwrap();
    model.load_weights_bytes(&unxz(&file), &file).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert_predicts_as_keras(&model, app, &file);
}

#[test]
fn xception_files_predict_as_keras() {
    model_files_predict_as_keras(&XCEPTION);
}

#[test]
fn vgg16_files_predict_as_keras() {
    model_files_predict_as_keras(&VGG16);
}

#[test]
fn vgg19_files_predict_as_keras() {
    model_files_predict_as_keras(&VGG19);
}

#[test]
fn resnet50_files_predict_as_keras() {
    model_files_predict_as_keras(&RESNET50);
}

#[test]
fn inception_v3_files_predict_as_keras() {
    model_files_predict_as_keras(&INCEPTION_V3);
}

#[test]
fn xception_application_weights_load_into_our_build() {
    application_weights_load_into_our_build(&XCEPTION);
}

#[test]
fn vgg16_application_weights_load_into_our_build() {
    application_weights_load_into_our_build(&VGG16);
}

#[test]
fn vgg19_application_weights_load_into_our_build() {
    application_weights_load_into_our_build(&VGG19);
}

#[test]
fn resnet50_application_weights_load_into_our_build() {
    application_weights_load_into_our_build(&RESNET50);
}

#[test]
fn inception_v3_application_weights_load_into_our_build() {
    application_weights_load_into_our_build(&INCEPTION_V3);
}

/// The premise of the periodic weights: the mistakes a loader can make (a kernel's spatial
/// axes swapped, two of BatchNormalization's variables exchanged) move the predictions far
/// past the tolerance, although every weight comes from one short table.
#[test]
fn loader_mistakes_would_show_in_the_predictions() {
    let file = "resnet50.h5";
    let model = Model::from_keras_bytes(&unxz(file), file).unwrap();
    let (x, want, _) = reference(RESNET50.stem);
    let bound = 1e-4 * want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let error = |model: &Model| -> f32 {
        let got = block(block(model.predict(&Device::Cpu, &x, 8)).unwrap().to_f32_vec()).unwrap();
        // NaN wins, unlike f32::max.
        got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0, |m: f32, d| if d.is_nan() || d > m { d } else { m })
    };
    assert!(error(&model) <= bound, "{file} as saved");
    let weight = |layer: &str, kind: &str| {
        let weights = model.get_layer(layer).unwrap().weights();
        weights.iter().find(|w| w.path.ends_with(kind)).unwrap_or_else(|| panic!("{layer} has no {kind}")).clone()
    };

    let kernel = weight("conv2_block1_2_conv", "/kernel");
    let saved = kernel.value();
    let shape = kernel.shape();
    let (kh, kw, rest) = (shape[0], shape[1], shape[2] * shape[3]);
    let values = block(saved.to_f32_vec()).unwrap();
    let mut swapped = vec![0.0; values.len()];
    for i in 0..kh {
        for j in 0..kw {
            let (from, to) = ((i * kw + j) * rest, (j * kh + i) * rest);
            swapped[to..to + rest].copy_from_slice(&values[from..from + rest]);
        }
    }
    kernel.set(Tensor::from_f32(&Device::Cpu, swapped, &shape).unwrap()).unwrap();
    let e = error(&model);
    assert!(e > 100.0 * bound, "kernel with kh and kw swapped: max |ours - keras| only {e}");
    kernel.set(saved).unwrap();

    let (mean, variance) = (weight("conv2_block1_2_bn", "/moving_mean"), weight("conv2_block1_2_bn", "/moving_variance"));
    let (m, v) = (mean.value(), variance.value());
    mean.set(v.clone()).unwrap();
    variance.set(m.clone()).unwrap();
    // A negative variance reads as NaN, which also fails the comparison.
    let e = error(&model);
    assert!(e.is_nan() || e > 100.0 * bound, "moving mean and variance exchanged: max |ours - keras| only {e}");
}
