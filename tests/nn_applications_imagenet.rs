//! keras.applications' helpers against Keras 3.15 (tests/fixtures/applications/
//! make_preprocess_fixture.py): each family's preprocess_input and the three modes on
//! CPU and GPU, decode_predictions with the shipped class index, and the ImageNet weight
//! files Keras would fetch.

mod common;
use common::{block, gpu};

use convbook::device::Device;
use convbook::nn::applications::{self, imagenet, AppArgs, Mode};
use convbook::tensor::Tensor;
use serde_json::Value;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/applications/preprocess.json");

fn fixture() -> Value {
    serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn pixels(record: &Value, device: &Device) -> Tensor {
    let values: Vec<u8> = record["input"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u8).collect();
    let shape: Vec<usize> = record["shape"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    Tensor::from_u8(device, values, &shape).unwrap()
}

fn assert_matches(got: &Tensor, want: &[f64], what: &str) {
    assert_eq!(got.dtype(), convbook::DType::F32, "{what}");
    let got = block(got.to_data()).unwrap().to_f64();
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        // float32 arithmetic in a different order than NumPy's: a few ulps of the value.
        assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{what}: element {i}: {g} vs Keras {w}");
    }
}

#[test]
fn preprocess_input_matches_keras_per_family_and_mode_on_cpu_and_gpu() {
    let record = fixture();
    for device in [Device::Cpu, gpu()] {
        let x = pixels(&record, &device);
        for name in applications::NAMES {
            let mode = Mode::of_application(name).unwrap();
            let y = applications::preprocess_input(&x, mode).unwrap();
            assert_matches(&y, &floats(&record["applications"][name]), &format!("{name} on {}", device.describe()));
        }
        for mode in ["caffe", "tf", "torch"] {
            let y = applications::preprocess_input(&x, Mode::parse(mode).unwrap()).unwrap();
            assert_matches(&y, &floats(&record["modes"][mode]), &format!("mode {mode} on {}", device.describe()));
        }
    }
}

#[test]
fn preprocess_input_refuses_what_keras_cannot_mean() {
    let gray = Tensor::from_f32(&Device::Cpu, vec![0.0; 4], &[2, 2, 1]).unwrap();
    let err = applications::preprocess_input(&gray, Mode::Caffe).unwrap_err().to_string();
    assert!(err.contains("3 channels") && err.contains("(2, 2, 1)"), "{err}");
    assert!(Mode::parse("caffee").unwrap_err().to_string().contains("\"caffe\", \"tf\" or \"torch\""));
    assert!(Mode::of_application("ResNet18").unwrap_err().to_string().contains("unknown application"));
}

#[test]
fn decode_predictions_matches_keras() {
    let record = fixture();
    let d = &record["decode"];
    let preds = Tensor::from_f32(&Device::Cpu, floats(&d["preds"]).iter().map(|&v| v as f32).collect(), &[2, 1000]).unwrap();
    let got = block(applications::decode_predictions(&preds, d["top"].as_u64().unwrap() as usize)).unwrap();
    let want = d["expected"].as_array().unwrap();
    assert_eq!(got.len(), want.len());
    for (row, keras_row) in got.iter().zip(want) {
        let keras_row = keras_row.as_array().unwrap();
        assert_eq!(row.len(), keras_row.len());
        for (p, k) in row.iter().zip(keras_row) {
            assert_eq!(p.wnid, k[0].as_str().unwrap());
            assert_eq!(p.name, k[1].as_str().unwrap());
            assert!((p.score - k[2].as_f64().unwrap()).abs() < 1e-7, "{} {}", p.score, k[2]);
        }
    }
    let wrong = Tensor::from_f32(&Device::Cpu, vec![0.0; 10], &[1, 10]).unwrap();
    let err = block(applications::decode_predictions(&wrong, 5)).unwrap_err().to_string();
    assert!(err.contains("(samples, 1000)") && err.contains("(1, 10)"), "{err}");
}

/// The shipped file is Keras's own: the classes as Keras loaded them (it checks its MD5).
#[test]
fn the_class_index_is_kerass_file() {
    let record = fixture();
    let classes = imagenet::classes();
    let keras = record["class_index"].as_array().unwrap();
    assert_eq!(classes.len(), keras.len());
    for (i, (ours, k)) in classes.iter().zip(keras).enumerate() {
        assert_eq!((ours.wnid.as_str(), ours.name.as_str()), (k[0].as_str().unwrap(), k[1].as_str().unwrap()), "class {i}");
    }
    assert_eq!((classes[0].wnid.as_str(), classes[0].name.as_str()), ("n01440764", "tench"));
    assert_eq!((classes[999].wnid.as_str(), classes[999].name.as_str()), ("n15075141", "toilet_tissue"));
    assert!(imagenet::parse_class_index("{\"0\": [\"n1\", \"a\"], \"2\": [\"n2\", \"b\"]}").unwrap_err().to_string().contains("no class 1"));
}

#[test]
fn imagenet_weights_name_kerass_files() {
    let file = |name: &str, a: AppArgs| applications::imagenet_weights(name, &a, None).unwrap();
    let notop = AppArgs { include_top: false, ..AppArgs::default() };
    let f = file("Xception", notop.clone());
    assert_eq!(f.file_name, "xception_weights_tf_dim_ordering_tf_kernels_notop.h5");
    assert!(f.url.ends_with("/keras-applications/xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5"), "{}", f.url);
    assert_eq!(file("VGG16", AppArgs::default()).file_name, "vgg16_weights_tf_dim_ordering_tf_kernels.h5");
    assert_eq!(file("ResNet50", notop.clone()).path, "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5");
    assert_eq!(file("InceptionV3", AppArgs::default()).path, "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5");
    let small = AppArgs { include_top: false, alpha: 0.35, input_shape: Some(vec![96, 96, 3]), ..AppArgs::default() };
    assert_eq!(file("MobileNetV2", small).file_name, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5");
    // Keras falls back to the 224 weights for sizes it has none for.
    let odd = AppArgs { input_shape: Some(vec![100, 100, 3]), ..AppArgs::default() };
    assert_eq!(file("MobileNetV2", odd).file_name, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5");
    let mirror = applications::imagenet_weights("VGG19", &notop, Some("http://127.0.0.1:8000/weights")).unwrap();
    assert_eq!(mirror.url, "http://127.0.0.1:8000/weights/vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5");
    let odd_alpha = AppArgs { alpha: 0.6, ..AppArgs::default() };
    assert!(applications::imagenet_weights("MobileNetV2", &odd_alpha, None).unwrap_err().to_string().contains("alpha"));
    // Building with weights="imagenet" names the file it would load.
    let imagenet = AppArgs { include_top: false, weights: Some("imagenet".into()), ..AppArgs::default() };
    let err = applications::build("Xception", &imagenet).err().unwrap().to_string();
    assert!(err.contains("xception_weights_tf_dim_ordering_tf_kernels_notop.h5") && err.contains("loadWeights"), "{err}");
    let classes = AppArgs { weights: Some("imagenet".into()), classes: 10, ..AppArgs::default() };
    assert!(applications::build("VGG16", &classes).err().unwrap().to_string().contains("classes must be 1000"));
}
