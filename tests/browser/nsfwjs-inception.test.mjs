// nsfwjs's InceptionV3 (a real trained TF.js layers model, 22 million uint8 weights in six
// shards) loaded in a cell with keras.models.loadModel by URL predicts as TF.js 4.22 does
// (tests/fixtures/io/nsfwjs_inception_v3/tfjs_reference.json), on the CPU engine: the
// native test (tests/nn_from_tfjs_inception_v3.rs) covers the GPU. The model is extracted
// from node_modules/nsfwjs (npm ci) into a temporary folder and served at the page's origin.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fatalLogs, openNotebookPage, ROOT, runCode, startNotebook, waitDone } from './helpers.mjs';

const FIXTURE = join(ROOT, 'tests/fixtures/io/nsfwjs_inception_v3');
const CELL = '.scratch-cell';
let notebook;
let dir;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nsfwjs-inception-'));
  // Fails with "is nsfwjs installed (npm ci)?" when node_modules lacks it.
  execFileSync(process.execPath, [join(FIXTURE, 'extract.cjs'), join(ROOT, 'node_modules/nsfwjs'), dir], { stdio: 'inherit' });
  notebook = await startNotebook();
});

after(async () => {
  await notebook?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('keras.models.loadModel(url) of nsfwjs InceptionV3 predicts as TF.js, on a fixed input and a photo', { timeout: 600_000 }, async () => {
  const reference = JSON.parse(readFileSync(join(FIXTURE, 'tfjs_reference.json'), 'utf8'));
  const context = await notebook.browser.newContext({ viewport: { width: 1366, height: 768 } });
  // The page's own origin, as a host serving the model next to the notebook would.
  await context.route('**/nsfwjs-inception-v3/*', (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop();
    route.fulfill({ body: readFileSync(join(dir, name)), contentType: name.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
  });
  const { page, logs } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html?backend=cpu#/9.1', { context });
  await runCode(page, CELL, `
const model = await keras.models.loadModel(new URL("nsfwjs-inception-v3/model.json", location.href).href);
const x = tensor(Float32Array.from({ length: 299 * 299 * 3 }, (_, i) => ((i * 7919) % 255) / 255), [1, 299, 299, 3]);
const y = await model.predict(x);
// Chelsea's central 299x299 crop, as the native test and TF.js's reference take it.
const img = await keras.utils.loadImg("chelsea");
const [h, w] = img.shape;
const pixels = await img.data();
const [top, left] = [(h - 299) >> 1, (w - 299) >> 1];
const crop = new Uint8Array(299 * 299 * 3);
for (let r = 0; r < 299; r++) for (let i = 0; i < 299 * 3; i++) crop[r * 299 * 3 + i] = pixels[((top + r) * w + left) * 3 + i];
let hash = 0x811c9dc5;
for (const b of crop) hash = Math.imul(hash ^ b, 0x01000193) >>> 0;
const photo = await model.predict(tensor(Float32Array.from(crop, (b) => b / 255), [1, 299, 299, 3]));
print(JSON.stringify({ layers: model.layers.length, params: model.countParams(), prediction: Array.from(await y.data()), hash, photo: Array.from(await photo.data()) }));
`);
  const state = await waitDone(page, CELL, 540_000);
  const text = await page.innerText(`${CELL} .cell-outputs`);
  assert.equal(state, 'done', text);
  const got = JSON.parse(text.trim().split('\n').pop());
  assert.equal(got.layers, reference.num_layers);
  assert.equal(got.params, reference.count_params);
  assert.equal(got.prediction.length, 5);
  const worst = Math.max(...got.prediction.map((v, i) => Math.abs(v - reference.prediction[i])));
  console.log(`# InceptionV3 in the browser (CPU engine) vs TF.js: max |difference| ${worst.toExponential(1)}`);
  assert.ok(worst <= 1e-4, `prediction ${got.prediction} vs TF.js ${reference.prediction}`);
  assert.equal(got.hash, reference.photo_fnv1a, 'the photo decodes to the pixels TF.js was given');
  const worstPhoto = Math.max(...got.photo.map((v, i) => Math.abs(v - reference.photo_prediction[i])));
  console.log(`# photo: ${got.photo.map((v) => v.toFixed(5)).join(' ')}, max |difference| ${worstPhoto.toExponential(1)}`);
  assert.ok(worstPhoto <= 1e-4, `photo prediction ${got.photo} vs TF.js ${reference.photo_prediction}`);
  assert.deepEqual(fatalLogs(logs), []);
  await context.close();
});
