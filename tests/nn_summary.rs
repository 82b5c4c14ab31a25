//! The seed chapters' models build with Keras's names and shapes, and summary() reports
//! exactly the parameter counts the books print.

use convbook::nn::{input, KerasTensor, Layer, LayerKind, Model};
use serde_json::{json, Value};

fn layer(class: &str, config: Value) -> Layer {
    Layer::new(LayerKind::from_config(class, &config).unwrap(), None)
}

fn apply(class: &str, config: Value, x: &KerasTensor) -> KerasTensor {
    layer(class, config).call(&[x.clone()]).unwrap()
}

fn add(a: &KerasTensor, b: &KerasTensor) -> KerasTensor {
    layer("Add", json!({})).call(&[a.clone(), b.clone()]).unwrap()
}

fn mnist_convnet(pooling: bool) -> Model {
    let inputs = input(&[28, 28, 1], None).unwrap();
    let mut x = inputs.clone();
    for (i, filters) in [32, 64, 128].into_iter().enumerate() {
        x = apply("Conv2D", json!({"filters": filters, "kernel_size": 3, "activation": "relu"}), &x);
        if pooling && i < 2 {
            x = apply("MaxPooling2D", json!({"pool_size": 2}), &x);
        }
    }
    x = apply("Flatten", json!({}), &x);
    let outputs = apply("Dense", json!({"units": 10, "activation": "softmax"}), &x);
    Model::new(&[inputs], &[outputs], None).unwrap()
}

fn augmentation(x: &KerasTensor) -> KerasTensor {
    let x = apply("RandomFlip", json!({"mode": "horizontal"}), x);
    let x = apply("RandomRotation", json!({"factor": 0.1}), &x);
    apply("RandomZoom", json!({"height_factor": 0.2}), &x)
}

#[test]
fn mnist_convnet_matches_the_book() {
    let model = mnist_convnet(true);
    assert_eq!(model.count_params(), 104_202);
    let text = model.summary();
    assert!(text.starts_with("Model: \"functional\""), "{text}");
    for needle in [
        "│ input_layer (InputLayer)",
        "│ conv2d (Conv2D)",
        "(None, 26, 26, 32)",
        "│ max_pooling2d (MaxPooling2D)",
        "(None, 13, 13, 32)",
        "│ conv2d_2 (Conv2D)",
        "(None, 3, 3, 128)",
        "(None, 1152)",
        "│ dense (Dense)",
        "73,856",
        " Total params: 104,202 (407.04 KB)",
        " Trainable params: 104,202 (407.04 KB)",
        " Non-trainable params: 0 (0.00 B)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert!(!text.contains("Connected to"), "a chain has no Connected to column\n{text}");
    let rows = model.summary_data().rows;
    assert_eq!(rows.iter().map(|r| r.params).collect::<Vec<_>>(), vec![0, 320, 0, 18_496, 0, 73_856, 0, 11_530]);
}

#[test]
fn mnist_without_pooling_has_712202_params() {
    let model = mnist_convnet(false);
    assert_eq!(model.count_params(), 712_202);
    assert!(model.summary().contains("(None, 61952)"));
}

#[test]
fn cats_vs_dogs_with_augmentation_has_991041_params() {
    let inputs = input(&[180, 180, 3], None).unwrap();
    let mut x = augmentation(&inputs);
    x = apply("Rescaling", json!({"scale": 1.0 / 255.0}), &x);
    for (i, filters) in [32, 64, 128, 256, 256].into_iter().enumerate() {
        x = apply("Conv2D", json!({"filters": filters, "kernel_size": 3, "activation": "relu"}), &x);
        if i < 4 {
            x = apply("MaxPooling2D", json!({"pool_size": 2}), &x);
        }
    }
    x = apply("Flatten", json!({}), &x);
    x = apply("Dropout", json!({"rate": 0.5}), &x);
    let outputs = apply("Dense", json!({"units": 1, "activation": "sigmoid"}), &x);
    let model = Model::new(&[inputs], &[outputs], None).unwrap();
    assert_eq!(model.count_params(), 991_041);
    assert!(model.summary().contains("(None, 7, 7, 256)"));
}

#[test]
fn segmentation_model_has_2880643_params() {
    let inputs = input(&[200, 200, 3], None).unwrap();
    let mut x = apply("Rescaling", json!({"scale": 1.0 / 255.0}), &inputs);
    for (filters, strides) in [(64, 2), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1)] {
        x = apply(
            "Conv2D",
            json!({"filters": filters, "kernel_size": 3, "strides": strides, "activation": "relu", "padding": "same"}),
            &x,
        );
    }
    for (filters, strides) in [(256, 1), (256, 2), (128, 1), (128, 2), (64, 1), (64, 2)] {
        x = apply(
            "Conv2DTranspose",
            json!({"filters": filters, "kernel_size": 3, "strides": strides, "activation": "relu", "padding": "same"}),
            &x,
        );
    }
    let outputs =
        apply("Conv2D", json!({"filters": 3, "kernel_size": 3, "activation": "softmax", "padding": "same"}), &x);
    assert_eq!(outputs.shape(), &[None, Some(200), Some(200), Some(3)]);
    let model = Model::new(&[inputs], &[outputs], None).unwrap();
    assert_eq!(model.count_params(), 2_880_643);
    assert!(model.summary().contains(" Total params: 2,880,643 (10.99 MB)"));
}

