// keras.utils image helpers, Keras's names and arguments: loadImg (a photo at a target
// size), imgToArray, arrayToImg, saveImg (a PNG download). An "image" here is a uint8
// tensor [height, width, channels]; an "array" a float32 one, as Keras's img_to_array.

export function imageUtils(datasets, display) {
  if (!datasets) return {};

  /**
   * loadImg(src, {targetSize: [h, w], colorMode: "rgb" | "grayscale" | "rgba",
   * interpolation, keepAspectRatio}): src is a URL, bytes, a File, or the name of an
   * embedded photo ("chelsea", "coffee", ...).
   */
  async function loadImg(src, opts = {}) {
    const { targetSize, target_size, keepAspectRatio, keep_aspect_ratio, ...rest } = opts;
    const size = targetSize ?? target_size;
    const options = { ...rest, ...(size ? { size } : {}) };
    if (keepAspectRatio ?? keep_aspect_ratio) options.cropToAspectRatio = true;
    const embedded = typeof src === 'string' && /^[a-z]+$/.test(src);
    return embedded ? datasets.photo(src, options) : datasets.decodeImage(src, options);
  }

  /** float32 values 0–255, same shape. */
  const imgToArray = (img) => img.cast('float32');

  /**
   * uint8 image from an array. With scale (the default, as Keras) the values are
   * stretched to 0–255 first; without, they are clipped to it.
   */
  async function arrayToImg(x, { scale = true } = {}) {
    let y = x.cast('float32');
    if (scale) {
      const values = await y.data();
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of values) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      y = y.affine(hi > lo ? 255 / (hi - lo) : 0, hi > lo ? (-lo * 255) / (hi - lo) : 0);
    }
    return y.clamp(0, 255).cast('uint8');
  }

  /** Shows the picture and downloads it as a PNG named `path`. */
  async function saveImg(path, x, { scale = true } = {}) {
    const img = x.dtype === 'uint8' ? x : await arrayToImg(x, { scale });
    await display.image(img, { download: path, caption: `saved as ${path}` });
  }

  return {
    loadImg,
    imgToArray,
    arrayToImg,
    saveImg,
    load_img: loadImg,
    img_to_array: imgToArray,
    array_to_img: arrayToImg,
    save_img: saveImg,
  };
}
