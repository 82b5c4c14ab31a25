//! Image resizing as a tensor method, `x.resize([height, width], {method})`, what
//! `tf.image.resize` / `keras.ops.image.resize` do. Inputs are NHWC, or HWC for one image
//! (the result then has no batch axis either).

use wasm_bindgen::prelude::*;

use super::spatial::batched;
use super::{js_err, json_of, JsTensor};
use crate::ops::resize::resize_images;
use crate::ops::resize::spec::read_resize_options;
use crate::options::Options;

#[wasm_bindgen(js_class = Tensor)]
impl JsTensor {
    /// Options: `method` or `interpolation` ("bilinear" | "nearest", default bilinear),
    /// `cropToAspectRatio`, `padToAspectRatio` with `fillValue`; `antialias` false only.
    pub fn resize(&self, size: Vec<u32>, options: JsValue) -> Result<JsTensor, JsError> {
        const OP: &str = "resize";
        let [h, w] = size[..] else {
            return Err(JsError::new(&format!("{OP}: size must be [height, width], got {size:?}")));
        };
        let read = |o: &Options| -> crate::Result<_> {
            let r = read_resize_options(o, true)?;
            o.finish()?;
            Ok(r)
        };
        let (method, aspect) = read(&Options::new(OP, &json_of(options, OP)?).map_err(js_err)?).map_err(js_err)?;
        batched(&self.inner, OP, |x| resize_images(x, [h as usize, w as usize], method, aspect))
    }
}
