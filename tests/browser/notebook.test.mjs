// The notebook page (www/notebook.html) in headless chromium on SwiftShader WebGPU:
// running cells from the keyboard, Run all, interrupting, errors with line numbers,
// variables across cells, autosave across reloads, export/import, the backend badge.
//
// Serves the Vite build (www/dist, from `npx vite build`) with www/pkg, through Vite's
// preview server on a random port. Screenshots go to test-results/.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fatalLogs, kernelIdle, openNotebookPage, RESULTS_DIR, setCode, startNotebook, waitDone } from './helpers.mjs';

let notebook;

before(async () => {
  notebook = await startNotebook();
});

after(async () => {
  await notebook?.close();
});

/** A fresh browser context (own localStorage) on the notebook; waits for the kernel. */
const openNotebook = (path = 'notebook.html#/8.1', context = null) =>
  openNotebookPage(notebook.browser, notebook.base, path, { context });

const cell = (n) => `#cell-${n}`;

const outputText = (page, selector) => page.innerText(`${selector} .cell-outputs`);
const shot = (page, name) => page.screenshot({ path: join(RESULTS_DIR, `notebook-${name}.png`) });

describe('notebook page', () => {
  test('Shift+Enter runs a cell, shows its outputs and moves to the next cell', async () => {
    const { page, logs, context } = await openNotebook();
    await page.click(`${cell(1)} .cm-content`);
    await page.keyboard.press('Shift+Enter');
    assert.equal(await waitDone(page, cell(1)), 'done');
    assert.equal((await page.textContent(`${cell(1)} .cell-count`)).trim(), '[1]');
    // 8.1's first cell builds the convnet; its value is the summary table.
    const text = await outputText(page, cell(1));
    assert.match(text, /conv2d_2 \(Conv2D\)\s+\(None, 3, 3, 128\)\s+73,856/);
    assert.match(text, /Total params: 104,202/);
    // Focus moved into the next cell's editor.
    assert.equal(await page.evaluate(() => document.activeElement.closest('.code-cell')?.id), 'cell-2');
    await shot(page, 'shift-enter');
    assert.deepEqual(fatalLogs(logs), []);
    await context.close();
  });

  test('the badge names the WebGPU adapter the browser reports', async () => {
    // On SwiftShader "auto" picks the CPU (notebook-backend.test.mjs); WebGPU is asked for.
    const { page, context } = await openNotebook('notebook.html?backend=webgpu#/8.1');
    const badge = await page.textContent('#backend-badge');
    const info = await page.evaluate(async () => {
      const a = await navigator.gpu.requestAdapter();
      return { vendor: a.info.vendor, architecture: a.info.architecture };
    });
    assert.match(badge, /^WebGPU/);
    for (const v of [info.vendor, info.architecture].filter(Boolean)) assert.ok(badge.includes(v), `badge "${badge}" lacks "${v}"`);
    assert.equal(await page.getAttribute('#backend-badge', 'data-kind'), 'webgpu');
    await context.close();
  });

  test('the badge says CPU fallback, with the reason, on the CPU engine', async () => {
    const { page, context } = await openNotebook('notebook.html?backend=cpu#/8.1');
    assert.equal(await page.getAttribute('#backend-badge', 'data-kind'), 'cpu');
    assert.match(await page.textContent('#backend-badge'), /^CPU fallback: .+/);
    await context.close();
  });

  test('Ctrl+Enter runs in place; variables persist across cells and cells can be re-run', async () => {
    const { page, context } = await openNotebook('notebook.html#/9.1');
    const scratch = '.scratch-cell';
    await setCode(page, scratch, 'const base = 41;\nlet bump = (x) => x + 1;\nfunction twice(x) { return 2 * x; }\nclass Box { constructor(v) { this.v = v; } }');
    await page.keyboard.press('Control+Enter');
    assert.equal(await waitDone(page, scratch), 'done');
    assert.equal(await page.evaluate(() => document.activeElement.closest('.code-cell')?.classList.contains('scratch-cell')), true);
    // Running the same declarations again must not throw "already declared".
    await page.keyboard.press('Control+Enter');
    assert.equal(await waitDone(page, scratch), 'done', await outputText(page, scratch));
    await setCode(page, scratch, 'const answer = bump(base);\nprint("twice:", twice(answer));\nnew Box(answer).v');
    await page.keyboard.press('Control+Enter');
    assert.equal(await waitDone(page, scratch), 'done', await outputText(page, scratch));
    assert.match(await outputText(page, scratch), /twice: 84\s+42/);
    // Top-level await, and a tensor defined in one run used in the next.
    await setCode(page, scratch, 'await kernel.sleep(10);\nconst t = tensor([[1, 2], [3, 4]]);');
    await page.keyboard.press('Control+Enter');
    assert.equal(await waitDone(page, scratch), 'done', await outputText(page, scratch));
    await setCode(page, scratch, 't.matmul(t).sum()');
    await page.keyboard.press('Control+Enter');
    assert.equal(await waitDone(page, scratch), 'done', await outputText(page, scratch));
    assert.match(await outputText(page, scratch), /Tensor float32 \[\]\s+54\./);
    assert.equal((await page.textContent(`${scratch} .cell-count`)).trim(), '[5]');
    await context.close();
  });

  test('errors show the message and the line in the cell', async () => {
    const { page, context } = await openNotebook('notebook.html#/9.1');
    const scratch = '.scratch-cell';
    await setCode(page, scratch, 'const ok = 1;\n\nconst broken = ok + notDefinedAnywhere;\nprint("not reached");');
    await page.keyboard.press('Control+Enter');
    assert.equal(await waitDone(page, scratch), 'error');
    let error = await page.innerText(`${scratch} .out-error`);
    assert.match(error, /ReferenceError: notDefinedAnywhere is not defined/);
    assert.match(error, /at line 3\b/);
    assert.match(await page.innerText(`${scratch} .error-snippet .here`), /3 ▶ const broken = ok \+ notDefinedAnywhere;/);
    assert.equal(await page.locator(`${scratch} .out-stream`).count(), 0, 'the cell went on after the error');
    await shot(page, 'error');

    // Engine errors (a shape mismatch thrown by the wasm side) keep their line too.
    await setCode(page, scratch, 'const a = tensor([[1, 2, 3]]);\na.matmul(a)');
    await page.keyboard.press('Control+Enter');
    assert.equal(await waitDone(page, scratch), 'error');
    error = await page.innerText(`${scratch} .out-error`);
    assert.match(error, /matmul/);
    assert.match(error, /at line 2\b/);

    // A function from an earlier run fails: the line shown is in that run's code.
    await setCode(page, scratch, '// helpers\nfunction explode() {\n  return missingThing.value;\n}');
    await page.keyboard.press('Control+Enter');
    assert.equal(await waitDone(page, scratch), 'done');
    const definedIn = (await page.textContent(`${scratch} .cell-count`)).trim();
    await setCode(page, scratch, 'explode()');
    await page.keyboard.press('Control+Enter');
    assert.equal(await waitDone(page, scratch), 'error');
    error = await page.innerText(`${scratch} .out-error`);
    assert.match(error, new RegExp(`at line 3, column \\d+ of the cell run as \\${definedIn.slice(0, -1)}\\]`));
    assert.match(error, /3 ▶ {3}return missingThing\.value;/);

    await setCode(page, scratch, 'const fine = 1;\nconst = 2;');
    await page.keyboard.press('Control+Enter');
    assert.equal(await waitDone(page, scratch), 'error');
    error = await page.innerText(`${scratch} .out-error`);
    assert.match(error, /SyntaxError/);
    assert.match(error, /at line 2\b/);
    await context.close();
  });

  test('display helpers: markdown, tables, charts, kernel.range with progress, model summaries', async () => {
    const { page, context } = await openNotebook('notebook.html#/9.1');
    const scratch = '.scratch-cell';
    await setCode(
      page,
      scratch,
      [
        'display.markdown("**bold** <img src=x onerror=alert(1)>");',
        'console.table([{ a: 1, b: 2.5 }, { a: 3, b: 4 }]);',
        'display.chart({ title: "static", data: [1, 4, 9, 16].map((y, x) => ({ x, y })) });',
        'let total = 0;',
        'for await (const i of kernel.range(5, { progress: "range" })) total += i;',
        'console.warn("careful");',
        'if (engine.model) {',
        '  const inp = engine.input([8]);',
        '  const out = engine.layer("Dense", { units: 2 }).apply([inp.clone()]);',
        '  display.summary(engine.model([inp], [out], "tiny"));',
        '}',
        'total',
      ].join('\n'),
    );
    await page.keyboard.press('Control+Enter');
    assert.equal(await waitDone(page, scratch), 'done', await outputText(page, scratch));
    assert.equal(await page.textContent(`${scratch} .out-markdown strong`), 'bold');
    assert.equal(await page.locator(`${scratch} .out-markdown img[onerror]`).count(), 0, 'markdown was not sanitized');
    assert.match(await page.innerText(`${scratch} .out-table >> nth=0`), /a\s+b\s+1\s+2\.5\s+3\s+4/);
    // uPlot draws on the next animation frame, which may come after the cell reports done.
    await page.waitForSelector(`${scratch} .out-chart .uplot`, { timeout: 10_000 });
    assert.equal(await page.locator(`${scratch} .out-chart .uplot`).count(), 1);
    assert.equal(await page.getAttribute(`${scratch} .out-progress`, 'data-state'), 'done');
    assert.match(await page.textContent(`${scratch} .progress-text`), /^5\/5/);
    assert.match(await page.textContent(`${scratch} .out-warn`), /careful/);
    assert.match(await page.textContent(`${scratch} .out-value`), /^10$/);
    if (await page.locator(`${scratch} .out-table`).count() > 1) {
      const summary = await page.innerText(`${scratch} .out-table-wrap >> nth=1`);
      assert.match(summary, /Model: "tiny"/);
      assert.match(summary, /dense \(Dense\)\s+\(None, 2\)\s+18/);
      assert.match(summary, /Total params: 18 \(72\.00 B\)/);
    }
    await page.locator(`${scratch} .cell-outputs`).scrollIntoViewIfNeeded();
    await shot(page, 'display');
    await context.close();
  });

  test('Run all runs every code cell in order', async () => {
    const { page, logs, context } = await openNotebook('notebook.html#/9.4');
    const cells = await page.locator('.code-cell:not(.scratch-cell)').count();
    await page.click('[data-action="run-all"]');
    await page.waitForFunction(() => !window.convbook.scheduler.busy, null, { timeout: 120_000 });
    const states = await page.$$eval('.code-cell:not(.scratch-cell)', (els) => els.map((e) => e.dataset.state));
    assert.deepEqual(states, Array(cells).fill('done'));
    const counts = await page.$$eval('.code-cell:not(.scratch-cell) .cell-count', (els) => els.map((e) => e.textContent));
    assert.deepEqual(counts, Array.from({ length: cells }, (_, i) => `[${i + 1}]`));
    assert.ok((await page.locator('canvas.out-image').count()) >= 3);
    await page.locator(`${cell(2)} .cell-outputs`).scrollIntoViewIfNeeded();
    await shot(page, 'run-all');
    assert.deepEqual(fatalLogs(logs), []);
    await context.close();
  });

  test('Interrupt stops model.fit in 8.1 between batches and keeps the variables', async () => {
    const { page, context } = await openNotebook('notebook.html#/8.1');
    for (const n of [1, 2]) {
      await page.click(`${cell(n)} .cell-run`);
      assert.equal(await waitDone(page, cell(n)), 'done', await outputText(page, cell(n)));
    }
    await page.click(`${cell(3)} .cell-run`);
    // Let it train a few batches: the progress bar and the chart are live.
    await page.waitForFunction(
      (sel) => Number(/^(\d+)\//.exec(document.querySelector(`${sel} .progress-text`)?.textContent ?? '')?.[1] ?? 0) >= 3,
      cell(3),
      { timeout: 180_000 },
    );
    assert.equal(await page.locator(`${cell(3)} .out-chart canvas`).count() > 0, true);
    await page.locator(`${cell(3)} .out-progress`).scrollIntoViewIfNeeded();
    await shot(page, 'training');
    await page.click('[data-action="interrupt"]');
    assert.equal(await waitDone(page, cell(3), 30_000), 'error');
    assert.match(await page.innerText(`${cell(3)} .out-error`), /InterruptedError: Interrupted by the user/);
    assert.equal(await page.getAttribute(`${cell(3)} .out-progress`, 'data-state'), 'stopped');
    assert.equal((await page.textContent(`${cell(3)} .cell-state`)).trim(), 'interrupted');
    const step = Number(/^(\d+)\//.exec(await page.textContent(`${cell(3)} .progress-text`))[1]);
    assert.ok(step >= 3 && step < 125, `stopped at step ${step}`);
    await shot(page, 'interrupted');
    // The kernel lives on, with the model and the data.
    await setCode(page, '.scratch-cell', '[model.countParams(), train.images.shape[0]]');
    await page.keyboard.press('Control+Enter');
    assert.equal(await waitDone(page, '.scratch-cell'), 'done');
    assert.match(await outputText(page, '.scratch-cell'), /\[104202, 4000\]/);
    await context.close();
  });

  test('a loop that never awaits is stopped by restarting the kernel', async () => {
    const { page, context } = await openNotebook('notebook.html#/9.1');
    await setCode(page, '.scratch-cell', 'const before = 1;\nwhile (true) {}');
    await page.keyboard.press('Control+Enter');
    await page.waitForSelector('.scratch-cell[data-state="running"]');
    await page.click('[data-action="interrupt"]');
    await page.waitForSelector('.tb-notice:not([hidden])', { timeout: 10_000 });
    assert.match(await page.textContent('.tb-notice'), /never pauses/);
    await page.click('.tb-notice button');
    await page.waitForSelector('.scratch-cell[data-state="idle"]');
    await kernelIdle(page);
    await setCode(page, '.scratch-cell', 'typeof before');
    await page.keyboard.press('Control+Enter');
    assert.equal(await waitDone(page, '.scratch-cell'), 'done');
    // A new kernel: the old variables are gone, and counting starts again.
    assert.match(await outputText(page, '.scratch-cell'), /"undefined"/);
    assert.equal((await page.textContent('.scratch-cell .cell-count')).trim(), '[1]');
    await context.close();
  });

  test('edits are saved, survive a reload, and Reset restores the original', async () => {
    const { page, context } = await openNotebook('notebook.html#/8.1');
    const original = await page.evaluate(() => window.convbook.view.codeCells[0].source);
    await page.click(`${cell(1)} .cm-content`);
    await page.keyboard.press('ControlOrMeta+End');
    await page.keyboard.insertText('\n// my note');
    await page.waitForSelector('.save-state:has-text("edits saved")');
    await page.reload();
    await kernelIdle(page);
    assert.equal(await page.evaluate(() => window.convbook.view.codeCells[0].source), `${original}\n// my note`);
    assert.equal(await page.locator(`${cell(1)}.is-edited`).count(), 1);
    await shot(page, 'edited');
    await page.click(`${cell(1)} .cell-reset`);
    assert.equal(await page.evaluate(() => window.convbook.view.codeCells[0].source), original);
    await page.waitForTimeout(500);
    await page.reload();
    await kernelIdle(page);
    assert.equal(await page.evaluate(() => window.convbook.view.codeCells[0].source), original);
    assert.equal(await page.locator(`${cell(1)}.is-edited`).count(), 0);
    await context.close();
  });

  test('export writes the notebook as Markdown and import opens it again', async () => {
    // 9.1's first code cell is its parameters cell; the edit goes in the next one.
    const { page, context } = await openNotebook('notebook.html#/9.1');
    await setCode(page, cell(2), 'const exported = "yes";\nexported');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-action="export"]')]);
    assert.equal(download.suggestedFilename(), '9.1.md');
    const text = readFileSync(await download.path(), 'utf8');
    assert.match(text, /^---\n(.*\n)*title: Three essential computer vision tasks\n(.*\n)*---\n/);
    assert.match(text, /```js\nconst exported = "yes";\nexported\n```/);
    assert.match(text, /^```js parameters\n/m);
    // No chapter has a "coming soon" note any more; an imported notebook with one keeps
    // it through the next export.
    const soon = '```soon layers.Future2D\nA note on a cell still to come.\n```';
    const file = join(RESULTS_DIR, 'notebook-import.md');
    writeFileSync(file, text.replace('title: Three essential computer vision tasks', 'title: My own notebook') + `\n${soon}\n`);
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click('[data-action="import"]')]);
    await chooser.setFiles(file);
    await page.waitForFunction(() => location.hash === '#/imported' && document.title.includes('My own notebook'));
    await kernelIdle(page);
    assert.match(await page.textContent('#toc'), /Your notebooks\s*↥\s*My own notebook/);
    await page.click(`${cell(2)} .cell-run`);
    assert.equal(await waitDone(page, cell(2)), 'done');
    assert.match(await outputText(page, cell(2)), /"yes"/);
    const [again] = await Promise.all([page.waitForEvent('download'), page.click('[data-action="export"]')]);
    assert.ok(readFileSync(await again.path(), 'utf8').includes(soon), 'the coming-soon note did not survive import and export');
    await context.close();
  });

  test('the table of contents, the toolbar and the cells work from the keyboard', async () => {
    const { page, context } = await openNotebook('notebook.html#/8.1');
    // The first Tab stop is the skip link, and it leads to the notebook.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
    // Chapters are links; Enter follows them.
    await page.focus('.toc a[href="#/9.3"]');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.title.startsWith('9.3'));
    assert.equal(await page.getAttribute('.toc a[href="#/9.3"]', 'aria-current'), 'page');
    // A run button, by keyboard; its cell's editor follows it in the tab order.
    await page.focus(`${cell(1)} .cell-run`);
    assert.equal(await page.getAttribute(`${cell(1)} .cell-run`, 'aria-label'), 'Run cell 1');
    await page.keyboard.press('Enter');
    assert.equal(await waitDone(page, cell(1)), 'done');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Code of cell 1');
    // Tab indents in the editor; Escape then Tab moves on (it is not swallowed).
    await page.keyboard.press('Escape');
    await page.keyboard.press('Tab');
    assert.notEqual(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Code of cell 1');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, 'none', 'focused control has no visible outline');
    await shot(page, 'keyboard');
    await context.close();
  });
});
