// keras.GradientTape in cells (www/kernel/gradient-tape.js over src/wasm/tape.rs): a
// custom training step that lowers the loss, gradients w.r.t. a watched input and an
// intermediate output (cross-checked against model.inputGradient), the errors for what
// was not recorded; layer surgery; keras.utils images and the heatmap overlay. On the
// CPU engine, as the chapter tests: SwiftShader's first compile of each conv pipeline
// takes minutes on a loaded machine; tests/gradient_tape.rs covers the GPU path.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fatalLogs, openNotebookPage, RESULTS_DIR, runCode, startNotebook, waitDone } from './helpers.mjs';

const CELL = '.scratch-cell';

let notebook;
let page;
let logs;

async function run(code, timeout = 300_000) {
  await runCode(page, CELL, code);
  const state = await waitDone(page, CELL, timeout);
  const text = await page.innerText(`${CELL} .cell-outputs`);
  assert.equal(state, 'done', text);
  return text;
}

const json = async (code) => {
  await run(code);
  return JSON.parse(JSON.parse((await page.innerText(`${CELL} .out-value`)).trim()));
};

before(async () => {
  notebook = await startNotebook();
  ({ page, logs } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html?backend=cpu#/9.4'));
});

after(async () => {
  await notebook?.close();
});

describe('GradientTape in cells', { timeout: 600_000 }, () => {
  test('a custom training step with tape.gradient and applyGradients lowers the loss', async () => {
    const r = await json(`
const inputs = keras.Input({ shape: [3] });
const hidden = layers.Dense(8, { activation: "tanh" })(inputs);
const net = keras.Model(inputs, layers.Dense(1)(hidden));
const xs = tensor([[0, 1, 2], [1, 0, -1], [2, 2, 0], [-1, 1, 1]]);
const ys = tensor([[1], [-1], [2], [0]]);
const opt = keras.optimizers.Adam({ learningRate: 0.05 });
const losses = [];
for (let step = 0; step < 30; step++) {
  const tape = keras.GradientTape();
  const preds = await net(xs, { training: true });
  const loss = preds.sub(ys).square().mean();
  const grads = await tape.gradient(loss, net.trainableWeights);
  opt.applyGradients(zip(grads, net.trainableWeights));
  losses.push((await loss.data())[0]);
}
JSON.stringify({ first: losses[0], last: losses.at(-1), iterations: opt.iterations, names: net.trainableWeights.map((v) => v.name), stopped: (() => { const t = keras.GradientTape(); t.stop(); return t.recording; })() })`);
    assert.equal(r.iterations, 30);
    assert.equal(r.names.length, 4);
    assert.match(r.names[0], /dense.*\/kernel/);
    assert.ok(r.last < 0.5 * r.first, `loss ${r.first} → ${r.last}`);
    assert.equal(r.stopped, false);
  });

  test('gradients w.r.t. a watched input and an intermediate output; what was not recorded is an error', async () => {
    const r = await json(`
const img = keras.Input({ shape: [8, 8, 1] });
const c1 = layers.Conv2D(4, 3, { activation: "relu", name: "c1" })(img);
const c2 = layers.Conv2D(4, 3, { activation: "relu", name: "c2" })(c1);
const out = layers.Dense(3, { activation: "softmax" })(layers.Flatten()(c2));
const clf = keras.Model(img, out);
const acts = keras.Model(clf.inputs, [clf.getLayer("c2").output, clf.output]);
const x = rand([1, 8, 8, 1], { seed: 5 });
const tape = keras.GradientTape({ persistent: true });
tape.watch(x);
const [feature, preds] = await acts(x);
const score = preds.slice([0, 1], [1, 1]).sum();
const [gx, gf, gw] = await tape.gradient(score, [x, feature, clf.getLayer("c1").variables[0]]);
const reference = (await clf.inputGradient(x, 1)).gradient;
const diff = Math.max(...(await gx.sub(reference).abs().data()));
const errors = [];
for (const bad of [async () => tape.gradient(tensor([1, 2]), [x]), async () => tape.gradient(score, [tensor([3])])]) {
  try { await bad(); } catch (e) { errors.push(e.message); }
}
const once = keras.GradientTape();
once.watch(x);
const s2 = x.square().sum();
await once.gradient(s2, x);
try { await once.gradient(s2, x); } catch (e) { errors.push(e.message); }
JSON.stringify({ persistentStillRecords: tape.recording, gx: gx.shape, gf: gf.shape, gw: gw.shape, diff, norm: Math.max(...(await reference.abs().data())), errors })`);
    assert.equal(r.persistentStillRecords, true);
    assert.deepEqual(r.gx, [1, 8, 8, 1]);
    assert.deepEqual(r.gf, [1, 4, 4, 4]);
    assert.deepEqual(r.gw, [3, 3, 1, 4]);
    assert.ok(r.norm > 0, 'the reference gradient is not all zeros');
    assert.ok(r.diff < 1e-5 * Math.max(1, r.norm), `tape vs inputGradient: ${r.diff}`);
    assert.match(r.errors[0], /the target \(Tensor \[2\]\) was not recorded on this tape/);
    assert.match(r.errors[1], /source 0 \(Tensor \[1\]\) was neither watched nor computed on this tape; call tape\.watch/);
    assert.match(r.errors[2], /already gave its gradient.*persistent: true/);
  });

  test('layer.input, model.inputs/outputs, cutting, grafting and freezing by name', async () => {
    const r = await json(`
const i = keras.Input({ shape: [6, 6, 1] });
const b1 = layers.Conv2D(2, 3, { name: "block1_conv" })(i);
const b2 = layers.Conv2D(2, 3, { name: "block2_conv" })(b1);
const base = keras.Model(i, layers.Dense(2, { name: "top" })(layers.Flatten()(b2)));
const cut = keras.Model(base.inputs, base.getLayer("block1_conv").output);
const graft = keras.Model(base.input, layers.Dense(5, { name: "new_head" })(layers.Flatten()(base.getLayer("block2_conv").output)));
const frozen = graft.freeze(/^block/);
const trainableAfterFreeze = graft.trainableWeights.map((v) => v.name);
graft.unfreeze("block2_conv");
JSON.stringify({
  inputIsB1: base.getLayer("block2_conv").input.shape, ins: base.inputs.length, outs: base.outputs.length,
  cut: cut.outputs[0].shape, graft: graft.output.shape, frozen, trainableAfterFreeze,
  afterUnfreeze: graft.trainableWeights.map((v) => v.name),
})`);
    assert.deepEqual(r.inputIsB1, [null, 4, 4, 2]);
    assert.deepEqual([r.ins, r.outs], [1, 1]);
    assert.deepEqual(r.cut, [null, 4, 4, 2]);
    assert.deepEqual(r.graft, [null, 5]);
    assert.deepEqual(r.frozen, ['block1_conv', 'block2_conv']);
    assert.deepEqual(r.trainableAfterFreeze, ['new_head/kernel', 'new_head/bias']);
    assert.deepEqual(r.afterUnfreeze, ['block2_conv/kernel', 'block2_conv/bias', 'new_head/kernel', 'new_head/bias']);
  });

  test('keras.utils images, a heatmap overlaid on a photo, saveImg downloads a PNG', async () => {
    const download = page.waitForEvent('download', { timeout: 60_000 });
    const r = await json(`
const photo = await keras.utils.loadImg("chelsea", { targetSize: [60, 90] });
const arr = keras.utils.imgToArray(photo);
const heat = tensor([[0, 0.2, 0.1], [0.3, 1, 0.4]]);
await display.image(photo, { heatmap: heat, alpha: 0.5, caption: "overlay" });
const back = await keras.utils.arrayToImg(arr.affine(1 / 255, 0));
await keras.utils.saveImg("cat.png", arr);
JSON.stringify({ photo: [photo.shape, photo.dtype], arr: arr.dtype, back: [back.shape, back.dtype, Math.max(...(await back.data()))] })`);
    assert.deepEqual(r.photo, [[60, 90, 3], 'uint8']);
    assert.equal(r.arr, 'float32');
    assert.deepEqual(r.back, [[60, 90, 3], 'uint8', 255]);
    const file = await download;
    assert.equal(file.suggestedFilename(), 'cat.png');
    const sizes = await page.$$eval(`${CELL} canvas.out-image`, (els) => els.map((c) => [c.width, c.height]));
    assert.deepEqual(sizes, [[90, 60], [90, 60]]);
    // The overlay is the photo tinted by the colormap: the hot corner differs from the cold one.
    const [hot, cold] = await page.$eval(`${CELL} canvas.out-image`, (c) => {
      const ctx = c.getContext('2d');
      return [Array.from(ctx.getImageData(45, 40, 1, 1).data), Array.from(ctx.getImageData(2, 2, 1, 1).data)];
    });
    assert.notDeepEqual(hot, cold);
    await page.locator(`${CELL} .out-image`).first().screenshot({ path: join(RESULTS_DIR, 'gradient-tape-overlay.png') });
  });

  test('no uncaught error in the page', () => {
    assert.deepEqual(fatalLogs(logs), []);
  });
});
