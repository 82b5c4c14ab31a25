// Chapter 8.1 end to end on the backend "auto" picks (here, on SwiftShader, the CPU: the
// software adapter loses the probe): Run all trains the MNIST convnet on the embedded
// digits and the model beats 95 % validation accuracy; the summaries, the
// convolution/padding/strides/pooling demos on the photo and the predictions come out as
// the text says. Screenshots of the training and the demos go to test-results/.
// Training on WebGPU is checked elsewhere, shorter: keras.test.mjs trains this convnet
// on SwiftShader WebGPU, and reliability.test.mjs fits through the notebook on
// ?backend=webgpu.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fatalLogs, openNotebookPage, RESULTS_DIR, startNotebook } from './helpers.mjs';

// Four epochs of 4,000 digits take minutes on two cores.
const TRAINING_TIMEOUT = 1_500_000;

let notebook;
let page;
let logs;
let cells = [];

before(async () => {
  notebook = await startNotebook();
  ({ page, logs } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html#/8.1', { viewport: { width: 1366, height: 900 } }));
  const started = Date.now();
  const backend = await page.evaluate(() => window.convbook.kernel.backend);
  console.log(`# backend: ${backend.kind} (${backend.reason ?? backend.choice?.how})`);
  await page.click('[data-action="run-all"]');
  // A screenshot while training runs: the progress bar and the live curves.
  await page.waitForSelector('.out-chart', { timeout: 300_000 });
  await page.waitForFunction(() => document.querySelectorAll('.out-progress').length >= 2, null, { timeout: TRAINING_TIMEOUT, polling: 1000 });
  await page.locator('.out-progress').last().scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(RESULTS_DIR, 'chapter-8.1-training.png') });
  await page.waitForFunction(() => !window.convbook.scheduler.busy, null, { timeout: TRAINING_TIMEOUT, polling: 1000 });
  console.log(`# Run all took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  cells = await page.$$eval('.code-cell:not(.scratch-cell)', (els) =>
    els.map((e) => ({ state: e.dataset.state, source: e.querySelector('.cm-content')?.innerText ?? '', text: e.querySelector('.cell-outputs')?.innerText ?? '' })),
  );
});

after(async () => {
  await notebook?.close();
});

const cellWith = (snippet) => {
  const cell = cells.find((c) => c.source.includes(snippet));
  assert.ok(cell, `no cell contains ${snippet}`);
  return cell;
};

describe('chapter 8.1 in the notebook on the backend auto picks', { timeout: TRAINING_TIMEOUT + 120_000 }, () => {
  test('every cell runs without an error', () => {
    assert.ok(cells.length >= 10, `${cells.length} cells`);
    const failed = cells.filter((c) => c.state !== 'done');
    assert.deepEqual(failed.map((c) => `${c.source.slice(0, 60)}: ${c.state}\n${c.text}`), []);
    assert.equal(cellWith('keras.Model(inputs, outputs)').text.includes('104,202'), true);
    assert.equal(cellWith('no_max_pool').text.includes('712,202'), true);
    assert.match(cellWith('no_max_pool').text, /dense_1\s+\(Dense\)\s+\(None, 10\)\s+619,530|619,530/);
  });

  test('the trained convnet beats 95 % validation accuracy on the embedded digits', () => {
    const fit = cellWith('model.fit(').text;
    const m = fit.match(/after 4 epochs: accuracy ([\d.]+), validation accuracy ([\d.]+)/);
    assert.ok(m, fit);
    assert.ok(Number(m[2]) > 0.95, `validation accuracy ${m[2]}`);
    const evaluated = cellWith('model.evaluate(').text.match(/validation accuracy ([\d.]+) %/);
    assert.ok(evaluated && Number(evaluated[1]) > 95, cellWith('model.evaluate(').text);
    const predictions = cellWith('model.predict(').text;
    const right = [...predictions.matchAll(/^\s*\d+\s+(\d)\s+(\d)\s+[\d.]+ %/gm)].filter((r) => r[1] === r[2]).length;
    assert.ok(right >= 10, `${right}/12 predictions right:\n${predictions}`);
  });

  test('convolution, padding, strides and pooling give the shapes the text states', () => {
    assert.match(cellWith('cat.conv2d(sobel);').text, /photo 300,451,1 → feature maps 298,449,2/);
    const table = cellWith('outputSize').text;
    for (const [out] of [['298×449'], ['300×451'], ['149×225'], ['150×226']]) assert.match(table, new RegExp(`${out}\\s+${out}`));
    assert.match(table, /5×5 input, 3×3 window: valid 3×3, same 5×5/);
    assert.match(cellWith('{ padding: "same" }).reshape([5, 5])').text, /\[4\., 6\., 6\., 6\., 4\.\][\s\S]*\[6\., 9\., 9\., 9\., 6\.\]/);
    assert.match(cellWith('maxPool2d').text, /298,449,2 → max pooled 149,224,2, average pooled 149,224,2/);
  });

  test('screenshots, and no uncaught error in the page', async () => {
    for (const [name, snippet] of [['demos', 'cat.conv2d(sobel);'], ['curves', 'model.fit(']]) {
      await page.locator('.code-cell', { hasText: snippet }).first().scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(RESULTS_DIR, `chapter-8.1-${name}.png`) });
    }
    assert.deepEqual(fatalLogs(logs), []);
  });
});
