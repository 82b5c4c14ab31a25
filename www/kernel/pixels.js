// Turns what a cell hands to display.image (a tensor's values, raw pixel arrays, nested
// arrays) into one RGBA buffer the page can paint. Batches ([N, H, W(, C)]) become a
// grid of tiles, the way activation maps and filters are usually shown.

import { colormapTable } from '../render/colormaps.js';

function flatten(nested) {
  const shape = [];
  for (let v = nested; Array.isArray(v); v = v[0]) shape.push(v.length);
  return { values: Float64Array.from(nested.flat(Infinity)), shape };
}

/** `{values, shape}` from a plain source; tensors are read by the caller. */
export function plainSource(src, opts) {
  if (Array.isArray(src)) return flatten(src);
  if (src && ArrayBuffer.isView(src.data) && src.width && src.height) {
    // ImageData-like: already RGBA.
    return { values: src.data, shape: [src.height, src.width, 4] };
  }
  if (ArrayBuffer.isView(src)) {
    const { width, height } = opts;
    if (!width || !height) throw new Error('display.image: pass {width, height} with a flat pixel array');
    const channels = src.length / (width * height);
    if (![1, 3, 4].includes(channels)) {
      throw new Error(`display.image: ${src.length} values do not make a ${width}x${height} image with 1, 3 or 4 channels`);
    }
    return { values: src, shape: channels === 1 ? [height, width] : [height, width, channels] };
  }
  throw new Error('display.image: expected a tensor, a typed array with {width, height}, ImageData or nested arrays');
}

// [H,W] | [H,W,C] | [N,H,W] | [N,H,W,C] -> tiles of {h, w, c}.
function layout(shape) {
  const s = [...shape];
  if (s.length === 2) return { n: 1, h: s[0], w: s[1], c: 1 };
  if (s.length === 3) {
    if ([1, 3, 4].includes(s[2]) && s[2] < s[1]) return { n: 1, h: s[0], w: s[1], c: s[2] };
    return { n: s[0], h: s[1], w: s[2], c: 1 };
  }
  if (s.length === 4 && [1, 3, 4].includes(s[3])) return { n: s[0], h: s[1], w: s[2], c: s[3] };
  throw new Error(`display.image: cannot show shape [${shape.join(', ')}]; use [H, W], [H, W, C], [N, H, W] or [N, H, W, C] with C in 1, 3, 4`);
}

function range(values, from, to) {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = from; i < to; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/**
 * opts: colormap (single-channel only), min/max (fixed range), normalize ("each" tile
 * or "all" together), symmetric (range ±max|v|, so zero sits mid-colormap; the default
 * for the diverging "coolwarm"), columns (grid width), gap (pixels between tiles).
 */
export function toRGBA({ values, shape }, opts = {}) {
  const { n, h, w, c } = layout(shape);
  const bytes = values instanceof Uint8Array || values instanceof Uint8ClampedArray;
  const columns = Math.max(1, Math.min(n, opts.columns ?? Math.ceil(Math.sqrt(n))));
  const rows = Math.ceil(n / columns);
  const gap = n > 1 ? (opts.gap ?? 1) : 0;
  const width = columns * w + (columns - 1) * gap;
  const height = rows * h + (rows - 1) * gap;
  const out = new Uint8ClampedArray(width * height * 4);
  // Gaps are a neutral mid-gray so tiles stay distinguishable on any colormap.
  for (let i = 0; i < out.length; i += 4) out.set([128, 128, 128, 255], i);
  const lut = c === 1 ? colormapTable(opts.colormap ?? 'gray') : null;
  const tileSize = h * w * c;
  const all = opts.normalize === 'all' ? range(values, 0, n * tileSize) : null;
  for (let t = 0; t < n; t++) {
    const base = t * tileSize;
    let [lo, hi] = bytes && opts.min === undefined && opts.max === undefined ? [0, 255] : all ?? range(values, base, base + tileSize);
    if (opts.symmetric ?? opts.colormap === 'coolwarm') {
      const m = Math.max(Math.abs(lo), Math.abs(hi));
      [lo, hi] = [-m, m];
    }
    if (opts.min !== undefined) lo = opts.min;
    if (opts.max !== undefined) hi = opts.max;
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    const ox = (t % columns) * (w + gap);
    const oy = Math.floor(t / columns) * (h + gap);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const src = base + (y * w + x) * c;
        const dst = ((oy + y) * width + ox + x) * 4;
        const q = (v) => Math.max(0, Math.min(255, Math.round((v - lo) * scale)));
        if (lut) {
          const k = q(values[src]) * 3;
          out[dst] = lut[k];
          out[dst + 1] = lut[k + 1];
          out[dst + 2] = lut[k + 2];
          out[dst + 3] = 255;
        } else {
          out[dst] = q(values[src]);
          out[dst + 1] = q(values[src + 1]);
          out[dst + 2] = q(values[src + 2]);
          out[dst + 3] = c === 4 ? q(values[src + 3]) : 255;
        }
      }
    }
  }
  return { width, height, pixels: out, tiles: n };
}
