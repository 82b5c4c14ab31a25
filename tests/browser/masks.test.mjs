// display.mask's painting (www/kernel/masks.js): class ids in the categorical palette,
// blended over an image, and the errors a wrong mask gets.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { legend, maskRGBA, PALETTE } from '../../www/kernel/masks.js';

const px = (out, i) => Array.from(out.pixels.slice(i * 4, i * 4 + 4));

test('each class id gets its palette colour; a trailing channel of 1 is dropped', () => {
  const out = maskRGBA({ values: [0, 1, 2, 1], shape: [2, 2, 1] }, null);
  assert.deepEqual([out.width, out.height], [2, 2]);
  assert.deepEqual(px(out, 0), [...PALETTE[0][1], 255]);
  assert.deepEqual(px(out, 2), [...PALETTE[2][1], 255]);
  assert.deepEqual(px(out, 3), px(out, 1));
});

test('an overlay blends the mask colour with the image by alpha', () => {
  const image = { values: new Uint8Array([255, 0, 0, 0]), shape: [2, 2] };
  const out = maskRGBA({ values: [1, 1, 1, 1], shape: [2, 2] }, image, { alpha: 0.25 });
  const [r, g, b] = PALETTE[1][1];
  assert.deepEqual(px(out, 0), [Math.round(0.75 * 255 + 0.25 * r), Math.round(0.75 * 255 + 0.25 * g), Math.round(0.75 * 255 + 0.25 * b), 255]);
  assert.deepEqual(px(out, 1), [Math.round(0.25 * r), Math.round(0.25 * g), Math.round(0.25 * b), 255]);
});

test('a batch of masks is a grid, like display.image', () => {
  const out = maskRGBA({ values: new Float32Array(3 * 4 * 5), shape: [3, 4, 5] }, null, { columns: 3 });
  assert.deepEqual([out.width, out.height], [3 * 5 + 2, 4]);
});

test('wrong ids, shapes and image sizes are errors that say what was passed', () => {
  assert.throws(() => maskRGBA({ values: [0, 11], shape: [1, 2] }, null), /class id 11 at pixel 1/);
  assert.throws(() => maskRGBA({ values: [0], shape: [1] }, null), /expected a mask \[H, W\].*got \[1\]/);
  assert.throws(() => maskRGBA({ values: [0, 0], shape: [1, 2] }, { values: new Uint8Array(9), shape: [3, 3] }), /image \[3, 3\] does not match the mask \[1, 2\]/);
  assert.equal(legend(['pet', 'background', 'outline']), 'pet = blue, background = orange, outline = green');
});
