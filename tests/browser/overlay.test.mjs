// display.image's heatmap overlay (www/kernel/overlay.js) at the photo's own size (the
// browser test of GradientTape covers the canvas scaling), and gradient-tape.js's zip.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { overlayRGBA } from '../../www/kernel/overlay.js';
import { colormapTable } from '../../www/render/colormaps.js';
import { zip } from '../../www/kernel/gradient-tape.js';

const px = (out, i) => Array.from(out.pixels.slice(i * 4, i * 4 + 4));

test('the heatmap is coloured by the colormap over its range and blended by alpha', () => {
  const photo = { values: new Uint8Array([200, 0]), shape: [1, 2] };
  const heat = { values: [0, 1], shape: [1, 2] };
  const out = overlayRGBA(photo, heat, { alpha: 0.25, colormap: 'jet' });
  const lut = colormapTable('jet');
  const blend = (under, k) => Math.round(0.75 * under + 0.25 * lut[k]);
  assert.deepEqual(px(out, 0), [blend(200, 0), blend(200, 1), blend(200, 2), 255]);
  assert.deepEqual(px(out, 1), [blend(0, 765), blend(0, 766), blend(0, 767), 255]);
});

test('heatmaps of shape [1, H, W] or [H, W, 1] are accepted; others are errors naming the shape', () => {
  const photo = { values: new Uint8Array(4), shape: [2, 2] };
  assert.equal(overlayRGBA(photo, { values: [0, 1, 2, 3], shape: [1, 2, 2] }).width, 2);
  assert.equal(overlayRGBA(photo, { values: [0, 1, 2, 3], shape: [2, 2, 1] }).height, 2);
  assert.throws(() => overlayRGBA(photo, { values: new Float32Array(8), shape: [2, 2, 2] }), /heatmap must be \[H, W\].*got \[2, 2, 2\]/);
  assert.throws(() => overlayRGBA({ values: new Uint8Array(8), shape: [2, 2, 2, 1] }, { values: [0], shape: [1, 1] }), /one image, got \[2, 2, 2, 1\]/);
});

test('zip pairs lists up to the shorter, as Python', () => {
  assert.deepEqual(zip([1, 2, 3], ['a', 'b']), [[1, 'a'], [2, 'b']]);
});
