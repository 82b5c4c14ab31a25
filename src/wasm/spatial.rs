//! Convolution and pooling as tensor methods (`x.conv2d(kernel, {strides, padding})`,
//! `x.maxPool2d({poolSize})`), the functional forms of Conv2D and MaxPooling2D, so a
//! cell can apply a hand-made kernel to a photo. Inputs are NHWC, or HWC for one image
//! (the result then has no batch axis either); kernels are HWIO, as in Keras.

use serde::Deserialize;
use wasm_bindgen::prelude::*;

use super::data::parse_args;
use super::{beside, js_err, wrap, JsTensor};
use crate::ops::conv2d::conv2d;
use crate::ops::pool2d::{pool2d, pool2d_spec};
use crate::ops::geometry::Padding;
use crate::ops::pool2d::PoolKind;
use crate::shape::fmt_shape;
use crate::tensor::Tensor;

/// A Keras size argument: one number for both axes, or `[rows, columns]`.
#[derive(Deserialize, Clone, Copy)]
#[serde(untagged)]
enum Pair {
    One(usize),
    Two([usize; 2]),
}

impl Pair {
    fn get(self, what: &str, op: &str) -> Result<[usize; 2], JsError> {
        let p = match self {
            Pair::One(v) => [v, v],
            Pair::Two(p) => p,
        };
        if p[0] == 0 || p[1] == 0 {
            return Err(JsError::new(&format!("{op}: {what} must be positive, got [{}, {}]", p[0], p[1])));
        }
        Ok(p)
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ConvArgs {
    strides: Option<Pair>,
    padding: Option<String>,
    #[serde(alias = "dilation_rate")]
    dilation_rate: Option<Pair>,
}

const CONV_KEYS: &[&str] = &["strides", "padding", "dilationRate", "dilation_rate"];

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PoolArgs {
    #[serde(alias = "pool_size")]
    pool_size: Option<Pair>,
    strides: Option<Pair>,
    padding: Option<String>,
}

const POOL_KEYS: &[&str] = &["poolSize", "pool_size", "strides", "padding"];

fn padding(p: Option<String>, op: &str) -> Result<Padding, JsError> {
    Padding::parse(p.as_deref().unwrap_or("valid")).map_err(|e| JsError::new(&format!("{op}: {}", e.message())))
}

/// Runs `f` on `x` as a batch: a single HWC image gets a batch axis of 1, removed after.
fn batched(x: &Tensor, op: &str, f: impl FnOnce(&Tensor) -> crate::Result<Tensor>) -> Result<JsTensor, JsError> {
    match x.rank() {
        4 => wrap(f(x)),
        3 => {
            let s = x.shape();
            let one = x.reshape(&[1, s[0] as isize, s[1] as isize, s[2] as isize]).map_err(js_err)?;
            let y = f(&one).map_err(js_err)?;
            let s = y.shape();
            wrap(y.reshape(&[s[1] as isize, s[2] as isize, s[3] as isize]))
        }
        _ => Err(JsError::new(&format!(
            "{op}: expects an image (height, width, channels) or a batch (batch, height, width, channels), got {}",
            fmt_shape(x.shape())
        ))),
    }
}

fn pool(x: &JsTensor, options: JsValue, kind: PoolKind, op: &str) -> Result<JsTensor, JsError> {
    let args: PoolArgs = parse_args(options, op, POOL_KEYS)?;
    let size = args.pool_size.unwrap_or(Pair::One(2)).get("poolSize", op)?;
    let strides = args.strides.map(|s| s.get("strides", op)).transpose()?;
    let pad = padding(args.padding, op)?;
    batched(&x.inner, op, |x| pool2d(x, &pool2d_spec(x, kind, size, strides, pad)?))
}

#[wasm_bindgen(js_class = Tensor)]
impl JsTensor {
    /// Keras Conv2D without bias or activation. Options: `strides` (1), `padding`
    /// ("valid" | "same"), `dilationRate` (1).
    pub fn conv2d(&self, kernel: &JsTensor, options: JsValue) -> Result<JsTensor, JsError> {
        const OP: &str = "conv2d";
        let args: ConvArgs = parse_args(options, OP, CONV_KEYS)?;
        let strides = args.strides.unwrap_or(Pair::One(1)).get("strides", OP)?;
        let dilation = args.dilation_rate.unwrap_or(Pair::One(1)).get("dilationRate", OP)?;
        let pad = padding(args.padding, OP)?;
        let (x, kernel) = beside(&self.inner, &kernel.inner).map_err(js_err)?;
        batched(&x, OP, |x| conv2d(x, &kernel, None, strides, pad, dilation))
    }

    /// Keras MaxPooling2D. Options: `poolSize` (2), `strides` (the pool size), `padding`.
    #[wasm_bindgen(js_name = maxPool2d)]
    pub fn max_pool2d(&self, options: JsValue) -> Result<JsTensor, JsError> {
        pool(self, options, PoolKind::Max, "maxPool2d")
    }

    /// Keras AveragePooling2D. Options as `maxPool2d`.
    #[wasm_bindgen(js_name = averagePool2d)]
    pub fn average_pool2d(&self, options: JsValue) -> Result<JsTensor, JsError> {
        pool(self, options, PoolKind::Average, "averagePool2d")
    }
}
