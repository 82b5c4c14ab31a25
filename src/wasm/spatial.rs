//! Convolution and pooling as tensor methods (`x.conv2d(kernel, {strides, padding})`,
//! `x.maxPool2d({poolSize})`), the functional forms of Conv2D and MaxPooling2D, so a
//! cell can apply a hand-made kernel to a photo. Inputs are NHWC, or HWC for one image
//! (the result then has no batch axis either); kernels are HWIO, as in Keras.

use wasm_bindgen::prelude::*;

use super::{beside, js_err, json_of, wrap, JsTensor};
use crate::ops::conv2d::conv2d;
use crate::ops::pool2d::{pool2d, pool2d_spec};
use crate::ops::geometry::Padding;
use crate::ops::pool2d::PoolKind;
use crate::options::Options;
use crate::shape::fmt_shape;
use crate::tensor::Tensor;

/// `padding`: "valid" (default) or "same", any case.
fn padding(o: &Options) -> crate::Result<Padding> {
    Ok(match o.choice("padding", &["valid", "same"], "valid")? {
        "same" => Padding::Same,
        _ => Padding::Valid,
    })
}

/// Runs `f` on `x` as a batch: a single HWC image gets a batch axis of 1, removed after.
pub(super) fn batched(x: &Tensor, op: &str, f: impl FnOnce(&Tensor) -> crate::Result<Tensor>) -> Result<JsTensor, JsError> {
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
    let read = |o: &Options| -> crate::Result<_> {
        let size = o.positive_pair("pool_size", [2, 2])?;
        // Keras: strides default to the pool size.
        let strides = o.positive_pair("strides", size)?;
        let pad = padding(o)?;
        o.finish()?;
        Ok((size, strides, pad))
    };
    let (size, strides, pad) = read(&Options::new(op, &json_of(options, op)?).map_err(js_err)?).map_err(js_err)?;
    let strides = Some(strides);
    batched(&x.inner, op, |x| pool2d(x, &pool2d_spec(x, kind, size, strides, pad)?))
}

#[wasm_bindgen(js_class = Tensor)]
impl JsTensor {
    /// Keras Conv2D without bias or activation. Options: `strides` (1), `padding`
    /// ("valid" | "same"), `dilationRate` (1).
    pub fn conv2d(&self, kernel: &JsTensor, options: JsValue) -> Result<JsTensor, JsError> {
        const OP: &str = "conv2d";
        let read = |o: &Options| -> crate::Result<_> {
            let strides = o.positive_pair("strides", [1, 1])?;
            let dilation = o.positive_pair("dilation_rate", [1, 1])?;
            let pad = padding(o)?;
            o.finish()?;
            Ok((strides, dilation, pad))
        };
        let (strides, dilation, pad) = read(&Options::new(OP, &json_of(options, OP)?).map_err(js_err)?).map_err(js_err)?;
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
