// The model's one-batch API and weights in cells (www/kernel/keras.js over
// src/wasm/train.rs and models.rs): trainOnBatch / testOnBatch / predictOnBatch as Keras
// and TF.js return them, model.getWeights / setWeights, and engine.stats() on the CPU
// backend: host tensors counted, flat over a training loop. On the CPU engine, as the
// chapter tests (SwiftShader's first compiles take minutes; tests/nn_device_inputs.rs
// covers a fresh model on the GPU natively).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openNotebookPage, runCode, startNotebook, waitDone } from './helpers.mjs';

const CELL = '.scratch-cell';

let notebook;
let page;

async function json(code, timeout = 300_000) {
  await runCode(page, CELL, code);
  const state = await waitDone(page, CELL, timeout);
  assert.equal(state, 'done', await page.innerText(`${CELL} .cell-outputs`));
  return JSON.parse(JSON.parse((await page.innerText(`${CELL} .out-value`)).trim()));
}

before(async () => {
  notebook = await startNotebook();
  ({ page } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html?backend=cpu#/9.1'));
});

after(async () => {
  await notebook?.close();
});

describe('model API in cells', { timeout: 600_000 }, () => {
  test('trainOnBatch, testOnBatch, predictOnBatch; model getWeights / setWeights; errors name the model', async () => {
    const r = await json(`
const inputs = keras.Input({ shape: [3] });
const net = keras.Model(inputs, layers.Dense(2, { activation: "softmax" })(layers.Dense(4, { activation: "tanh" })(inputs)), { name: "tiny" });
net.compile({ optimizer: "sgd", loss: "sparse_categorical_crossentropy" });
const xs = tensor([[0, 1, 2], [1, 0, -1], [2, 2, 0], [-1, 1, 1]]);
const ys = tensor([0, 1, 1, 0], [4], "int32");
const weights = net.getWeights();
const tested = await net.testOnBatch(xs, ys);
const trained = [];
for (let i = 0; i < 20; i++) trained.push(await net.trainOnBatch(xs, ys));
const after = await net.testOnBatch(xs, ys);
const predicted = await net.predictOnBatch(xs);
const viaPredict = await net.predict(xs);
const a = await predicted.data(), b = await viaPredict.data();
net.setWeights(weights);
const restored = await net.testOnBatch(xs, ys);
net.compile({ optimizer: "sgd", loss: "sparse_categorical_crossentropy", metrics: ["accuracy"] });
const withMetric = await net.trainOnBatch(xs, ys);
const refusal = (f) => { try { f(); return null; } catch (e) { return e.message; } };
const failure = async (p) => p.then(() => null, (e) => e.message);
JSON.stringify({
  shapes: weights.map((w) => Array.from(w.shape)), tested, first: trained[0], last: trained.at(-1), after, restored, withMetric,
  samePredictions: a.every((v, i) => Math.abs(v - b[i]) < 1e-6), predictedShape: Array.from(predicted.shape),
  countRefused: refusal(() => net.setWeights(weights.slice(1))),
  shapeRefused: refusal(() => net.setWeights([weights[1], ...weights.slice(1)])),
  wrongInput: await failure(net.trainOnBatch(tensor([[1, 2]]), tensor([0], [1], "int32"))),
  wrongCount: await failure(net.testOnBatch(xs, tensor([0, 1], [2], "int32"))),
})`);
    assert.deepEqual(r.shapes, [[3, 4], [4], [4, 2], [2]]);
    assert.equal(typeof r.tested, 'number', 'the loss alone when no metric is compiled, as Keras');
    assert.ok(Math.abs(r.first - r.tested) < 1e-6, `trainOnBatch gives the loss before its update: ${r.first} vs ${r.tested}`);
    assert.ok(r.last < r.first && r.after < r.tested, `the loss falls: ${r.first} -> ${r.last}, ${r.tested} -> ${r.after}`);
    assert.ok(Math.abs(r.restored - r.tested) < 1e-6, `setWeights put the first weights back: ${r.restored} vs ${r.tested}`);
    assert.ok(Array.isArray(r.withMetric) && r.withMetric.length === 2 && r.withMetric[1] >= 0 && r.withMetric[1] <= 1, `[loss, accuracy]: ${r.withMetric}`);
    assert.ok(r.samePredictions);
    assert.deepEqual(r.predictedShape, [4, 2]);
    assert.match(r.countRefused, /model "tiny": setWeights got 3 tensors, expected 4/);
    assert.match(r.shapeRefused, /model "tiny": setWeights: .*kernel is float32 \(3, 4\), got float32 \(4\)/);
    assert.match(r.wrongInput, /"tiny".*\(None, 3\).*\(1, 2\)/);
    assert.match(r.wrongCount, /test_on_batch: model "tiny": every x and y needs the same number of samples: array 1 is int32 \(2\), the first has 4/);
  });

  test('engine.stats() on the CPU counts host tensors, flat over a training loop', async () => {
    const r = await json(`
const inputs = keras.Input({ shape: [4, 4, 1] });
let h = layers.Conv2D(2, 3, { activation: "relu", padding: "same" })(inputs);
h = layers.Flatten()(layers.MaxPooling2D(2)(h));
const model = keras.Model(inputs, layers.Dense(3, { activation: "softmax" })(h));
model.compile({ optimizer: "adam", loss: "sparse_categorical_crossentropy" });
const x = rand([16, 4, 4, 1], { seed: 1 });
const y = tensor(Array.from({ length: 16 }, (_, i) => i % 3), [16], "int32");
const footprint = () => { const s = engine.stats(); return [s.host_tensors, s.host_bytes]; };
await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
(await model.predict(x)).dispose();
const warm = footprint();
await model.fit(x, y, { epochs: 20, batchSize: 4, verbose: 0 });
for (let i = 0; i < 20; i++) (await model.predict(x)).dispose();
const done = footprint();
JSON.stringify({ warm, done, backend: engine.backend().kind })`);
    assert.equal(r.backend, 'cpu');
    assert.ok(r.warm[0] > 0 && r.warm[1] >= 16 * 16 * 4, `host tensors and bytes are counted: ${r.warm}`);
    // Not equal: handles dropped before `warm` without dispose() are freed whenever the JS
    // collector runs their finalizers, so the count may fall; it must never rise.
    assert.ok(r.done[0] <= r.warm[0] && r.done[1] <= r.warm[1], `host tensors or bytes grew over 80 CPU steps and 20 predicts: ${r.warm} → ${r.done}`);
  });
});
