//! TF.js layers models: a real trained model from the nsfwjs package (Keras 2 topology,
//! uint8-quantized weights) checked against what TensorFlow.js itself reads from it,
//! Keras 3 models written by tests/fixtures/io/keras3/make_keras3_tfjs.py (Keras 3
//! topology, float32 / uint8 / uint16 / float16 weights, two shards), hand-written Keras 2
//! Sequential topologies, the writer's round trip, and malformed inputs.

use std::collections::HashMap;
use std::path::PathBuf;

use convbook::io::npy::{load_npz, NpyArray};
use convbook::io::tfjs::{LayerSpec, TensorRef, TfjsModel};
use convbook::{CpuData, Error, Result};
use serde_json::{json, Value};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/io")
}

fn read_json(path: PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn r(layer: &str, node: usize, tensor: usize) -> TensorRef {
    (layer.to_string(), node, tensor)
}

fn f32s(data: &CpuData) -> &[f32] {
    match data {
        CpuData::F32(v) => v,
        other => panic!("expected f32 data, found {:?}", other.dtype()),
    }
}

fn round_trip(model: &TfjsModel) -> TfjsModel {
    let (model_json, shards) = model.to_parts();
    let shards: HashMap<String, Vec<u8>> = shards.into_iter().collect();
    TfjsModel::from_parts(&model_json, |p| {
        shards
            .get(p)
            .cloned()
            .ok_or_else(|| Error::new(format!("no shard {p}")))
    })
    .unwrap_or_else(|e| panic!("re-reading to_parts output: {e}"))
}

fn assert_same_graph_and_weights(a: &TfjsModel, b: &TfjsModel) {
    assert_eq!(a.class_name, b.class_name);
    assert_eq!(a.name, b.name);
    assert_eq!(a.input_layers, b.input_layers);
    assert_eq!(a.output_layers, b.output_layers);
    assert_eq!(a.layers.len(), b.layers.len());
    for (x, y) in a.layers.iter().zip(&b.layers) {
        assert_eq!(x, y, "layer {}", x.name);
    }
    assert_eq!(a.weights, b.weights);
    assert_eq!(a.keras_version, b.keras_version);
    assert_eq!(a.backend, b.backend);
    assert_eq!(a.training_config, b.training_config);
}

// ---------------------------------------------------------------------------------------
// nsfwjs MobileNetV2: a real, quantized, Keras 2 functional model

fn nsfwjs_dir() -> PathBuf {
    fixtures().join("nsfwjs_mobilenet_v2")
}

fn nsfwjs() -> TfjsModel {
    TfjsModel::load(nsfwjs_dir().join("model.json")).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn nsfwjs_topology() {
    let m = nsfwjs();
    assert_eq!(m.class_name, "Model");
    assert_eq!(m.keras_version.as_deref(), Some("2.2.4"));
    assert_eq!(m.backend.as_deref(), Some("tensorflow"));
    assert!(m
        .training_config
        .as_ref()
        .is_some_and(|t| t["loss"] == "categorical_crossentropy"));
    assert_eq!(m.layers.len(), 162);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for l in &m.layers {
        *counts.entry(l.class_name.as_str()).or_default() += 1;
    }
    let want = [
        ("BatchNormalization", 52),
        ("Conv2D", 35),
        ("ReLU", 35),
        ("DepthwiseConv2D", 17),
        ("Add", 10),
        ("ZeroPadding2D", 5),
        ("Dense", 3),
        ("Dropout", 2),
        ("InputLayer", 1),
        ("AveragePooling2D", 1),
        ("Flatten", 1),
    ];
    assert_eq!(counts, want.into_iter().collect::<HashMap<_, _>>());

    // Same layers, same order as TF.js sees them.
    let reference = read_json(nsfwjs_dir().join("tfjs_reference.json"));
    let names: Vec<&str> = m.layers.iter().map(|l| l.name.as_str()).collect();
    let tfjs_names: Vec<&str> = reference["layer_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(names, tfjs_names);
    assert_eq!(reference["num_layers"], 162);

    let input = &m.layers[0];
    assert!(input.is_input());
    assert_eq!(input.name, "input_1");
    assert_eq!(
        input.batch_input_shape(),
        Some(vec![None, Some(224), Some(224), Some(3)])
    );
    assert!(input.inbound.is_empty());
    assert_eq!(m.input_layers, [r("input_1", 0, 0)]);
    assert_eq!(m.output_layers, [r("dense_3", 0, 0)]);

    let conv1 = m.layer("Conv1").unwrap();
    assert_eq!(conv1.class_name, "Conv2D");
    assert_eq!(conv1.inbound, [vec![r("Conv1_pad", 0, 0)]]);
    assert_eq!(conv1.inbound_kwargs, [json!({})]);
    assert_eq!(conv1.config["filters"], 32);
    assert_eq!(conv1.config["strides"], json!([2, 2]));
    let add = m.layer("block_2_add").unwrap();
    assert_eq!(
        add.inbound,
        [vec![r("block_1_project_BN", 0, 0), r("block_2_project_BN", 0, 0)]]
    );
    let head = m.layer("dense_3").unwrap();
    assert_eq!(
        (head.config["units"].as_u64(), head.config["activation"].as_str()),
        (Some(5), Some("softmax"))
    );
    // Every non-input layer is called exactly once, on tensors of earlier layers.
    let mut seen = std::collections::HashSet::new();
    for l in &m.layers {
        for t in l.inbound.iter().flatten() {
            assert!(
                seen.contains(t.0.as_str()),
                "{} uses {} before it is defined",
                l.name,
                t.0
            );
        }
        assert_eq!(l.inbound.len(), usize::from(!l.is_input()), "{}", l.name);
        assert!(l.as_model().is_none());
        seen.insert(l.name.as_str());
    }
}

#[test]
fn nsfwjs_weights_dequantized_like_tfjs() {
    let m = nsfwjs();
    let manifest = read_json(nsfwjs_dir().join("model.json"))["weightsManifest"].clone();
    let specs = manifest[0]["weights"].as_array().unwrap();
    assert_eq!(m.weights.len(), 266);
    assert_eq!(specs.len(), 266);

    // Parameter count: the sum of the manifest's shapes, the shard size (1 byte each), and
    // TF.js's countParams().
    let from_shapes: usize = specs
        .iter()
        .map(|s| {
            s["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .product::<usize>()
        })
        .sum();
    let shard_len = std::fs::metadata(nsfwjs_dir().join("group1-shard1of1")).unwrap().len() as usize;
    let reference = read_json(nsfwjs_dir().join("tfjs_reference.json"));
    assert_eq!(m.num_params(), 2_619_461);
    assert_eq!(m.num_params(), from_shapes);
    assert_eq!(m.num_params(), shard_len);
    assert_eq!(m.num_params() as u64, reference["count_params"].as_u64().unwrap());

    assert_eq!(m.weight("Conv1/kernel").unwrap().shape, [3, 3, 3, 32]);
    assert_eq!(
        m.weight("expanded_conv_depthwise/depthwise_kernel").unwrap().shape,
        [3, 3, 32, 1]
    );
    assert_eq!(m.weight("Conv_1/kernel").unwrap().shape, [1, 1, 320, 1280]);
    assert_eq!(m.weight("dense_3/kernel").unwrap().shape, [128, 5]);
    let bn: Vec<&str> = m
        .weights_of_layer("Conv_1_bn")
        .iter()
        .map(|w| w.name.as_str())
        .collect();
    assert_eq!(
        bn,
        [
            "Conv_1_bn/gamma",
            "Conv_1_bn/beta",
            "Conv_1_bn/moving_mean",
            "Conv_1_bn/moving_variance"
        ]
    );

    for (w, spec) in m.weights.iter().zip(specs) {
        assert_eq!(w.name, spec["name"].as_str().unwrap());
        // Every weight belongs to a layer of the topology.
        let layer = w.name.split('/').next().unwrap();
        assert!(m.layer(layer).is_some(), "{} has no layer", w.name);
        let q = &spec["quantization"];
        assert_eq!(q["dtype"], "uint8");
        let (min, scale) = (q["min"].as_f64().unwrap(), q["scale"].as_f64().unwrap());
        let (lo, hi) = (min as f32, (min + 255.0 * scale) as f32);
        let values = f32s(&w.data);
        assert_eq!(values.len(), w.numel());
        for &v in values {
            assert!(
                v.is_finite() && v >= lo && v <= hi,
                "{}: {v} outside [{lo}, {hi}]",
                w.name
            );
        }
        // Moving variances are non-negative (quantization maps the smallest ones of
        // block_2_depthwise_BN to exactly 0, as TF.js reads them too).
        if w.name.ends_with("moving_variance") {
            assert!(values.iter().all(|&v| v >= 0.0), "{}", w.name);
        }
    }

    // Bit-for-bit what TF.js 4.22 decodes: every weight through its FNV-1a hash, five
    // of them value by value.
    let hashes = reference["weight_fnv1a"].as_object().unwrap();
    assert_eq!(hashes.len(), m.weights.len());
    for w in &m.weights {
        let bytes: Vec<u8> = f32s(&w.data).iter().flat_map(|x| x.to_le_bytes()).collect();
        let hash = bytes
            .iter()
            .fold(0x811c_9dc5u32, |h, &b| (h ^ b as u32).wrapping_mul(0x0100_0193));
        assert_eq!(
            Some(hash as u64),
            hashes[&w.name].as_u64(),
            "{} differs from TF.js",
            w.name
        );
    }
    for (name, want) in reference["weights"].as_object().unwrap() {
        let w = m.weight(name).unwrap();
        let want_shape: Vec<usize> = want["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(w.shape, want_shape, "{name}");
        let want: Vec<f32> = want["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(f32s(&w.data), &want[..], "{name}");
    }
}

#[test]
fn nsfwjs_round_trips_through_the_writer() {
    let m = nsfwjs();
    let (model_json, shards) = m.to_parts();
    assert_eq!(shards.len(), 1);
    assert_eq!(shards[0].0, "group1-shard1of1.bin");
    assert_eq!(shards[0].1.len(), 4 * m.num_params());
    let root: Value = serde_json::from_str(&model_json).unwrap();
    assert_eq!(root["format"], "layers-model");
    assert_eq!(root["modelTopology"]["model_config"]["class_name"], "Model");
    assert_eq!(root["weightsManifest"][0]["paths"], json!(["group1-shard1of1.bin"]));
    assert!(root["weightsManifest"][0]["weights"]
        .as_array()
        .unwrap()
        .iter()
        .all(|w| w["dtype"] == "float32"));
    assert_same_graph_and_weights(&m, &round_trip(&m));
}

// ---------------------------------------------------------------------------------------
// Keras 3 topology (make_keras3_tfjs.py)

fn keras3(dir: &str) -> TfjsModel {
    TfjsModel::load(fixtures().join("keras3").join(dir).join("model.json")).unwrap_or_else(|e| panic!("{e}"))
}

fn keras3_reference() -> HashMap<String, NpyArray> {
    load_npz(fixtures().join("keras3/reference.npz"))
        .unwrap()
        .into_iter()
        .collect()
}

#[test]
fn keras3_functional_topology() {
    let m = keras3("functional");
    assert_eq!(
        (m.class_name.as_str(), m.name.as_str()),
        ("Functional", "k3_functional")
    );
    assert_eq!(m.keras_version.as_deref(), Some("3.15.1"));
    let names: Vec<&str> = m.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        ["image", "conv", "bn", "relu", "dw", "proj", "add", "pool", "gap", "aux", "head", "cat", "out"]
    );
    let l = |n: &str| -> &LayerSpec { m.layer(n).unwrap() };
    assert!(l("image").is_input() && l("aux").is_input());
    assert_eq!(
        l("image").batch_input_shape(),
        Some(vec![None, Some(8), Some(8), Some(3)])
    );
    assert_eq!(l("aux").batch_input_shape(), Some(vec![None, Some(4)]));
    assert_eq!(l("conv").inbound, [vec![r("image", 0, 0)]]);
    assert_eq!(l("bn").inbound_kwargs, [json!({"mask": null})]);
    assert_eq!(l("add").inbound, [vec![r("dw", 0, 0), r("proj", 0, 0)]]);
    // The shared Dense layer: two calls, and the concatenation uses both.
    assert_eq!(l("head").inbound, [vec![r("gap", 0, 0)], vec![r("aux", 0, 0)]]);
    assert_eq!(l("cat").inbound, [vec![r("head", 0, 0), r("head", 1, 0)]]);
    assert_eq!(m.input_layers, [r("image", 0, 0), r("aux", 0, 0)]);
    // Keras 3 writes a single output as a bare [layer, node, tensor].
    assert_eq!(m.output_layers, [r("out", 0, 0)]);
    // Configs are kept as Keras 3 wrote them (minus the converter's discarded keys).
    assert_eq!(l("conv").config["dtype"]["config"]["name"], "float32");
    assert_eq!(l("out").config["activation"], "softmax");
}

#[test]
fn keras3_float_weights_from_two_shards() {
    let m = keras3("functional");
    assert_eq!(
        TfjsModel::shard_paths(&std::fs::read_to_string(fixtures().join("keras3/functional/model.json")).unwrap())
            .unwrap(),
        ["group1-shard1of2.bin", "group1-shard2of2.bin"]
    );
    let reference = keras3_reference();
    let names: Vec<&str> = m.weights.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names.len(), 14);
    assert_eq!(names[..3], ["conv/kernel", "conv/bias", "bn/gamma"]);
    for w in &m.weights {
        let want = &reference[&format!("functional/{}", w.name)];
        assert_eq!(w.shape, want.shape, "{}", w.name);
        assert_eq!(w.data, want.data, "{}", w.name);
    }
    assert_eq!(m.weight("dw/kernel").unwrap().shape, [3, 3, 4, 1]);
    assert_eq!(m.weights_of_layer("head").len(), 2);
}

#[test]
fn keras3_quantized_weights_dequantize_within_one_step() {
    let q = keras3("functional_quantized");
    let f = keras3("functional");
    let manifest =
        read_json(fixtures().join("keras3/functional_quantized/model.json"))["weightsManifest"][0]["weights"].clone();
    assert_eq!(q.weights.len(), f.weights.len());
    let mut kinds = Vec::new();
    for ((wq, wf), spec) in q.weights.iter().zip(&f.weights).zip(manifest.as_array().unwrap()) {
        assert_eq!((&wq.name, &wq.shape), (&wf.name, &wf.shape));
        let (got, want) = (f32s(&wq.data), f32s(&wf.data));
        let kind = spec["quantization"]["dtype"].as_str().unwrap_or("float32");
        kinds.push(kind);
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            let tol = match kind {
                // Affine: one quantization step (the converter nudges min so 0 is exact).
                "uint8" | "uint16" => spec["quantization"]["scale"].as_f64().unwrap() as f32 * 1.0001,
                "float16" => w.abs() * 2f32.powi(-11),
                _ => 0.0,
            };
            assert!((g - w).abs() <= tol, "{}[{i}] ({kind}): {g} vs {w}", wq.name);
        }
    }
    for kind in ["uint8", "uint16", "float16", "float32"] {
        assert!(kinds.contains(&kind), "fixture covers {kind}");
    }
}

#[test]
fn keras3_sequential() {
    let m = keras3("sequential");
    assert_eq!(
        (m.class_name.as_str(), m.name.as_str()),
        ("Sequential", "k3_sequential")
    );
    let names: Vec<&str> = m.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["features", "d1", "drop", "d2"]);
    assert_eq!(m.layers[0].batch_input_shape(), Some(vec![None, Some(6)]));
    assert_eq!(m.layers[1].inbound, [vec![r("features", 0, 0)]]);
    assert_eq!(m.layers[2].inbound, [vec![r("d1", 0, 0)]]);
    assert_eq!(m.layers[3].inbound, [vec![r("drop", 0, 0)]]);
    assert_eq!(
        (m.input_layers.as_slice(), m.output_layers.as_slice()),
        (&[r("features", 0, 0)][..], &[r("d2", 0, 0)][..])
    );
    let reference = keras3_reference();
    for w in &m.weights {
        assert_eq!(w.data, reference[&format!("sequential/{}", w.name)].data, "{}", w.name);
    }
    assert_eq!(m.num_params(), 6 * 5 + 5 + 5 * 3 + 3);
}

#[test]
fn keras3_models_round_trip() {
    for dir in ["functional", "functional_quantized", "sequential"] {
        let m = keras3(dir);
        let back = round_trip(&m);
        assert_same_graph_and_weights(&m, &back);
        let (model_json, _) = m.to_parts();
        let root: Value = serde_json::from_str(&model_json).unwrap();
        let want_class = if dir == "sequential" {
            "Sequential"
        } else {
            "Functional"
        };
        assert_eq!(root["modelTopology"]["model_config"]["class_name"], want_class, "{dir}");
    }
}

// ---------------------------------------------------------------------------------------
// Keras 2 Sequential topologies, written the way old converters did

fn dense(name: &str, units: usize, extra: Value) -> Value {
    let mut config = json!({"name": name, "units": units, "activation": "relu", "use_bias": true, "dtype": "float32"});
    for (k, v) in extra.as_object().unwrap() {
        config[k] = v.clone();
    }
    json!({"class_name": "Dense", "config": config})
}

fn model_json(topology: Value, manifest: Value) -> String {
    json!({"format": "layers-model", "modelTopology": topology, "weightsManifest": manifest}).to_string()
}

fn no_shards(p: &str) -> Result<Vec<u8>> {
    Err(Error::new(format!("unexpected fetch of {p}")))
}

#[test]
fn keras2_sequential_synthesizes_the_input_layer() {
    let layers = json!([
        dense("dense_1", 4, json!({"batch_input_shape": [null, 3]})),
        dense("dense_2", 2, json!({}))
    ]);
    let forms = [
        // tf.keras 2.x: {"name", "layers"} under model_config.
        json!({"keras_version": "2.4.0", "backend": "tensorflow", "model_config": {"class_name": "Sequential", "config": {"name": "seq", "layers": layers}}}),
        // Keras 2.1 and earlier: config is the layer list itself; no model_config wrapper.
        json!({"class_name": "Sequential", "config": layers}),
    ];
    for (i, topology) in forms.into_iter().enumerate() {
        let m = TfjsModel::from_parts(&model_json(topology, json!([])), no_shards).unwrap();
        assert_eq!(m.class_name, "Sequential");
        assert_eq!(m.name, if i == 0 { "seq" } else { "sequential" });
        let names: Vec<&str> = m.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["dense_1_input", "dense_1", "dense_2"]);
        let input = &m.layers[0];
        assert!(input.is_input());
        assert_eq!(input.batch_input_shape(), Some(vec![None, Some(3)]));
        assert_eq!(input.config["dtype"], "float32");
        assert_eq!(m.layers[1].inbound, [vec![r("dense_1_input", 0, 0)]]);
        assert_eq!(m.layers[2].inbound, [vec![r("dense_1", 0, 0)]]);
        assert_eq!(m.input_layers, [r("dense_1_input", 0, 0)]);
        assert_eq!(m.output_layers, [r("dense_2", 0, 0)]);
        assert_same_graph_and_weights(&m, &round_trip(&m));
    }

    // Only build_input_shape known (tf.keras models built without an Input).
    let topology = json!({"class_name": "Sequential", "config": {"name": "s", "layers": [dense("d", 2, json!({}))], "build_input_shape": [null, 7]}});
    let m = TfjsModel::from_parts(&model_json(topology, json!([])), no_shards).unwrap();
    assert_eq!(m.layers[0].name, "d_input");
    assert_eq!(m.layers[0].batch_input_shape(), Some(vec![None, Some(7)]));

    // No shape anywhere: a deferred model, no input layer to make up.
    let topology = json!({"class_name": "Sequential", "config": {"name": "s", "layers": [dense("a", 2, json!({})), dense("b", 1, json!({}))]}});
    let m = TfjsModel::from_parts(&model_json(topology, json!([])), no_shards).unwrap();
    assert!(m.input_layers.is_empty());
    assert!(m.layers[0].inbound.is_empty());
    assert_eq!(m.layers[1].inbound, [vec![r("a", 0, 0)]]);
    assert_same_graph_and_weights(&m, &round_trip(&m));
}

#[test]
fn nested_model_layers_parse_on_demand() {
    let inner = json!({"name": "inner", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "dtype": "float32", "name": "inner_in"}},
        dense("inner_dense", 2, json!({})),
    ]});
    let topology = json!({"class_name": "Model", "config": {"name": "outer",
        "layers": [
            {"name": "x", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "name": "x"}, "inbound_nodes": []},
            {"name": "inner", "class_name": "Sequential", "config": inner, "inbound_nodes": [[["x", 0, 0, {}]]]},
        ],
        "input_layers": [["x", 0, 0]], "output_layers": [["inner", 0, 0]]}});
    let m = TfjsModel::from_parts(&model_json(topology, json!([])), no_shards).unwrap();
    let nested = m.layer("inner").unwrap().as_model().unwrap().unwrap();
    assert_eq!(nested.class_name, "Sequential");
    assert_eq!(
        nested.layers.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
        ["inner_in", "inner_dense"]
    );
}

