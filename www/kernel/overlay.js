// A heatmap over a photo (Grad-CAM, listing 9-20's superimposed image): the heatmap is
// coloured with a colormap, scaled to the photo's size on a canvas (bilinear, as the
// book's resize of the heatmap) and blended at `alpha` over the photo.

import { colormapTable } from '../render/colormaps.js';
import { toRGBA } from './pixels.js';

// [h, w], [1, h, w] or [h, w, 1] -> [h, w].
function heatmapShape(shape) {
  const s = shape.filter((d, i) => !(d === 1 && (i === 0 || i === shape.length - 1) && shape.length > 2));
  if (s.length !== 2) throw new Error(`display.image: a heatmap must be [H, W] (or [1, H, W], [H, W, 1]), got [${shape.join(', ')}]`);
  return s;
}

/** The heatmap's colours as an RGBA canvas of its own size; values are clipped to [min, max]. */
function colouredHeatmap({ values, shape }, { colormap = 'jet', min, max }) {
  const [h, w] = heatmapShape(shape);
  let lo = min ?? Infinity;
  let hi = max ?? -Infinity;
  if (min === undefined || max === undefined) {
    for (const v of values) {
      if (!Number.isFinite(v)) continue;
      if (min === undefined) lo = Math.min(lo, v);
      if (max === undefined) hi = Math.max(hi, v);
    }
  }
  if (!(hi > lo)) [lo, hi] = [lo === Infinity ? 0 : lo, (lo === Infinity ? 0 : lo) + 1];
  const lut = colormapTable(colormap);
  const rgba = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const k = Math.max(0, Math.min(255, Math.round(((values[i] - lo) / (hi - lo)) * 255))) * 3;
    rgba.set([lut[k], lut[k + 1], lut[k + 2], 255], i * 4);
  }
  return { width: w, height: h, rgba };
}

/** `rgba` (w×h) drawn at `width`×`height` with the canvas's smoothing. */
function scaled({ width: w, height: h, rgba }, width, height) {
  if (w === width && h === height) return rgba;
  if (typeof OffscreenCanvas !== 'function') throw new Error('display.image: scaling a heatmap needs OffscreenCanvas, which this browser lacks');
  const small = new OffscreenCanvas(w, h);
  small.getContext('2d').putImageData(new ImageData(rgba, w, h), 0, 0);
  const big = new OffscreenCanvas(width, height);
  const ctx = big.getContext('2d');
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(small, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height).data;
}

/**
 * photo: {values, shape} of one image ([H, W] or [H, W, C]); heatmap: {values, shape}.
 * opts: {alpha (the heatmap's weight, default 0.4 as the book), colormap ("jet"),
 * min/max (the heatmap's range; default its own)}, plus toRGBA's for the photo.
 */
export function overlayRGBA(photo, heatmap, opts = {}) {
  if (photo.shape.length === 4 && photo.shape[0] !== 1) throw new Error(`display.image: the photo under a heatmap must be one image, got [${photo.shape.join(', ')}]`);
  const under = toRGBA(photo.shape.length === 4 ? { ...photo, shape: photo.shape.slice(1) } : photo, { ...opts, colormap: undefined });
  const colours = scaled(colouredHeatmap(heatmap, opts), under.width, under.height);
  const alpha = opts.alpha ?? 0.4;
  const out = under.pixels;
  for (let i = 0; i < out.length; i += 4) {
    for (let k = 0; k < 3; k++) out[i + k] = Math.round((1 - alpha) * out[i + k] + alpha * colours[i + k]);
  }
  return under;
}
