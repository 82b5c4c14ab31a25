// files.pick in the notebook (www/dist through Vite's preview server): a cell awaits a
// file picker output, the page sends the chosen Files back to the kernel (through
// setInputFiles on the widget's <input type=file>, a folder pick, and a drop), and an
// interrupt ends the wait without hurting the kernel. Screenshots go to test-results/.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fatalLogs, openNotebookPage, RESULTS_DIR, ROOT, runCode, startNotebook, waitDone as waitCell } from './helpers.mjs';

const ZIP = join(ROOT, 'www/data/boots_vs_sneakers_small.zip');
const PHOTOS = join(ROOT, 'www/data/photos');
const SCRATCH = '.scratch-cell';
const PICKER = `${SCRATCH} .out-filepicker`;

let notebook;
let page;
let logs;

before(async () => {
  notebook = await startNotebook();
  // One page for all cases (the kernel takes a while to start): they run in order, each
  // in the scratch cell, and the interrupt case checks the kernel still works after.
  ({ page, logs } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html#/9.1'));
});

after(async () => {
  await notebook?.close();
});

const run = (code) => runCode(page, SCRATCH, code);
const waitDone = (timeout) => waitCell(page, SCRATCH, timeout);

const outputText = () => page.innerText(`${SCRATCH} .cell-outputs`);
const shot = async (name) => {
  await page.locator(`${SCRATCH} .cell-outputs`).scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(RESULTS_DIR, `file-picker-${name}.png`) });
};

