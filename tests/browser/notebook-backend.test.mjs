// The backend "auto" chooses, and the rest of what a reader meets first in a chapter:
// on SwiftShader (a software WebGPU adapter) auto measures both backends, picks the CPU
// and says why in the badge, remembers the verdict, and `?backend=webgpu` or the badge
// menu override it; a restart while the kernel starts does not hang; model.summary()
// shows once; fit draws nothing before failing on bad shapes and names the cell line;
// the curves move during the first epoch; a layer error names the layer once; 8.2's
// zip is fetched once and then comes from Cache Storage; completion shows signatures.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fatalLogs, kernelIdle, openNotebookPage, RESULTS_DIR, setCode, startNotebook } from './helpers.mjs';

const SCRATCH = '.scratch-cell';
let notebook;

before(async () => {
  notebook = await startNotebook();
});

after(async () => {
  await notebook?.close();
});

async function run(page, code, timeout = 120_000) {
  await setCode(page, SCRATCH, code);
  await page.keyboard.press('Control+Enter');
  await page.waitForFunction((sel) => ['done', 'error'].includes(document.querySelector(sel).dataset.state) && !window.convbook.scheduler.busy, SCRATCH, { timeout });
  return page.innerText(`${SCRATCH} .cell-outputs`);
}

describe('the backend auto picks on a software adapter', { timeout: 600_000 }, () => {
  test('auto measures SwiftShader against the CPU, picks the CPU and says why; the verdict is remembered', async () => {
    const started = Date.now();
    const { page, context, logs } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html#/8.1');
    const backend = await page.evaluate(() => window.convbook.kernel.backend);
    console.log(`# kernel ready after ${Date.now() - started} ms; probe ${JSON.stringify(backend.choice?.verdict)}`);
    assert.equal(backend.gpu.architecture, 'swiftshader', JSON.stringify(backend.gpu));
    assert.equal(backend.kind, 'cpu');
    assert.equal(backend.choice.how, 'probe');
    assert.equal(backend.choice.verdict.picked, 'cpu');
    assert.ok(backend.choice.verdict.ratio > 1, JSON.stringify(backend.choice.verdict));
    const badge = await page.textContent('#backend-badge');
    assert.match(badge, /^CPU: SwiftShader WebGPU was (over )?[\d.]+× slower in a probe$/);
    assert.equal(await page.getAttribute('#backend-badge', 'data-kind'), 'cpu');
    assert.equal(await page.getAttribute('#backend-badge', 'data-choice'), 'probe');
    await page.screenshot({ path: join(RESULTS_DIR, 'notebook-backend-probe.png'), clip: { x: 700, y: 0, width: 666, height: 60 } });
    // Cells run on the chosen backend.
    assert.match(await run(page, 'engine.backend().kind'), /'cpu'|cpu/);

    // Another page of this browser uses the remembered verdict: no second probe.
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('convbook.backend-probe')));
    assert.equal(Object.values(stored).length, 1);
    const again = await context.newPage();
    await again.goto(`${notebook.base}notebook.html#/8.2`);
    await kernelIdle(again);
    assert.equal(await again.getAttribute('#backend-badge', 'data-choice'), 'cached');
    assert.equal(await again.getAttribute('#backend-badge', 'data-kind'), 'cpu');
    assert.equal(await again.textContent('#backend-badge'), badge);
    assert.deepEqual(fatalLogs(logs), []);
    await context.close();
  });

  test('?backend=webgpu and the badge menu override auto', async () => {
    const { page, context } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html?backend=webgpu#/8.1');
    assert.equal(await page.getAttribute('#backend-badge', 'data-kind'), 'webgpu');
    assert.match(await page.textContent('#backend-badge'), /^WebGPU/);
    assert.match(await run(page, 'engine.backend().kind'), /webgpu/);
    await page.click('.backend-toggle');
    assert.equal(await page.getAttribute('.backend-choice[aria-checked="true"]', 'data-backend'), 'webgpu');
    await Promise.all([page.waitForURL((u) => !u.search.includes('backend=')), page.click('.backend-choice[data-backend="auto"]')]);
    await kernelIdle(page);
    assert.equal(await page.getAttribute('#backend-badge', 'data-kind'), 'cpu');
    await context.close();
  });
});