#[test]
fn residual_convnet_has_297697_params_and_connected_to() {
    let inputs = input(&[32, 32, 3], None).unwrap();
    let mut x = apply("Rescaling", json!({"scale": 1.0 / 255.0}), &inputs);
    for (filters, pooling) in [(32, true), (64, true), (128, false)] {
        let residual = x.clone();
        x = apply("Conv2D", json!({"filters": filters, "kernel_size": 3, "activation": "relu", "padding": "same"}), &x);
        x = apply("Conv2D", json!({"filters": filters, "kernel_size": 3, "activation": "relu", "padding": "same"}), &x);
        let projected = if pooling {
            x = apply("MaxPooling2D", json!({"pool_size": 2, "padding": "same"}), &x);
            apply("Conv2D", json!({"filters": filters, "kernel_size": 1, "strides": 2}), &residual)
        } else {
            apply("Conv2D", json!({"filters": filters, "kernel_size": 1}), &residual)
        };
        x = add(&x, &projected);
    }
    x = apply("GlobalAveragePooling2D", json!({}), &x);
    let outputs = apply("Dense", json!({"units": 1, "activation": "sigmoid"}), &x);
    let model = Model::new(&[inputs], &[outputs], None).unwrap();
    assert_eq!(model.count_params(), 297_697);
    let text = model.summary();
    assert!(text.contains("Connected to"), "{text}");
    assert!(text.contains("max_pooling2d[0][0]") && text.contains("conv2d_2[0][0]"), "{text}");
    assert!(text.contains(" Total params: 297,697 (1.14 MB)"), "{text}");
}

#[test]
fn mini_xception_counts_trainable_and_frozen_params() {
    let inputs = input(&[180, 180, 3], None).unwrap();
    let mut x = augmentation(&inputs);
    x = apply("Rescaling", json!({"scale": 1.0 / 255.0}), &x);
    x = apply("Conv2D", json!({"filters": 32, "kernel_size": 5, "use_bias": false}), &x);
    for size in [32, 64, 128, 256, 512] {
        let residual = x.clone();
        for _ in 0..2 {
            x = apply("BatchNormalization", json!({}), &x);
            x = apply("Activation", json!({"activation": "relu"}), &x);
            x = apply("SeparableConv2D", json!({"filters": size, "kernel_size": 3, "padding": "same", "use_bias": false}), &x);
        }
        x = apply("MaxPooling2D", json!({"pool_size": 3, "strides": 2, "padding": "same"}), &x);
        let r = apply(
            "Conv2D",
            json!({"filters": size, "kernel_size": 1, "strides": 2, "padding": "same", "use_bias": false}),
            &residual,
        );
        x = add(&x, &r);
    }
    x = apply("GlobalAveragePooling2D", json!({}), &x);
    x = apply("Dropout", json!({"rate": 0.5}), &x);
    let outputs = apply("Dense", json!({"units": 1, "activation": "sigmoid"}), &x);
    let model = Model::new(&[inputs], &[outputs], None).unwrap();
    assert_eq!(model.count_params(), 721_857);
    assert_eq!(model.count_trainable_params(), 718_849);
    let text = model.summary();
    assert!(text.contains(" Non-trainable params: 3,008 (11.75 KB)"), "{text}");

    // Freezing a layer moves its weights to the non-trainable count.
    model.get_layer("conv2d").unwrap().set_trainable(false);
    assert_eq!(model.count_trainable_params(), 718_849 - 5 * 5 * 3 * 32);
    assert!(model.get_layer("nope").unwrap_err().message().contains("No such layer: nope"));
}

