// The kernel survives what should not happen: a Rust panic in wasm (the instance is
// poisoned), a lost GPU device, cells that await forever or only await microtasks, and a
// hundred training steps without growing the GPU pool. In each, the notebook's
// edits stay as they were. The panic and the device loss use entry points compiled only
// with the `test-hooks` feature (`cargo xtask test` builds www/pkg with it).

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
    const code = [
      'const t = tensor([1, 2, 3], [3]);',
      'await t.data();',
      'engine.testDestroyDevice();',
      'for (let i = 0; i < 200; i++) await t.add(t).data();',
    ].join('\n');
    const { state, text } = await run(page, code);
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

  // 96 steps after 32 of warm-up (about a minute on SwiftShader); 208 with CONVBOOK_SOAK_FULL.
  const soakEpochs = process.env.CONVBOOK_SOAK_FULL ? 13 : 6;
  test(`${soakEpochs * 16} training steps keep the GPU pool and pipelines flat`, async () => {
    const { page, context } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html?backend=webgpu#/9.1');
    const code = `
const inputs = keras.Input({ shape: [8, 8, 1] });
let h = layers.Conv2D(4, 3, { activation: "relu" })(inputs);
h = layers.Flatten()(h);
const model = keras.Model(inputs, layers.Dense(3, { activation: "softmax" })(h));
model.compile({ optimizer: "adam", loss: "sparse_categorical_crossentropy" });
const x = rand([32, 8, 8, 1], { seed: 1 });
const y = tensor(Array.from({ length: 32 }, (_, i) => i % 3), [32], "int32");
await model.fit(x, y, { epochs: 2, batchSize: 2, verbose: 0 });
await engine.sync();
const warm = engine.stats();
await model.fit(x, y, { epochs: ${soakEpochs}, batchSize: 2, verbose: 0 });
await engine.sync();
const done = engine.stats();
[warm.live_buffers, done.live_buffers, warm.pool_bytes, done.pool_bytes, warm.pipelines, done.pipelines]`;
    const { state, text } = await run(page, code, 240_000);
    assert.equal(state, 'done', text);
    const [liveWarm, liveDone, bytesWarm, bytesDone, pipesWarm, pipesDone] = JSON.parse(/\[[\d,\s]+\]/.exec(text)[0]);
    assert.ok(liveDone <= liveWarm, `live buffers grew: ${liveWarm} -> ${liveDone}`);
    assert.ok(bytesDone <= bytesWarm, `pool bytes grew: ${bytesWarm} -> ${bytesDone}`);
    assert.equal(pipesDone, pipesWarm);
    await context.close();
  });
});
