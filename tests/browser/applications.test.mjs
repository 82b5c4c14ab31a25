// keras.applications in notebook cells on WebGPU: every application built without its
// top at a small input size has Keras's parameter total and predicts; preprocessInput
// and decodePredictions equal Keras's (tests/fixtures/applications/preprocess.json);
// weights: "imagenet" names Keras's file; weight files are cached in Cache Storage, so
// after a reload they load with the network blocked; VGG16 at 224×224 either predicts
// or says which weight is over the GPU's per-binding limit, never fails silently.
// End to end: MobileNetV2 with weights: "imagenet" downloads the file Keras would fetch
// (here a legacy-layout weights file with Keras-set weights, served under that name),
// predicts what Keras predicts, and after a reload builds again offline from the cache.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fatalLogs, kernelIdle, openNotebookPage, ROOT, runCode, startNotebook, waitDone } from './helpers.mjs';

const mobilenet = JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/keras_files/mobilenetv2_reference.json'), 'utf8'));
const MOBILENET_FILE = 'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5';
const fixture = JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/applications/preprocess.json'), 'utf8'));

// Keras 3.15, weights=None, include_top=False (the figures; tests/nn_applications.rs checks them layer by layer).
const KERAS_NOTOP = {
  Xception: { size: 71, total: 20_861_480, model: 'xception' },
  VGG16: { size: 32, total: 14_714_688, model: 'vgg16' },
  VGG19: { size: 32, total: 20_024_384, model: 'vgg19' },
  ResNet50: { size: 32, total: 23_587_712, model: 'resnet50' },
  InceptionV3: { size: 75, total: 21_802_784, model: 'inception_v3' },
  MobileNetV2: { size: 32, total: 2_257_984, model: 'mobilenetv2_1.00_32' },
};
const FAMILY = { Xception: 'xception', VGG16: 'vgg16', VGG19: 'vgg19', ResNet50: 'resnet50', InceptionV3: 'inceptionV3', MobileNetV2: 'mobilenetV2' };

let notebook;
let page;
let logs;

