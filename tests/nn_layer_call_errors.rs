//! A layer called on the wrong shapes says which layer once: its own check and the call
//! context both used to start with the layer's name.

use convbook::nn::{input, Layer, LayerKind};
use serde_json::json;

#[test]
fn a_layer_called_on_wrong_shapes_is_named_once() {
    let conv = Layer::new(LayerKind::from_config("Conv2D", &json!({"filters": 3, "kernel_size": 3})).unwrap(), Some("edges"));
    let e = conv.call(&[input(&[4], None).unwrap()]).unwrap_err().to_string();
    assert_eq!(e, "layer \"edges\" (Conv2D) called on (None, 4): expects a 4-D input (batch, height, width, channels), got (None, 4)");
}