describe('a reader\'s first cells', { timeout: 900_000 }, () => {
  let page;
  let context;
  let logs;

  before(async () => {
    // The engine's wasm arrives late, so the kernel is still starting when Restart is pressed.
    context = await notebook.browser.newContext({ viewport: { width: 1366, height: 768 } });
    let slowed = 0;
    // Either wasm build (see www/kernel/wasm-build.js): the one this browser picks is slowed.
    await context.route('**/convbook*_bg.wasm', async (route) => {
      if (slowed++ === 0) await new Promise((resolve) => setTimeout(resolve, 5000));
      await route.continue();
    });
    ({ page, logs } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html?backend=cpu#/8.1', { context, idle: false }));
  });

  after(async () => {
    await context?.close();
  });

  test('Restart while the kernel is still starting does not leave the cell waiting', async () => {
    await page.waitForFunction(() => window.convbook?.view && window.convbook.kernel);
    // A cell asked to run while the kernel starts, then Restart: the cell goes back to
    // [ ] and the kernel runs the next cell.
    await setCode(page, SCRATCH, '1 + 1');
    await page.keyboard.press('Control+Enter');
    assert.equal(await page.evaluate(() => window.convbook.kernel.state), 'starting');
    await page.click('[data-action="restart"]');
    await page.waitForFunction(() => !window.convbook.scheduler.busy, null, { timeout: 30_000 });
    assert.equal(await page.getAttribute(SCRATCH, 'data-state'), 'idle');
    await kernelIdle(page);
    assert.equal(await run(page, '40 + 2'), '42');
  });

  test('model.summary() as the last line shows the summary once', async () => {
    const out = await run(page, 'const inp = keras.Input([4]);\nconst m = keras.Model(inp, layers.Dense(2)(inp));\nm.summary()');
    assert.equal(out.match(/Total params: 10/g)?.length, 1, out);
    // Its text is still there to keep.
    assert.match(await run(page, 'const text = m.summary();\ntext.includes("Total params: 10")'), /true\s*$/);
  });

  test('fit fails on bad shapes before drawing anything, at the cell line; layer errors name the layer once', async () => {
    const out = await run(page, 'm.compile({ optimizer: "sgd", loss: "mse" });\nconst x = randn([10, 3]);\n\nawait m.fit(x, randn([10, 2]), { epochs: 1 })');
    assert.match(out, /expects shape \(None, 4\), got \(10, 3\)/);
    assert.match(out, /at line 4\b/);
    assert.equal(await page.locator(`${SCRATCH} .out-chart`).count(), 0);
    assert.equal(await page.locator(`${SCRATCH} .out-progress`).count(), 0);
    const layer = await run(page, 'const q = 1;\nlayers.Conv2D(3, 3, { name: "edges" })(keras.Input([4]))');
    assert.match(layer, /layer "edges" \(Conv2D\) called on \(None, 4\): expects a 4-D input/);
    assert.equal(layer.split('\n')[0].match(/edges/g).length, 1, layer);
    assert.match(layer, /at line 2\b/);
  });

  test('the curves move during the first epoch: smoothed per-batch points, validation at epoch ends', async () => {
    await setCode(
      page,
      SCRATCH,
      'const xs = randn([256, 4], { seed: 3 });\nconst ys = xs.sum([1], true);\nm.compile({ optimizer: "sgd", loss: "mse" });\n' +
        'await m.fit(xs, ys.broadcastTo([256, 2]), { epochs: 2, batchSize: 16, validationData: [xs, ys.broadcastTo([256, 2])], onBatchEnd: () => kernel.sleep(40) })',
    );
    await page.keyboard.press('Control+Enter');
    // While epoch 1 runs (its batches take 40 ms each here), the chart already has points.
    await page.waitForFunction(
      () => {
        const chart = window.convbook.view.items.find((i) => i.scratch).cell.outputs.records.find((o) => o.kind === 'chart');
        return chart && chart.points.length >= 3 && chart.points.every((p) => p.epoch < 1);
      },
      null,
      { timeout: 120_000, polling: 20 },
    );
    assert.equal(await page.locator(`${SCRATCH} .out-progress`).count(), 1);
    await page.waitForFunction(() => !window.convbook.scheduler.busy, null, { timeout: 120_000 });
    const chart = await page.evaluate(() => window.convbook.view.items.find((i) => i.scratch).cell.outputs.records.find((o) => o.kind === 'chart'));
    assert.deepEqual(chart.series, ['loss', 'val_loss']);
    const firstEpoch = chart.points.filter((p) => p.epoch < 1);
    assert.ok(firstEpoch.length >= 10, `${firstEpoch.length} points in epoch 1`);
    assert.ok(firstEpoch.every((p) => p.val_loss === undefined && Number.isFinite(p.loss)));
    assert.deepEqual(chart.points.filter((p) => p.val_loss !== undefined).map((p) => p.epoch), [1, 2]);
    await page.locator(`${SCRATCH} .out-chart`).scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(RESULTS_DIR, 'notebook-live-curves.png') });
    assert.deepEqual(fatalLogs(logs), []);
  });

  test('completion shows the engine\'s signatures for layers.X', async () => {
    await setCode(page, SCRATCH, 'layers.Conv2');
    await page.keyboard.press('Control+Space');
    await page.waitForSelector('.cm-tooltip-autocomplete');
    const item = page.locator('.cm-tooltip-autocomplete li', { hasText: 'Conv2D' }).first();
    // Keras's positional order, as the engine's registry has it.
    assert.match(await item.innerText(), /Conv2D\s*\(filters, kernel_size, strides, padding, .*\{…\}\)/);
    await page.keyboard.press('Escape');
  });
});

describe('data is fetched once', { timeout: 600_000 }, () => {
  test('8.2\'s first cell fetches its zip once, and a reload reads it from Cache Storage', async () => {
    const { page, context } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html?backend=cpu#/8.2');
    const zips = [];
    context.on('request', (r) => {
      if (r.url().includes('boots_vs_sneakers_small.zip')) zips.push(r.url());
    });
    const first = page.locator('.code-cell:not(.scratch-cell)').first();
    assert.match(await first.locator('.cm-content').innerText(), /boots_vs_sneakers_small\.zip/);
    const runFirst = async () => {
      await first.locator('.cell-run').click();
      await page.waitForFunction(() => window.convbook.scheduler.busy, null, { timeout: 10_000 }).catch(() => {});
      await page.waitForFunction(() => !window.convbook.scheduler.busy, null, { timeout: 300_000 });
      assert.equal(await first.getAttribute('data-state'), 'done', await first.locator('.cell-outputs').innerText());
    };
    await runFirst();
    // Three folders of one zip: one request, at most one progress bar.
    assert.equal(zips.length, 1, zips.join('\n'));
    assert.ok((await first.locator('.out-progress').count()) <= 1);
    await page.reload();
    await kernelIdle(page);
    await runFirst();
    assert.equal(zips.length, 1, `after the reload: ${zips.join('\n')}`);
    assert.equal(await first.locator('.out-progress').count(), 0);
    await context.close();
  });
});