before(async () => {
  notebook = await startNotebook();
  ({ page, logs } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html#/hocv-4.2'));
});

after(async () => {
  await page?.context().close();
  await notebook?.close();
});

/** Runs `code` in the scratch cell; resolves to its value, which the code makes JSON. */
async function evaluate(code, timeout = 120_000) {
  await runCode(page, '.scratch-cell', code);
  const state = await waitDone(page, '.scratch-cell', timeout);
  if (state !== 'done') throw new Error(`the cell failed: ${await page.innerText('.scratch-cell .cell-outputs')}`);
  return JSON.parse(JSON.parse(await page.innerText('.scratch-cell .out-value')));
}

describe('keras.applications in cells', { timeout: 900_000 }, () => {
  test('every application without its top: Keras totals, and predict runs', { timeout: 600_000 }, async () => {
    const results = await evaluate(
      `const sizes = ${JSON.stringify(Object.fromEntries(Object.entries(KERAS_NOTOP).map(([k, v]) => [k, v.size])))};
const families = ${JSON.stringify(FAMILY)};
const results = {};
for (const [name, s] of Object.entries(sizes)) {
  const m = keras.applications[name]({ includeTop: false, inputShape: [s, s, 3], pooling: "avg", weights: null });
  const d = m.summaryData();
  const x = keras.applications[families[name]].preprocessInput(rand([2, s, s, 3], { seed: 1, min: 0, max: 255 }));
  const y = await m.predict(x);
  const v = Array.from(await y.data());
  results[name] = { model: m.name, total: d.total_params, shape: y.shape, finite: v.every(Number.isFinite), spread: Math.max(...v) - Math.min(...v) };
}
JSON.stringify(results)`,
      540_000,
    );
    for (const [name, want] of Object.entries(KERAS_NOTOP)) {
      const r = results[name];
      assert.equal(r.model, want.model, name);
      assert.equal(r.total, want.total, name);
      assert.equal(r.shape[0], 2, name);
      assert.ok(r.finite && r.spread > 0, `${name}: ${JSON.stringify(r)}`);
    }
    assert.deepEqual(results.MobileNetV2.shape, [2, 1280]);
    assert.deepEqual(results.VGG16.shape, [2, 512]);
  });

  test('preprocessInput and decodePredictions equal Keras', async () => {
    const r = await evaluate(`const fx = ${JSON.stringify({ input: fixture.input, shape: fixture.shape, applications: fixture.applications, modes: fixture.modes, decode: fixture.decode })};
const pixels = engine.tensorUint8(new Uint8Array(fx.input), fx.shape);
const worst = async (t, want) => { const v = await t.data(); return Math.max(...want.map((w, i) => Math.abs(v[i] - w) / Math.max(1, Math.abs(w)))); };
const families = ${JSON.stringify(FAMILY)};
const errors = {};
for (const [name, fam] of Object.entries(families)) errors[name] = await worst(keras.applications[fam].preprocessInput(pixels), fx.applications[name]);
for (const mode of ["caffe", "tf", "torch"]) errors[mode] = await worst(keras.applications.imagenetUtils.preprocessInput(pixels, { mode }), fx.modes[mode]);
const decoded = await keras.applications.imagenetUtils.decodePredictions(tensor(fx.decode.preds, [2, 1000]), fx.decode.top);
let refused = null;
try { keras.applications.VGG16({ includeTops: false }); } catch (e) { refused = e.message; }
JSON.stringify({ errors, decoded, refused, classes: keras.applications.imagenetClasses().length })`);
    for (const [what, err] of Object.entries(r.errors)) assert.ok(err < 1e-5, `${what}: relative error ${err}`);
    assert.equal(r.decoded.length, 2);
    r.decoded.forEach((row, i) =>
      row.forEach(([wnid, name, score], j) => {
        const [kw, kn, ks] = fixture.decode.expected[i][j];
        assert.deepEqual([wnid, name], [kw, kn]);
        assert.ok(Math.abs(score - ks) < 1e-7);
      }),
    );
    assert.match(r.refused, /include_top|includeTop/);
    assert.equal(r.classes, 1000);
  });

  test('weights: "imagenet" names the Keras file; weight files come from the cache after a reload, offline', async () => {
    const r = await evaluate(`keras.applications.baseUrl = new URL("/no-such-mirror/", location.href).href;
let message = null;
try { await keras.applications.Xception({ includeTop: false, weights: "imagenet" }); } catch (e) { message = e.message; }
const file = keras.applications.weightsFile("MobileNetV2", { includeTop: false, alpha: 0.35, inputShape: [96, 96, 3] });
const first = await keras.applications.fetchWeights("imagenet_class_index.json");
JSON.stringify({ message, file, first: { bytes: first.length, fromCache: first.fromCache } })`);
    assert.match(r.message, /xception_weights_tf_dim_ordering_tf_kernels_notop\.h5/);
    assert.equal(r.file.file_name, 'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5');
    assert.match(r.file.url, /\/no-such-mirror\/mobilenet_v2\/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0\.35_96_no_top\.h5$/);
    assert.equal(r.first.bytes, readFileSync(join(ROOT, 'www/data/imagenet_class_index.json')).length);
    // Offline: nothing from the data folder can be fetched any more.
    await page.context().route('**/data/**', (route) => route.abort('internetdisconnected'));
    await page.reload();
    await kernelIdle(page);
    const again = await evaluate(`const again = await keras.applications.fetchWeights("imagenet_class_index.json");
let offline = null;
try { await keras.applications.fetchWeights("manifest.json"); } catch (e) { offline = e.message; }
JSON.stringify({ bytes: again.length, fromCache: again.fromCache, offline })`);
    await page.context().unroute('**/data/**');
    assert.equal(again.bytes, r.first.bytes);
    assert.equal(again.fromCache, true);
    assert.match(again.offline, /manifest\.json: could not be fetched[\s\S]*files\.pick/);
  });

  test('MobileNetV2 weights: "imagenet" from a mirror predicts what Keras predicts, then again offline from the cache', async () => {
    const weights = readFileSync(join(ROOT, 'tests/fixtures/keras_files/mobilenetv2_legacy.weights.h5'));
    const served = [];
    await page.context().route('**/keras-mirror/**', (route) => {
      const url = route.request().url();
      served.push(url);
      if (url.endsWith(`/keras-mirror/mobilenet_v2/${MOBILENET_FILE}`)) {
        return route.fulfill({ status: 200, body: weights, headers: { 'Content-Type': 'application/octet-stream' } });
      }
      return route.fulfill({ status: 404, body: 'not here' });
    });
    const build = `keras.applications.baseUrl = new URL("/keras-mirror/", location.href).href;
const opts = { alpha: 0.35, inputShape: [32, 32, 3], includeTop: false, weights: "imagenet" };
const file = keras.applications.weightsFile("MobileNetV2", opts);
const m = await keras.applications.MobileNetV2(opts);
const y = await m.predict(tensor(${JSON.stringify(mobilenet.x)}, ${JSON.stringify(mobilenet.x_shape)}));
const want = ${JSON.stringify(mobilenet.y)};
const got = await y.data();
const worst = Math.max(...want.map((w, i) => Math.abs(got[i] - w)));
const cached = (await (await caches.open("convbook-weights")).match(file.url)) !== undefined;
JSON.stringify({ file: file.file_name, url: file.url, shape: y.shape, worst, cached })`;
    try {
      const first = await evaluate(build);
      assert.equal(first.file, MOBILENET_FILE);
      assert.deepEqual(served, [first.url]);
      assert.deepEqual(first.shape, mobilenet.y_shape);
      assert.ok(first.worst < 1e-4, `max |convbook - keras| = ${first.worst}`);
      assert.equal(first.cached, true);

      // Offline after a reload: the mirror refuses everything, so the weights can only come from the cache.
      await page.context().unroute('**/keras-mirror/**');
      await page.context().route('**/keras-mirror/**', (route) => {
        served.push(route.request().url());
        return route.abort('internetdisconnected');
      });
      await page.reload();
      await kernelIdle(page);
      const again = await evaluate(build);
      assert.equal(served.length, 1, `fetched again: ${served.join(', ')}`);
      assert.deepEqual(again.shape, mobilenet.y_shape);
      assert.ok(again.worst < 1e-4, `offline: max |convbook - keras| = ${again.worst}`);
    } finally {
      await page.context().unroute('**/keras-mirror/**');
    }
  });

  test('weights: "imagenet" is read by ranges from the cache: wasm memory grows by the weights, not by copies of the file', async () => {
    // A fresh engine (after a reload), the file already in Cache Storage (the test above).
    // Read whole, the file (2.0 MB) was copied into wasm memory twice and all weights
    // (1.6 MB) collected beside it. Read by ranges: the weights, plus (the 2 MiB) the
    // largest dataset as stored, the reader's metadata cache and parsed headers (see
    // tests/io_weights_memory.rs) and the allocator's 64 KiB pages. It grew 3.3 MB.
    await page.context().route('**/keras-mirror/**', (route) => route.abort('internetdisconnected'));
    try {
      await page.reload();
      await kernelIdle(page);
      const r = await evaluate(`const pkg = await import(new URL("/pkg/convbook.js", location.href).href);
if (pkg.Engine !== engine.constructor) throw new Error("not the kernel's engine module");
const memory = (await pkg.default()).memory;
keras.applications.baseUrl = new URL("/keras-mirror/", location.href).href;
const opts = { alpha: 0.35, inputShape: [32, 32, 3], includeTop: false };
const weightBytes = keras.applications.MobileNetV2(opts).countParams() * 4;
const before = memory.buffer.byteLength;
const m = await keras.applications.MobileNetV2({ ...opts, weights: "imagenet" });
JSON.stringify({ grew: memory.buffer.byteLength - before, weightBytes, fileBytes: ${readFileSync(join(ROOT, 'tests/fixtures/keras_files/mobilenetv2_legacy.weights.h5')).length} })`);
      console.log(`# MobileNetV2 0.35 weights from the cache: wasm memory grew ${r.grew} bytes (weights ${r.weightBytes}, file ${r.fileBytes})`);
      assert.ok(r.grew <= r.weightBytes * 1.3 + 2 * (1 << 20), `wasm memory grew ${r.grew} bytes for ${r.weightBytes} bytes of weights`);
    } finally {
      await page.context().unroute('**/keras-mirror/**');
    }
  });

  test('VGG16 at 224×224 with its top: predicts, or names the weight over the per-binding limit', { timeout: 600_000 }, async () => {
    const r = await evaluate(`const vgg = keras.applications.VGG16();
const total = vgg.countParams();
let outcome;
try {
  const y = await vgg.predict(rand([1, 224, 224, 3], { seed: 2, min: -1, max: 1 }));
  outcome = { shape: y.shape };
} catch (e) { outcome = { error: e.message }; }
JSON.stringify({ total, outcome, backend: kernel.backend.kind })`, 540_000);
    assert.equal(r.total, 138_357_544);
    console.log(`# VGG16 at 224×224 on ${r.backend}: ${JSON.stringify(r.outcome)}`);
    if (r.outcome.error) {
      assert.match(r.outcome.error, /layer "\w+" \(\w+\)/);
      assert.match(r.outcome.error, /limit of \d+ bytes per binding/);
    } else {
      assert.deepEqual(r.outcome.shape, [1, 1000]);
    }
  });

  test('no uncaught error in the page', () => {
    assert.deepEqual(fatalLogs(logs), []);
  });
});
