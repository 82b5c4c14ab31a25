// Outputs stay with the notebook: text, tables, images (PNG data URLs), charts (as
// data) and progress bars come back after a reload; Export (Markdown) and the Jupyter
// .ipynb export keep them; Import takes several files, each added as a notebook, and an
// .ipynb round trip gives back the same notebook. One browser context, no training.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fatalLogs, kernelIdle, openNotebookPage, RESULTS_DIR, setCode, startNotebook, waitDone } from './helpers.mjs';

let notebook;
let page;
let logs;

before(async () => {
  notebook = await startNotebook();
  ({ page, logs } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html#/9.1'));
});

after(async () => {
  await notebook?.close();
});

const CODE = [
  'print("hello from the cell");',
  'display.table([{ a: 1, b: 2.5 }, { a: 3, b: 4 }]);',
  'await display.image(tensor([[0, 0.5], [1, 0.25]]), { caption: "four pixels" });',
  'const live = display.chart({ title: "squares", data: [1, 4].map((y, x) => ({ x, y })) });',
  'live.push({ x: 2, y: 9 });',
  'display.markdown("**saved** text");',
  'for await (const i of kernel.range(3, { progress: "steps" }));',
  '6 * 7',
].join('\n');

const scratch = '.scratch-cell';
const snapshot = () => page.evaluate(() => JSON.stringify(window.convbook.view.snapshot().cells));

async function expectOutputs(selector) {
  assert.match(await page.innerText(`${selector} .out-stream`), /hello from the cell/);
  assert.match(await page.innerText(`${selector} .out-table`), /a\s+b\s+1\s+2\.5\s+3\s+4/);
  assert.match(await page.getAttribute(`${selector} img.out-image`, 'src'), /^data:image\/png;base64,/);
  assert.equal(await page.textContent(`${selector} figcaption`), 'four pixels');
  await page.waitForSelector(`${selector} .out-chart .uplot`, { timeout: 10_000 });
  assert.equal(await page.textContent(`${selector} .out-markdown strong`), 'saved');
  assert.match(await page.textContent(`${selector} .progress-text`), /^3\/3/);
  assert.equal(await page.getAttribute(`${selector} .out-progress`, 'data-state'), 'done');
  assert.match(await page.textContent(`${selector} .out-value`), /^42$/);
}

async function run(code) {
  await setCode(page, scratch, code);
  await page.keyboard.press('Control+Enter');
  await page.waitForFunction((sel) => ['done', 'error'].includes(document.querySelector(sel).dataset.state) && !window.convbook.scheduler.busy, scratch);
  return page.innerText(`${scratch} .cell-outputs`);
}

describe('notebook outputs', () => {
  test('shapes print as tuples, table numbers share one precision, engine errors name the cell line', async () => {
    assert.equal(await run('new Uint32Array([4000, 28, 28, 1])'), '(4000, 28, 28, 1)');
    assert.equal(await run('new Uint32Array([7])'), '(7,)');
    assert.match(await run('display.table([{ b: 0.123456789, c: 1234.5678 }, { b: 0.0001, c: 2 }])'), /b\s+c\s+0\.12346\s+1234\.6\s+0\.0001\s+2/);
    // A printed model summary: box-drawing lines touch (line height within the glyphs' height).
    await run('const inp = keras.Input([4]);\nkeras.Model(inp, layers.Dense(2)(inp)).summary();');
    const box = await page.$eval(`${scratch} .out-stream`, (el) => ({ boxed: el.classList.contains('out-boxed'), line: parseFloat(getComputedStyle(el).lineHeight), size: parseFloat(getComputedStyle(el).fontSize) }));
    assert.ok(box.boxed && box.line <= 1.25 * box.size, JSON.stringify(box));
    // The engine's error comes through many wasm frames; the cell's line still shows.
    const error = await run('const fine = 1;\n\nlayers.Dense(3, { activation: "nope" })');
    assert.match(error, /unknown activation 'nope'/);
    assert.match(error, /at line 3\b/);
  });

  test('model.save("downloads://x.keras") hands the reader a Keras archive; other names say why not', async () => {
    const code = 'const i = keras.Input([3]);\nconst m = keras.Model(i, layers.Dense(2)(i));\nawait m.save("downloads://tiny.keras");';
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), run(code)]);
    assert.equal(download.suggestedFilename(), 'tiny.keras');
    const bytes = readFileSync(await download.path());
    // A zip (Keras 3's .keras) holding the model's config and its weights file.
    assert.equal(bytes.subarray(0, 2).toString('latin1'), 'PK');
    for (const entry of ['config.json', 'metadata.json', 'model.weights.h5']) assert.ok(bytes.includes(Buffer.from(entry)), `${entry} missing`);
    assert.match(await page.innerText(`${scratch} .cell-outputs`), /download tiny\.keras \(/);
    const error = await run('const j = keras.Input([3]);\nawait keras.Model(j, layers.Dense(2)(j)).save("downloads://tiny");');
    assert.match(error, /give a name ending in \.keras/);
  });

  let count;
  let exported;

  test('outputs of every kind come back after a reload', async () => {
    await setCode(page, scratch, CODE);
    await page.keyboard.press('Control+Enter');
    assert.equal(await waitDone(page, scratch), 'done', await page.innerText(`${scratch} .cell-outputs`));
    count = (await page.textContent(`${scratch} .cell-count`)).trim();
    await page.waitForTimeout(500);
    await page.reload();
    await kernelIdle(page);
    assert.equal((await page.textContent(`${scratch} .cell-count`)).trim(), count);
    assert.equal(await page.getAttribute(scratch, 'data-state'), 'done');
    await expectOutputs(scratch);
    await page.locator(`${scratch} .cell-outputs`).scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(RESULTS_DIR, 'notebook-outputs-reloaded.png') });
  });

  test('Export keeps the outputs; .ipynb is nbformat 4 with JavaScript code cells', async () => {
    const [md] = await Promise.all([page.waitForEvent('download'), page.click('[data-action="export"]')]);
    const text = readFileSync(await md.path(), 'utf8');
    assert.match(text, /```js\nprint\("hello from the cell"\);[\s\S]*?```\n\n````?output\n\{.*"hello from the cell/);
    exported = { md: text };
    const [ipynb] = await Promise.all([page.waitForEvent('download'), page.click('[data-action="export-ipynb"]')]);
    assert.equal(ipynb.suggestedFilename(), '9.1.ipynb');
    const nb = JSON.parse(readFileSync(await ipynb.path(), 'utf8'));
    exported.ipynb = JSON.stringify(nb);
    assert.equal(nb.nbformat, 4);
    assert.equal(nb.metadata.kernelspec.language, 'javascript');
    assert.equal(nb.metadata.kernelspec.name, 'javascript');
    assert.ok(nb.cells.some((c) => c.cell_type === 'markdown' && c.source.join('').trim()));
    const last = nb.cells.at(-1);
    assert.equal(last.cell_type, 'code');
    assert.equal(last.source.join(''), CODE);
    assert.equal(last.execution_count, Number(count.slice(1, -1)));
    const types = last.outputs.map((o) => o.output_type);
    assert.equal(types[0], 'stream');
    assert.deepEqual(last.outputs[0].text, ['hello from the cell\n']);
    assert.ok(last.outputs.some((o) => o.data?.['image/png']?.length > 20), 'no image/png output');
    assert.ok(last.outputs.some((o) => o.data?.['text/html']?.join('').includes('<td>2.5</td>')), 'no HTML table');
    // The chart is kept as data, with the point pushed after it was shown.
    const chart = last.outputs.map((o) => o.data?.['application/vnd.convbook.output+json']).find((r) => r?.kind === 'chart');
    assert.deepEqual(chart.points.map((p) => p.y), [1, 4, 9]);
    assert.ok(last.outputs.some((o) => o.output_type === 'execute_result' && o.data['text/plain'].join('') === '42'));
  });

  test('Import takes several notebooks; the .ipynb round trip gives back the same notebook', async () => {
    const original = await snapshot();
    const ipynbFile = join(RESULTS_DIR, 'notebook-roundtrip.ipynb');
    const mdFile = join(RESULTS_DIR, 'notebook-outputs.md');
    writeFileSync(ipynbFile, exported.ipynb);
    writeFileSync(mdFile, exported.md.replace(/^title: .*$/m, 'title: Second import'));
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click('[data-action="import"]')]);
    await chooser.setFiles(ipynbFile);
    await page.waitForFunction(() => location.hash === '#/imported' && window.convbook.chapter === 'imported');
    await kernelIdle(page);
    assert.equal(await snapshot(), original);
    // The scratch cell came in as a code cell of the notebook, with a new scratch cell after it.
    await expectOutputs(`#${await page.evaluate((code) => window.convbook.view.codeCells.find((c) => c.source === code).element.id, CODE)}`);
    // A second import adds a notebook; the first stays.
    const [again] = await Promise.all([page.waitForEvent('filechooser'), page.click('[data-action="import"]')]);
    await again.setFiles(mdFile);
    await page.waitForFunction(() => window.convbook.chapter === 'imported-2');
    await kernelIdle(page);
    assert.match(await page.textContent('#toc'), /Your notebooks\s*↥\s*Three essential computer vision tasks\s*↥\s*Second import/);
    assert.equal(await snapshot(), original);
    assert.deepEqual(fatalLogs(logs), []);
  });

  test('dark mode follows the system, the toggle overrides it and is remembered; the logo leads to the start page', async () => {
    const theme = () => page.evaluate(() => ({ theme: document.documentElement.dataset.theme, bg: getComputedStyle(document.body).backgroundColor }));
    await page.emulateMedia({ colorScheme: 'dark' });
    // The page hears of the change through a media-query event, which can come a little later.
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark', null, { timeout: 5000 }).catch(() => {});
    assert.equal((await theme()).theme, 'dark');
    const dark = (await theme()).bg;
    const [r, g, b] = dark.match(/\d+/g).map(Number);
    assert.ok(r + g + b < 120, `dark background ${dark}`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(RESULTS_DIR, 'notebook-dark.png') });
    await page.click('#theme-toggle');
    assert.equal((await theme()).theme, 'light');
    await page.reload();
    await kernelIdle(page);
    assert.equal((await theme()).theme, 'light', 'the choice was not remembered');
    await page.click('#theme-toggle');
    assert.equal((await theme()).theme, 'dark');
    await page.emulateMedia({ colorScheme: 'light' });
    // Picking what the system shows went back to following it.
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'light', null, { timeout: 5000 });
    assert.equal(await page.evaluate(() => new URL(document.querySelector('.brand').href).pathname), '/index.html');
  });

  test('the backend menu switches the page to ?backend=cpu and the badge follows', async () => {
    await page.click('.backend-toggle');
    assert.equal(await page.getAttribute('.backend-choice[aria-checked="true"]', 'data-backend'), 'auto');
    await Promise.all([page.waitForURL(/[?&]backend=cpu/), page.click('.backend-choice[data-backend="cpu"]')]);
    await kernelIdle(page);
    assert.equal(await page.getAttribute('#backend-badge', 'data-kind'), 'cpu');
    await page.click('.backend-toggle');
    assert.equal(await page.getAttribute('.backend-choice[aria-checked="true"]', 'data-backend'), 'cpu');
  });
});
