//! Sizes declared in a model file's layer configs are checked before anything is
//! allocated: a Dense with 5e7 or 1e9 units, or an input of 1e9 × 1e9 pixels flattened,
//! is an error naming the layer, the weight, the size and the limit (these used to fill
//! gigabytes of random weights, abort on allocation, or panic on "capacity overflow").
//! Weights read from a file are never drawn at random first.

use convbook::io::tfjs::TfjsModel;
use convbook::nn::Model;
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/io/keras3/sequential");

/// The Keras 3 Sequential fixture (Input 6 → Dense d1 5 → Dropout → Dense d2 3) with its
/// config changed by `edit`, and its real shard.
fn load_edited(edit: impl FnOnce(&mut Vec<Value>)) -> convbook::Result<Model> {
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/model.json")).unwrap()).unwrap();
    let layers = json["modelTopology"]["model_config"]["config"]["layers"].as_array_mut().unwrap();
    edit(layers);
    let text = serde_json::to_string(&json).unwrap();
    let file = TfjsModel::from_parts(&text, |path| Ok(std::fs::read(format!("{DIR}/{path}")).unwrap()))?;
    Model::from_tfjs(&file)
}

fn error(result: convbook::Result<Model>) -> String {
    match result {
        Ok(_) => panic!("the model loaded"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_unedited_fixture_loads() {
    let model = load_edited(|_| {}).unwrap();
    assert_eq!(model.count_params(), 6 * 5 + 5 + 5 * 3 + 3);
}

#[test]
fn dense_units_past_the_budget_are_refused_before_allocating() {
    for units in [50_000_000u64, 1_000_000_000] {
        let e = error(load_edited(|l| l[1]["config"]["units"] = units.into()));
        assert!(e.contains("layer \"d1\" (Dense)"), "{e}");
        assert!(e.contains(&format!("d1/kernel of shape (6, {units})")), "{e}");
        assert!(e.contains(&format!("declares {} bytes", 6 * units * 4)), "{e}");
        assert!(e.contains("more than the 1.0 GiB one file may load"), "{e}");
    }
}

#[test]
fn a_huge_input_flattened_is_an_error_not_an_overflow() {
    let flat = serde_json::json!({"class_name": "Flatten", "config": {"name": "flat"}});
    let e = error(load_edited(|l| {
        l[0]["config"]["batch_shape"] = serde_json::json!([null, 1_000_000_000u64, 1_000_000_000u64, 3]);
        l.insert(1, flat.clone());
    }));
    assert!(e.contains("layer \"d1\" (Dense)") && e.contains("more elements than this machine can address"), "{e}");
    let e = error(load_edited(|l| {
        l[0]["config"]["batch_shape"] = serde_json::json!([null, 100_000, 100_000, 3]);
        l.insert(1, flat);
    }));
    assert!(e.contains("d1/kernel of shape (30000000000, 5)") && e.contains("more than the 1.0 GiB"), "{e}");
}

#[test]
fn a_shape_the_shards_disagree_with_is_refused_without_drawing_weights() {
    // 5,000 units fit the budget, but the file holds a (6, 5) kernel: the mismatch is
    // reported, and the model's own seeded stream is untouched by the attempt.
    convbook::nn::init::set_random_seed(7);
    let e = error(load_edited(|l| l[1]["config"]["units"] = 5000.into()));
    assert!(e.contains("cannot assign a value of shape (6, 5) to a weight of shape (6, 5000)"), "{e}");
    let after_failed_load = fresh_kernel();
    convbook::nn::init::set_random_seed(7);
    assert_eq!(after_failed_load, fresh_kernel());
}

/// The first values a new Dense kernel draws from the seeded stream.
fn fresh_kernel() -> Vec<f64> {
    let x = convbook::nn::symbolic::input(&[4], None).unwrap();
    let layer = convbook::nn::layer::Layer::new(convbook::nn::layers::LayerKind::from_config("Dense", &serde_json::json!({"units": 3})).unwrap(), None);
    layer.call(&[x]).unwrap();
    layer.weights()[0].value().cpu_data().unwrap().to_f64()
}
