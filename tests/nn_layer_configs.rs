//! Every layer config Keras 3 writes (tests/fixtures/layer_configs: Keras's own
//! get_config(), with initializers, dtype policies and seeds) builds here, infers the
//! output shape Keras computes, and survives our own get_config round trip.

mod common;
use common::keras::{cases, load};

use convbook::nn::{input, Layer, LayerKind};
use serde_json::Value;

fn dims(v: &Value) -> Vec<usize> {
    v.as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect()
}

#[test]
fn keras_configs_build_with_keras_output_shapes() {
    let file = load("layer_configs", "layer_configs.json");
    for case in cases(&file) {
        let class = case["class_name"].as_str().unwrap();
        let what = format!("{class} {}", case["config"]);
        let kind = LayerKind::from_config(class, &case["config"]).unwrap_or_else(|e| panic!("{what}: {e}"));
        let inputs: Vec<_> = case["input_shapes"].as_array().unwrap().iter().map(|s| input(&dims(s), None).unwrap()).collect();
        let out = Layer::new(kind.clone(), None).call(&inputs).unwrap_or_else(|e| panic!("{what}: {e}"));
        let want: Vec<Option<usize>> = std::iter::once(None).chain(dims(&case["output_shape"]).into_iter().map(Some)).collect();
        assert_eq!(out.shape(), want.as_slice(), "{what}");

        let written = kind.to_config();
        let again = LayerKind::from_config(class, &written).unwrap_or_else(|e| panic!("{what}: our config {written}: {e}"));
        assert_eq!(again.to_config(), written, "{what}");
    }
    assert!(cases(&file).len() >= 30);
}

#[test]
fn a_misspelled_key_in_a_keras_config_is_refused() {
    let file = load("layer_configs", "layer_configs.json");
    let case = cases(&file).iter().find(|c| c["class_name"] == "Conv2D").unwrap();
    let mut config = case["config"].clone();
    let use_bias = config.as_object_mut().unwrap().remove("use_bias").unwrap();
    config["use_bais"] = use_bias;
    let e = LayerKind::from_config("Conv2D", &config).unwrap_err().to_string();
    assert_eq!(e, "Conv2D: unrecognized keyword argument \"use_bais\" (did you mean \"use_bias\"?)");
}

/// What `layers.X(a, b, ...)` maps positional arguments to (the JS bridge reads the
/// registry) is a prefix of the Keras constructor's positional parameters.
#[test]
fn positional_signatures_follow_keras() {
    let file = load("layer_configs", "layer_configs.json");
    let keras = file["signatures"].as_object().unwrap();
    for r in convbook::nn::layers::registry() {
        assert!(keras.contains_key(r.names[0]), "{}: not in the fixture's signatures", r.names[0]);
        for name in r.names.iter().filter(|n| keras.contains_key(**n)) {
            let theirs: Vec<&str> = keras[*name].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
            assert!(
                theirs.len() >= r.signature.len() && theirs[..r.signature.len()] == *r.signature,
                "{name}: ours {:?}, Keras {theirs:?}",
                r.signature
            );
        }
    }
}
