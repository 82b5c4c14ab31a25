// The kernel survives what should not happen: a Rust panic in wasm (the instance is
// poisoned), a lost GPU device (with a new one to be had, or none: then the CPU), cells
// that await forever or only await microtasks, and hundreds of training steps and a
// thousand predict calls without growing the GPU pool. In each, the notebook's edits stay
// as they were. The panic and the device loss use entry points compiled only with the
// `test-hooks` feature (`cargo xtask test` builds them into a package of their own,
// never into the www/pkg readers get: see helpers.mjs).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { kernelIdle, openNotebookPage, RESULTS_DIR, runCode, startNotebook, waitDone } from './helpers.mjs';

let notebook;

before(async () => {
  notebook = await startNotebook();
});

after(async () => {
  await notebook?.close();
});

const SCRATCH = '.scratch-cell';
const cell = (n) => `#cell-${n}`;
const outputText = (page, selector) => page.innerText(`${selector} .cell-outputs`);
const shot = (page, name) => page.screenshot({ path: join(RESULTS_DIR, `reliability-${name}.png`) });
const editorText = (page, selector) => page.innerText(`${selector} .cm-content`);

/** Runs `code` in the scratch cell and waits for it; resolves to {state, text}. */
async function run(page, code, timeout = 60_000) {
  await runCode(page, SCRATCH, code);
  const state = await waitDone(page, SCRATCH, timeout);
  return { state, text: await outputText(page, SCRATCH) };
}

// A cell that loses the GPU device while it works: the ops after the loss must fail.
const LOSE_DEVICE = [
  'const t = tensor([1, 2, 3], [3]);',
  'await t.data();',
  'engine.testDestroyDevice();',
  'for (let i = 0; i < 200; i++) await t.add(t).data();',
].join('\n');

/** Edits a chapter cell without running it: the edit must survive every recovery. */
async function editWithoutRunning(page) {
  const edited = '// an edit the reader made\nconst kept = 1;';
  await page.click(`${cell(1)} .cm-content`);
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.insertText(edited);
  return editorText(page, cell(1));
}