describe('files.pick', () => {
  test('a single file: the cell gets the File and reads it', async () => {
    await run("const f = await files.pick({label: 'Pick a zip', accept: '.zip'});\nprint(f.name, f.size, (await f.arrayBuffer()).byteLength)");
    await page.waitForSelector(`${PICKER}[data-state="waiting"]`);
    assert.equal((await page.textContent(`${PICKER} .filepicker-button`)).trim(), 'Pick a zip');
    assert.equal(await page.getAttribute(`${PICKER} input[type=file]`, 'accept'), '.zip');
    assert.equal(await page.getAttribute(SCRATCH, 'data-state'), 'running');
    await shot('waiting');
    await page.setInputFiles(`${PICKER} input[type=file]`, ZIP);
    assert.equal(await waitDone(), 'done', await outputText());
    const size = statSync(ZIP).size;
    assert.match(await outputText(), new RegExp(`boots_vs_sneakers_small\\.zip ${size} ${size}`));
    assert.equal(await page.getAttribute(PICKER, 'data-state'), 'chosen');
    assert.equal(await page.isDisabled(`${PICKER} .filepicker-button`), true);
    assert.match(await page.textContent(`${PICKER} .filepicker-status`), /boots_vs_sneakers_small\.zip · 3\.0 MB/);
    await shot('chosen');
  });

  test('multiple files: an array of Files', async () => {
    await run("const fs = await files.pick({label: 'Pick photos', accept: 'image/*', multiple: true});\nprint(fs.length, fs.map((f) => f.name).join(','), fs.every((f) => f instanceof File))");
    await page.waitForSelector(`${PICKER}[data-state="waiting"]`);
    assert.equal(await page.getAttribute(`${PICKER} input[type=file]`, 'multiple'), '');
    await page.setInputFiles(`${PICKER} input[type=file]`, [join(PHOTOS, 'astronaut.jpg'), join(PHOTOS, 'coffee.jpg')]);
    assert.equal(await waitDone(), 'done', await outputText());
    assert.match(await outputText(), /2 astronaut\.jpg,coffee\.jpg true/);
    assert.match(await page.textContent(`${PICKER} .filepicker-status`), /^2 files · .+: astronaut\.jpg, coffee\.jpg$/);
  });

  test('a folder pick: Files with webkitRelativePath, usable by the dataset loaders', async () => {
    await run("const dir = await files.pick({label: 'Pick a folder', directory: true});\nprint(dir.map((f) => f.webkitRelativePath).sort().join(','))");
    await page.waitForSelector(`${PICKER}[data-state="waiting"]`);
    await page.setInputFiles(`${PICKER} input[type=file]`, PHOTOS);
    assert.equal(await waitDone(), 'done', await outputText());
    const expected = readdirSync(PHOTOS).sort().map((n) => `photos/${n}`).join(',');
    assert.match(await outputText(), new RegExp(expected.replace(/\./g, '\\.')));
    assert.match(await page.textContent(`${PICKER} .filepicker-status`), /^photos\/ · 5 files · /);
    await shot('folder');
  });

  test("a picked folder in Kaggle's dogs-vs-cats layout feeds datasets.dogsVsCats", async () => {
    // A miniature train/ folder (cat.0.jpg … dog.5.jpg, real JPEGs) and small ranges.
    const root = mkdtempSync(join(tmpdir(), 'convbook-dvc-'));
    const train = join(root, 'train');
    mkdirSync(train);
    const photos = readdirSync(PHOTOS).sort();
    for (const kind of ['cat', 'dog']) {
      for (let i = 0; i < 6; i++) copyFileSync(join(PHOTOS, photos[i % photos.length]), join(train, `${kind}.${i}.jpg`));
    }
    try {
      await run(`const picked = await files.pick({label: "Choose Kaggle's train folder", directory: true});
const d = await datasets.dogsVsCats(picked, {imageSize: [32, 32], labelMode: 'binary', train: [0, 3], validation: [3, 4], test: [4, 6]});
print(JSON.stringify(['train', 'validation', 'test'].map((k) => [d[k].images.shape, d[k].labels.shape, d[k].classNames])))`);
      await page.waitForSelector(`${PICKER}[data-state="waiting"]`);
      await page.setInputFiles(`${PICKER} input[type=file]`, train);
      assert.equal(await waitDone(), 'done', await outputText());
      const shapes = JSON.parse((await outputText()).trim().split('\n').at(-1));
      assert.deepEqual(shapes, [
        [[6, 32, 32, 3], [6, 1], ['cat', 'dog']],
        [[2, 32, 32, 3], [2, 1], ['cat', 'dog']],
        [[4, 32, 32, 3], [4, 1], ['cat', 'dog']],
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a drop: dropped files reach the cell; a non-matching drop keeps the picker armed', async () => {
    await run("const d = await files.pick({label: 'Drop a zip', accept: '.zip'});\nprint('dropped', d.name, d.size, JSON.stringify(d.webkitRelativePath))");
    await page.waitForSelector(`${PICKER}[data-state="waiting"]`);
    const drop = (name, type) =>
      page.evaluate(
        ({ sel, name, type }) => {
          const dt = new DataTransfer();
          dt.items.add(new File([new Uint8Array(1234)], name, { type }));
          document.querySelector(sel).dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
        },
        { sel: `${PICKER} .filepicker-zone`, name, type },
      );
    await drop('notes.txt', 'text/plain');
    await page.waitForFunction((sel) => /nothing dropped matches \.zip/.test(document.querySelector(sel).textContent), `${PICKER} .filepicker-status`);
    assert.equal(await page.getAttribute(PICKER, 'data-state'), 'waiting');
    await shot('drop-refused');
    await drop('data.zip', 'application/zip');
    assert.equal(await waitDone(), 'done', await outputText());
    assert.match(await outputText(), /dropped data\.zip 1234 ""/);
  });

  test('an interrupt ends the wait with InterruptedError and the notebook keeps working', async () => {
    await run("const g = await files.pick({label: 'Pick a zip', accept: '.zip'});\nprint('never printed')");
    await page.waitForSelector(`${PICKER}[data-state="waiting"]`);
    await page.click('[data-action="interrupt"]');
    assert.equal(await waitDone(10_000), 'error');
    assert.equal((await page.textContent(`${SCRATCH} .cell-state`)).trim(), 'interrupted');
    assert.match(await page.innerText(`${SCRATCH} .out-error`), /InterruptedError: Interrupted by the user/);
    assert.doesNotMatch(await outputText(), /never printed/);
    assert.equal(await page.getAttribute(PICKER, 'data-state'), 'stopped');
    assert.equal(await page.isDisabled(`${PICKER} .filepicker-button`), true);
    await shot('interrupted');
    await run('const after = 40 + 2;\nafter');
    assert.equal(await waitDone(), 'done', await outputText());
    assert.match(await outputText(), /42/);
    assert.deepEqual(fatalLogs(logs), []);
  });
});
