// Image resizing from cells (www/dist through Vite's preview server): the tensor method
// `x.resize([h, w], {method})`, `keras.ops.image.resize`, and the Resizing and
// UpSampling2D layers in a model, with the values tf.image.resize gives and errors that
// name the op.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fatalLogs, openNotebookPage, runCode, startNotebook, waitDone } from './helpers.mjs';

const SCRATCH = '.scratch-cell';

let notebook;
let page;
let logs;

before(async () => {
  notebook = await startNotebook();
  ({ page, logs } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html#/8.1'));
});

after(async () => {
  await notebook?.close();
});

async function ok(code) {
  await runCode(page, SCRATCH, code);
  const state = await waitDone(page, SCRATCH, 120_000);
  const text = await page.innerText(`${SCRATCH} .cell-outputs`);
  assert.equal(state, 'done', text);
  return JSON.parse(text.trim().split('\n').at(-1));
}

describe('image resizing in cells', () => {
  test('tensor.resize and keras.ops.image.resize: half-pixel bilinear and nearest, HWC and NHWC', async () => {
    const r = await ok(`const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
const bilinear = x.resize([4, 4]);
const nearest = keras.ops.image.resize(x, [4, 4], {interpolation: 'nearest'});
const single = tensor([0, 1, 2, 3, 4, 5, 6, 7, 8], [3, 3, 1]).resize([1, 1], {method: 'nearest'});
const cropped = tensor([...Array(18).keys()], [2, 9, 1]).resize([2, 2], {cropToAspectRatio: true, method: 'nearest'});
const errors = [];
for (const f of [() => x.resize([4, 4], {method: 'bicubic'}), () => x.resize([4]), () => x.resize([2, 2], {methd: 'nearest'})]) {
  try { f(); errors.push(null); } catch (e) { errors.push(e.message); }
}
print(JSON.stringify({bilinear: [bilinear.shape, Array.from(await bilinear.data()).slice(0, 4)], nearest: Array.from(await nearest.data()),
  single: [single.shape, Array.from(await single.data())], cropped: Array.from(await cropped.data()), errors}))`);
    assert.deepEqual(r.bilinear, [[1, 4, 4, 1], [1, 1.25, 1.75, 2]]);
    assert.deepEqual(r.nearest, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    assert.deepEqual(r.single, [[1, 1, 1], [4]]);
    // The centred 2×2 window of the 2×9 image (columns 3 and 4).
    assert.deepEqual(r.cropped, [3, 4, 12, 13]);
    assert.match(r.errors[0], /resize: interpolation "bicubic" is not supported/);
    assert.match(r.errors[1], /resize: size must be \[height, width\]/);
    assert.match(r.errors[2], /resize: unrecognized keyword argument "methd"/);
  });

  test('layers.Resizing and layers.UpSampling2D build and predict; bad options are refused by name', async () => {
    const r = await ok(`const inputs = keras.Input({shape: [6, 9, 2]});
const small = layers.Resizing(4, 4, {cropToAspectRatio: true, interpolation: 'nearest'})(inputs);
const big = layers.UpSampling2D({size: [2, 3], interpolation: 'bilinear'})(small);
const model = keras.Model(inputs, big);
const y = await model.predict(ones([1, 6, 9, 2]));
let refused = null;
try { layers.UpSampling2D({interpolation: 'lanczos3'}); } catch (e) { refused = e.message; }
print(JSON.stringify({shape: y.shape, values: [...new Set(await y.data())], params: model.countParams(), refused}))`);
    assert.deepEqual(r.shape, [1, 8, 12, 2]);
    assert.deepEqual(r.values, [1]);
    assert.equal(r.params, 0);
    assert.match(r.refused, /UpSampling2D: interpolation "lanczos3" is not supported/);
    assert.deepEqual(fatalLogs(logs), []);
  });
});