// ---------------------------------------------------------------------------------------
// Weight dtypes and quantization, hand-built

fn one_layer_topology() -> Value {
    json!({"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 1], "name": "in"}}]}})
}

fn decode(weights: Value, shard: Vec<u8>) -> Result<TfjsModel> {
    let json = model_json(one_layer_topology(), json!([{"paths": ["w.bin"], "weights": weights}]));
    TfjsModel::from_parts(&json, |p| if p == "w.bin" { Ok(shard.clone()) } else { no_shards(p) })
}

#[test]
fn every_weight_encoding() {
    let mut shard = Vec::new();
    shard.extend([1.5f32, -2.0].iter().flat_map(|x| x.to_le_bytes()));
    shard.extend([-7i32, 1 << 30].iter().flat_map(|x| x.to_le_bytes()));
    shard.extend([0u8, 1, 1]); // bool
    shard.extend([0u8, 200]); // uint8
    shard.extend([0u8, 1, 255]); // uint8-quantized float32
    shard.extend([0u16, 40000, 65535].iter().flat_map(|x| x.to_le_bytes())); // uint16-quantized
    shard.extend(
        [0x3c00u16, 0xc000, 0x7bff, 0x0001, 0x7c00]
            .iter()
            .flat_map(|x| x.to_le_bytes()),
    ); // float16
    shard.extend([0u8, 1, 2, 3]); // uint8-quantized int32, Math.round of -1.5, -0.5, 0.5, 1.5
    let weights = json!([
        {"name": "f", "shape": [2], "dtype": "float32"},
        {"name": "i", "shape": [1, 2], "dtype": "int32"},
        {"name": "b", "shape": [3], "dtype": "bool"},
        {"name": "u", "shape": [2], "dtype": "uint8"},
        {"name": "q8", "shape": [3], "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0}},
        {"name": "q16", "shape": [3], "dtype": "float32", "quantization": {"dtype": "uint16", "scale": 0.001, "min": -20.0, "original_dtype": "float32"}},
        {"name": "h", "shape": [5], "dtype": "float32", "quantization": {"dtype": "float16"}},
        {"name": "qi", "shape": [4], "dtype": "int32", "quantization": {"dtype": "uint8", "scale": 1.0, "min": -1.5}},
    ]);
    let m = decode(weights, shard).unwrap();
    let w = |n: &str| m.weight(n).unwrap().data.clone();
    assert_eq!(w("f"), CpuData::F32(vec![1.5, -2.0]));
    assert_eq!(m.weight("i").unwrap().shape, [1, 2]);
    assert_eq!(w("i"), CpuData::I32(vec![-7, 1 << 30]));
    assert_eq!(w("b"), CpuData::U8(vec![0, 1, 1]));
    assert_eq!(w("u"), CpuData::U8(vec![0, 200]));
    assert_eq!(w("q8"), CpuData::F32(vec![-1.0, -0.5, 126.5]));
    assert_eq!(
        w("q16"),
        CpuData::F32(vec![
            -20.0,
            (40000.0 * 0.001 - 20.0) as f32,
            (65535.0 * 0.001 - 20.0) as f32
        ])
    );
    assert_eq!(
        w("h"),
        CpuData::F32(vec![1.0, -2.0, 65504.0, 2f32.powi(-24), f32::INFINITY])
    );
    assert_eq!(w("qi"), CpuData::I32(vec![-1, 0, 1, 2]));

    // The writer: f64 narrows to float32, u8 widens to int32; values survive.
    let mut m2 = m.clone();
    m2.weights.push(convbook::io::NamedWeight {
        name: "d".into(),
        shape: vec![2],
        data: CpuData::F64(vec![0.25, -8.0]),
    });
    let back = round_trip(&m2);
    let fresh = round_trip(&TfjsModel::new(m2.topology(), m2.weights.clone()));
    assert_eq!(
        (fresh.layers, fresh.weights),
        (back.layers.clone(), back.weights.clone())
    );
    assert_eq!(back.weight("d").unwrap().data, CpuData::F32(vec![0.25, -8.0]));
    assert_eq!(back.weight("u").unwrap().data, CpuData::I32(vec![0, 200]));
    assert_eq!(back.weight("b").unwrap().data, CpuData::I32(vec![0, 1, 1]));
    assert_eq!(back.weight("q8").unwrap().data, w("q8"));
}

fn err(result: Result<TfjsModel>) -> String {
    match result {
        Ok(m) => panic!("expected an error, parsed {} layers", m.layers.len()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn weight_errors_say_what_is_wrong() {
    let f = |name: &str, shape: Value| json!({"name": name, "shape": shape, "dtype": "float32"});
    let two = json!([f("a", json!([2])), f("b", json!([3]))]);

    let e = err(decode(two.clone(), vec![0; 19]));
    assert!(
        e.contains("truncated")
            && e.contains("20 bytes")
            && e.contains("19")
            && e.contains("'b'")
            && e.contains("w.bin"),
        "{e}"
    );
    let e = err(decode(two.clone(), vec![0; 24]));
    assert!(e.contains("24 bytes") && e.contains("describes 20"), "{e}");
    let e = err(TfjsModel::from_parts(
        &model_json(one_layer_topology(), json!([{"paths": ["gone.bin"], "weights": two}])),
        no_shards,
    ));
    assert!(e.contains("gone.bin"), "{e}");

    let cases = [
        (json!([{"name": "s", "shape": [1], "dtype": "string"}]), "string"),
        (json!([{"name": "c", "shape": [1], "dtype": "complex64"}]), "complex64"),
        (
            json!([{"name": "x", "shape": [1], "dtype": "float64"}]),
            "unsupported dtype",
        ),
        (
            json!([{"name": "q", "shape": [1], "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 1.0}}]),
            "scale and min",
        ),
        (
            json!([{"name": "q", "shape": [1], "dtype": "float32", "quantization": {"dtype": "int4"}}]),
            "quantization dtype",
        ),
        (
            json!([{"name": "q", "shape": [1], "dtype": "int32", "quantization": {"dtype": "float16"}}]),
            "not defined",
        ),
        (
            json!([{"name": "n", "shape": [-1], "dtype": "float32"}]),
            "weights[0] ('n')",
        ),
        (json!([{"name": "n", "dtype": "float32"}]), "shape"),
        (
            json!([{"name": "huge", "shape": [4294967296u64, 4294967296u64, 4294967296u64], "dtype": "float32"}]),
            "too large",
        ),
        (
            json!([{"name": "huge", "shape": [1073741824u64, 1073741824u64], "dtype": "float32"}]),
            "truncated",
        ),
        (json!([f("dup", json!([1])), f("dup", json!([1]))]), "twice"),
    ];
    for (weights, needle) in cases {
        let e = err(decode(weights.clone(), vec![0; 8]));
        assert!(e.contains(needle), "{weights}: error {e:?} lacks {needle:?}");
    }
    let e = err(TfjsModel::from_parts(
        &model_json(
            one_layer_topology(),
            json!([{"paths": [], "weights": [f("a", json!([1]))]}]),
        ),
        no_shards,
    ));
    assert!(e.contains("no shard paths"), "{e}");
}

#[test]
fn topology_errors_say_what_is_wrong() {
    let functional = |layers: Value, inputs: Value, outputs: Value| {
        model_json(
            json!({"class_name": "Functional", "config": {"name": "m", "layers": layers, "input_layers": inputs, "output_layers": outputs}}),
            json!([]),
        )
    };
    let input = json!({"name": "x", "class_name": "InputLayer", "config": {"batch_shape": [null, 2], "name": "x"}, "inbound_nodes": []});
    let dense_on = |name: &str, node: Value| json!({"name": name, "class_name": "Dense", "config": {"units": 1}, "inbound_nodes": [node]});
    let k3 = |layer: &str, node: usize| json!({"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": [layer, node, 0]}}], "kwargs": {}});

    let cases = [
        ("not json".to_string(), "invalid JSON"),
        ("[1, 2]".to_string(), "JSON object"),
        (
            json!({"format": "graph-model", "modelTopology": {"node": []}}).to_string(),
            "graph model",
        ),
        (
            json!({"modelTopology": {"node": [], "versions": {}}}).to_string(),
            "graph model",
        ),
        (
            json!({"format": "layers-model", "weightsManifest": []}).to_string(),
            "no modelTopology",
        ),
        (
            model_json(json!({"class_name": "Bogus", "config": {}}), json!([])),
            "unsupported model class",
        ),
        (model_json(json!({"config": {}}), json!([])), "class_name"),
        (
            model_json(json!({"class_name": "Sequential", "config": {"layers": []}}), json!([])),
            "no layers",
        ),
        (
            functional(
                json!([input, dense_on("d", k3("nope", 0))]),
                json!([["x", 0, 0]]),
                json!(["d", 0, 0]),
            ),
            "'nope'",
        ),
        (
            functional(
                json!([input, dense_on("d", k3("x", 3))]),
                json!([["x", 0, 0]]),
                json!(["d", 0, 0]),
            ),
            "node 3 of layer 'x'",
        ),
        (
            functional(
                json!([input, dense_on("d", json!([["x", 0, 0, {}]]))]),
                json!([["x", 0, 0]]),
                json!(["zz", 0, 0]),
            ),
            "output_layers",
        ),
        (
            functional(json!([input, input]), json!([["x", 0, 0]]), json!(["x", 0, 0])),
            "two layers are named 'x'",
        ),
        (
            functional(
                json!([input, dense_on("d", json!([["x", "zero", 0, {}]]))]),
                json!([]),
                json!([]),
            ),
            "[layer name, node index, tensor index]",
        ),
        (
            functional(json!([input, dense_on("d", json!(7))]), json!([]), json!([])),
            "layer 'd', inbound node 0",
        ),
        (
            functional(
                json!([
                    input,
                    dense_on("d", json!({"args": [{"class_name": "__keras_tensor__", "config": {}}]}))
                ]),
                json!([]),
                json!([]),
            ),
            "keras_history",
        ),
    ];
    for (text, needle) in cases {
        let e = err(TfjsModel::from_parts(&text, no_shards));
        assert!(e.contains(needle), "{text}: error {e:?} lacks {needle:?}");
    }
}

#[test]
fn load_names_the_missing_file() {
    let dir = std::env::temp_dir().join(format!("convbook_io_tfjs_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = model_json(
        one_layer_topology(),
        json!([{"paths": ["group1-shard1of1.bin"], "weights": [{"name": "w", "shape": [1], "dtype": "float32"}]}]),
    );
    std::fs::write(dir.join("model.json"), json).unwrap();
    let e = TfjsModel::load(dir.join("model.json")).unwrap_err().to_string();
    assert!(e.contains("group1-shard1of1.bin") && e.contains("model.json"), "{e}");
    std::fs::write(dir.join("group1-shard1of1.bin"), 2.5f32.to_le_bytes()).unwrap();
    let m = TfjsModel::load(dir.join("model.json")).unwrap();
    assert_eq!(m.weights[0].data, CpuData::F32(vec![2.5]));
    m.save(dir.join("saved")).unwrap();
    assert_eq!(
        TfjsModel::load(dir.join("saved/model.json")).unwrap().weights,
        m.weights
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Writes the writer's output for TensorFlow.js to load (tests/fixtures/io/tfjs_check.cjs):
/// `cargo test --test io_tfjs -- --ignored write_models_for_tfjs_check`.
#[test]
#[ignore]
fn write_models_for_tfjs_check() {
    let out = std::env::var_os("CONVBOOK_TFJS_CHECK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/io_tfjs_check"));
    nsfwjs().save(out.join("nsfwjs")).unwrap();
    let topology = json!({"class_name": "Sequential", "config": {"name": "seq", "layers": [
        dense("dense_1", 4, json!({"batch_input_shape": [null, 3]})), dense("dense_2", 2, json!({"activation": "softmax"}))]}});
    let sizes = [
        ("dense_1/kernel", vec![3, 4]),
        ("dense_1/bias", vec![4]),
        ("dense_2/kernel", vec![4, 2]),
        ("dense_2/bias", vec![2]),
    ];
    let mut shard = Vec::new();
    let mut specs = Vec::new();
    for (i, (name, shape)) in sizes.iter().enumerate() {
        let n: usize = shape.iter().product();
        shard.extend((0..n).flat_map(|k| ((k as f32 + 1.0) * 0.1 * if i % 2 == 0 { 1.0 } else { -1.0 }).to_le_bytes()));
        specs.push(json!({"name": name, "shape": shape, "dtype": "float32"}));
    }
    let seq = TfjsModel::from_parts(
        &model_json(topology, json!([{"paths": ["s.bin"], "weights": specs}])),
        |_| Ok(shard.clone()),
    )
    .unwrap();
    seq.save(out.join("keras2_sequential")).unwrap();
    eprintln!("wrote {}", out.display());
}
