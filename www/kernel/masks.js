// Segmentation masks as pictures: class ids painted with a categorical palette (tab10,
// so neighbouring ids never get similar colours, unlike a continuous colormap), alone
// or blended over the image they label.

import { toRGBA } from './pixels.js';

export const PALETTE = [
  ['blue', [31, 119, 180]], ['orange', [255, 127, 14]], ['green', [44, 160, 44]], ['red', [214, 39, 40]],
  ['purple', [148, 103, 189]], ['brown', [140, 86, 75]], ['pink', [227, 119, 194]], ['gray', [127, 127, 127]],
  ['olive', [188, 189, 34]], ['cyan', [23, 190, 207]],
];

// A trailing channel axis of 1 is dropped: [N, H, W, 1] masks come straight from argmax(keepdims).
function maskShape(shape) {
  const s = shape.at(-1) === 1 && shape.length > 2 ? shape.slice(0, -1) : [...shape];
  if (s.length !== 2 && s.length !== 3) throw new Error(`display.mask: expected a mask [H, W] or a batch [N, H, W] of class ids, got [${shape.join(', ')}]`);
  return s.length === 2 ? [1, ...s] : s;
}

/**
 * mask: {values, shape} of class ids; image: {values, shape} or null. opts: {alpha
 * (the mask's weight over the image, default 0.5), columns, gap}. -> {width, height, pixels, tiles}.
 */
export function maskRGBA(mask, image, opts = {}) {
  const [n, h, w] = maskShape(mask.shape);
  // Paint the ids as an RGB batch, then let toRGBA lay out the grid (and the gaps).
  const rgb = new Uint8Array(n * h * w * 3);
  for (let i = 0; i < n * h * w; i++) {
    const id = Math.round(mask.values[i]);
    if (!(id >= 0 && id < PALETTE.length)) throw new Error(`display.mask: class id ${mask.values[i]} at pixel ${i}: ids must be 0 to ${PALETTE.length - 1}`);
    rgb.set(PALETTE[id][1], i * 3);
  }
  const painted = toRGBA({ values: rgb, shape: [n, h, w, 3] }, opts);
  if (!image) return painted;
  const under = toRGBA(image, opts);
  if (under.width !== painted.width || under.height !== painted.height) {
    throw new Error(`display.mask: the image [${image.shape.join(', ')}] does not match the mask [${mask.shape.join(', ')}]`);
  }
  const alpha = opts.alpha ?? 0.5;
  const out = under.pixels;
  for (let i = 0; i < out.length; i += 4) {
    for (let k = 0; k < 3; k++) out[i + k] = Math.round((1 - alpha) * out[i + k] + alpha * painted.pixels[i + k]);
  }
  return { ...under, pixels: out };
}

/** "pet = blue, background = orange, …" for a caption. */
export const legend = (labels) => labels.map((name, i) => `${name} = ${PALETTE[i][0]}`).join(', ');