#[test]
fn shape_errors_name_the_layer() {
    let inputs = input(&[28, 28], None).unwrap();
    let conv = layer("Conv2D", json!({"filters": 8, "kernel_size": 3}));
    let e = conv.call(&[inputs]).unwrap_err();
    assert!(e.message().contains("conv2d") && e.message().contains("(None, 28, 28)"), "{e}");
    let e = LayerKind::from_config("Conv2D", &json!({"filters": 8})).unwrap_err();
    assert!(e.message().contains("kernel_size"), "{e}");
    let a = input(&[4, 4, 3], None).unwrap();
    let b = input(&[4, 4, 5], None).unwrap();
    let e = layer("Add", json!({})).call(&[a, b]).unwrap_err();
    assert!(e.message().contains("(None, 4, 4, 3)") && e.message().contains("(None, 4, 4, 5)"), "{e}");
}

fn named(class: &str, config: Value, name: &str) -> Layer {
    Layer::new(LayerKind::from_config(class, &config).unwrap(), Some(name))
}

/// The text Keras 3.15 prints for the same models.
#[test]
fn global_max_pooling_summaries_match_keras() {
    let inputs = input(&[32, 32, 3], Some("image")).unwrap();
    let x = named("Conv2D", json!({"filters": 16, "kernel_size": 3, "activation": "relu"}), "conv").call(&[inputs.clone()]).unwrap();
    let x = named("GlobalMaxPooling2D", json!({}), "gmp").call(&[x]).unwrap();
    let outputs = named("Dense", json!({"units": 10, "activation": "softmax"}), "head").call(&[x]).unwrap();
    let model = Model::new(&[inputs], &[outputs], Some("gmp_model")).unwrap();
    let keras = "\
Model: \"gmp_model\"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ image (InputLayer)              │ (None, 32, 32, 3)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv (Conv2D)                   │ (None, 30, 30, 16)     │           448 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ gmp (GlobalMaxPooling2D)        │ (None, 16)             │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ head (Dense)                    │ (None, 10)             │           170 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 618 (2.41 KB)
 Trainable params: 618 (2.41 KB)
 Non-trainable params: 0 (0.00 B)
";
    assert_eq!(model.summary().trim_end(), keras.trim_end());

    let layers = [
        named("Conv2D", json!({"filters": 4, "kernel_size": 3}), "c"),
        named("GlobalMaxPool2D", json!({"keepdims": true}), "pool"),
        named("Flatten", json!({}), "flat"),
        named("Dense", json!({"units": 2}), "out"),
    ];
    let model = convbook::nn::sequential(&[8, 8, 3], &layers, Some("seq")).unwrap();
    let keras = "\
Model: \"seq\"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ c (Conv2D)                      │ (None, 6, 6, 4)        │           112 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ pool (GlobalMaxPooling2D)       │ (None, 1, 1, 4)        │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ flat (Flatten)                  │ (None, 4)              │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ out (Dense)                     │ (None, 2)              │            10 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 122 (488.00 B)
 Trainable params: 122 (488.00 B)
 Non-trainable params: 0 (0.00 B)
";
    assert_eq!(model.summary().trim_end(), keras.trim_end());
}