describe('kernel reliability', () => {
  test('a Rust panic shows its message, the kernel restarts on a fresh instance, edits are kept', async () => {
    const { page, context } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html#/9.1');
    const edit = await editWithoutRunning(page);
    assert.equal((await run(page, 'const survivor = 41;')).state, 'done');
    const { state, text } = await run(page, 'engine.testPanic("deliberate test panic");');
    assert.equal(state, 'error');
    assert.match(text, /The engine panicked: panicked at [^\n]+\ndeliberate test panic/);
    assert.match(text, /variables of this chapter's kernel were lost: re-run the cells above/);
    await kernelIdle(page);
    assert.equal(await page.getAttribute('#backend-badge', 'data-recovered'), 'yes');
    assert.match(await page.getAttribute('#backend-badge', 'title'), /kernel restarted: The engine panicked/);
    await shot(page, 'panic');
    // A fresh instance: the engine works, the old variables are gone, the edit is not.
    const after = await run(page, '[typeof survivor, Array.from(await tensor([1, 2], [2]).add(tensor([3, 4], [2])).data())]');
    assert.equal(after.state, 'done', after.text);
    assert.match(after.text, /\["undefined", \[4, 6\]\]/);
    assert.equal(await editorText(page, cell(1)), edit);
    await context.close();
  });

  test('a lost GPU device fails the running cell, the badge says so, and the kernel comes back on a new device', async () => {
    // On SwiftShader "auto" picks the CPU; a GPU device to lose needs WebGPU asked for.
    const { page, context } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html?backend=webgpu#/9.1');
    assert.equal(await page.getAttribute('#backend-badge', 'data-kind'), 'webgpu');
    const edit = await editWithoutRunning(page);
    let sawLost = false;
    await page.exposeFunction('__sawBadge', (kind) => {
      if (kind === 'lost') sawLost = true;
    });
    await page.evaluate(() => {
      const badge = document.getElementById('backend-badge');
      new MutationObserver(() => window.__sawBadge(badge.dataset.kind)).observe(badge, { attributes: true });
    });
    const { state, text } = await run(page, LOSE_DEVICE);
    assert.equal(state, 'error');
    assert.match(text, /GPU device was lost/);
    assert.match(text, /re-run the cells above/);
    await kernelIdle(page);
    assert.ok(sawLost, 'the badge never said the GPU was lost');
    assert.equal(await page.getAttribute('#backend-badge', 'data-kind'), 'webgpu');
    assert.match(await page.getAttribute('#backend-badge', 'title'), /kernel restarted: .*GPU device was lost/);
    await shot(page, 'device-lost');
    const after = await run(page, 'Array.from(await tensor([1, 2], [2]).mul(tensor([3, 4], [2])).data())');
    assert.equal(after.state, 'done', after.text);
    assert.match(after.text, /\[3, 8\]/);
    assert.equal(await editorText(page, cell(1)), edit);
    await context.close();
  });

  test('when no GPU can be had after the loss, the kernel comes back on the CPU and says why', async () => {
    const { page, context } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html?backend=webgpu#/9.1');
    assert.equal(await page.getAttribute('#backend-badge', 'data-kind'), 'webgpu');
    const edit = await editWithoutRunning(page);
    // Kernel workers started from now on find no adapter, as when a driver crash takes the
    // GPU with it: each loads a module that empties requestAdapter before the kernel's own.
    await page.evaluate(() => {
      const noAdapter = URL.createObjectURL(
        new Blob(['GPU.prototype.requestAdapter = async () => null;'], { type: 'text/javascript' }),
      );
      const Original = window.Worker;
      window.Worker = class extends Original {
        constructor(url, options) {
          const kernel = new URL(url, location.href).href;
          const source = `import ${JSON.stringify(noAdapter)};\nimport ${JSON.stringify(kernel)};`;
          super(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })), options);
        }
      };
    });
    const { state, text } = await run(page, LOSE_DEVICE);
    assert.equal(state, 'error');
    assert.match(text, /GPU device was lost/);
    await kernelIdle(page);
    assert.equal(await page.getAttribute('#backend-badge', 'data-kind'), 'cpu');
    const title = await page.getAttribute('#backend-badge', 'title');
    assert.match(title, /^CPU fallback: this browser exposes WebGPU but no GPU adapter, so the CPU runs in place of the WebGPU asked for/);
    assert.match(title, /kernel restarted: .*GPU device was lost/);
    await shot(page, 'device-lost-cpu');
    const after = await run(page, '[kernel.backend.kind, Array.from(await tensor([1, 2], [2]).mul(tensor([3, 4], [2])).data())]');
    assert.equal(after.state, 'done', after.text);
    assert.match(after.text, /\["cpu", \[3, 8\]\]/);
    assert.equal(await editorText(page, cell(1)), edit);
    await context.close();
  });

  test('a tensor past the GPU buffer limits is an error naming the op and the limit; the kernel goes on', async () => {
    const { page, context } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html?backend=webgpu#/9.1');
    assert.equal((await run(page, 'const kept = 5;')).state, 'done');
    // 4 GiB of float32: past every WebGPU maxStorageBufferBindingSize, refused before allocating.
    const { state, text } = await run(page, 'zeros([1023, 1024, 1024, 1]);');
    assert.equal(state, 'error');
    assert.match(text, /fill output \(1023, 1024, 1024, 1\) float32: 4290772992 bytes \(4\.0 GiB\) exceed this GPU's max(StorageBufferBinding|Buffer)Size of \d+ bytes/);
    const after = await run(page, '[kept, Array.from(await tensor([1, 2], [2]).add(tensor([3, 4], [2])).data())]');
    assert.equal(after.state, 'done', after.text);
    assert.match(after.text, /\[5, \[4, 6\]\]/);
    assert.equal(await page.getAttribute('#backend-badge', 'data-recovered'), 'no');
    await context.close();
  });

  for (const [name, loop] of [
    ['timers', 'while (true) await new Promise((r) => setTimeout(r, 10));'],
    ['await null', 'while (true) await null;'],
    ['a promise that never settles', 'await new Promise(() => {});'],
  ]) {
    test(`Interrupt stops a cell that awaits ${name}, and the variables stay`, async () => {
      const { page, context } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html#/9.1');
      assert.equal((await run(page, 'const kept = 7;')).state, 'done');
      await runCode(page, SCRATCH, loop);
      await page.waitForSelector(`${SCRATCH}[data-state="running"]`);
      await page.waitForTimeout(300);
      await page.click('[data-action="interrupt"]');
      assert.equal(await waitDone(page, SCRATCH, 5_000), 'error');
      assert.equal((await page.textContent(`${SCRATCH} .cell-state`)).trim(), 'interrupted');
      assert.match(await outputText(page, SCRATCH), /InterruptedError/);
      assert.equal(await page.isVisible('.tb-notice'), false, 'the "never awaits" notice appeared');
      const after = await run(page, 'kept');
      assert.match(after.text, /7/);
      await context.close();
    });
  }

  // Conv, pool, dense and Adam on 4x4 images in batches of 4: a step costs ~15 ms on
  // SwiftShader, so 500 steps (after 8 of warm-up) and 1,000 predict calls of 1 to 8 rows
  // in batches of 2 or 8 take under 20 s; the warm-up, which compiles the pipelines, costs
  // more than both. Four times as many with CONVBOOK_SOAK_FULL.
  const full = !!process.env.CONVBOOK_SOAK_FULL;
  const soakEpochs = full ? 500 : 125;
  const predicts = full ? 4000 : 1000;
  test(`${soakEpochs * 4} training steps and ${predicts} predict calls keep the GPU pool and pipelines flat`, async () => {
    const { page, context } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html?backend=webgpu#/9.1');
    const code = `
const inputs = keras.Input({ shape: [4, 4, 1] });
let h = layers.Conv2D(2, 3, { activation: "relu", padding: "same" })(inputs);
h = layers.MaxPooling2D(2)(h);
h = layers.Flatten()(h);
const model = keras.Model(inputs, layers.Dense(3, { activation: "softmax" })(h));
model.compile({ optimizer: "adam", loss: "sparse_categorical_crossentropy" });
const x = rand([16, 4, 4, 1], { seed: 1 });
const y = tensor(Array.from({ length: 16 }, (_, i) => i % 3), [16], "int32");
const cellStarted = performance.now();
const footprint = async () => {
  await engine.sync();
  const s = engine.stats();
  return [s.live_buffers, s.pool_bytes, s.pipelines];
};
await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
const trainWarm = await footprint();
const warmSeconds = (performance.now() - cellStarted) / 1000;
const started = performance.now();
await model.fit(x, y, { epochs: ${soakEpochs}, batchSize: 4, verbose: 0 });
const trained = await footprint();
const trainSeconds = (performance.now() - started) / 1000;
// Inputs of 1 to 8 rows, in a fixed scramble of sizes and batch sizes.
const rows = Array.from({ length: 8 }, (_, i) => rand([i + 1, 4, 4, 1], { seed: 10 + i }));
const predict = async (n, batchSize) => (await model.predict(rows[n], { batchSize })).dispose();
for (let n = 0; n < 8; n++) for (const b of [2, 8]) await predict(n, b);
const predictWarm = await footprint();
const predictStarted = performance.now();
for (let i = 0; i < ${predicts}; i++) await predict((i * 7 + (i >> 3)) % 8, i % 3 === 0 ? 2 : 8);
const predicted = await footprint();
const predictSeconds = (performance.now() - predictStarted) / 1000;
print("soak " + JSON.stringify({ trainWarm, trained, predictWarm, predicted, warmSeconds, trainSeconds, predictSeconds }));`;
    // Generous: compiling the pipelines on a loaded SwiftShader machine can take minutes.
    const { state, text } = await run(page, code, 420_000);
    assert.equal(state, 'done', text);
    const r = JSON.parse(/soak (\{.*\})/.exec(text)[1]);
    console.log(
      `soak: warm-up ${r.warmSeconds.toFixed(1)} s, ${soakEpochs * 4} steps in ${r.trainSeconds.toFixed(1)} s, ${predicts} predicts in ${r.predictSeconds.toFixed(1)} s`,
    );
    for (const [phase, warm, done] of [['training', r.trainWarm, r.trained], ['predict', r.predictWarm, r.predicted]]) {
      assert.ok(done[0] <= warm[0], `${phase}: live buffers grew: ${warm[0]} -> ${done[0]}`);
      assert.ok(done[1] <= warm[1], `${phase}: pool bytes grew: ${warm[1]} -> ${done[1]}`);
      assert.equal(done[2], warm[2], `${phase}: pipelines were compiled after warm-up`);
    }
    await context.close();
  });
});
