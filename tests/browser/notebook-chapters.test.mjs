// Every chapter's code cells run without an error (Run all), on the CPU engine so the
// whole book stays quick to check; the WebGPU path is covered by notebook.test.mjs.
// Chapters that train for minutes have their own test on WebGPU instead (DEDICATED).
// Also checks the table of contents against the chapter files. Screenshots of each
// chapter's top go to test-results/.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fatalLogs, openNotebookPage, RESULTS_DIR, startNotebook } from './helpers.mjs';
import { SECTIONS } from '../../www/chapters/index.js';

const DEDICATED = { '8.1': 'chapter-8.1.test.mjs' };
// Chapters whose demo training takes longer than the default two minutes on the CPU engine.
const RUN_ALL_TIMEOUT = { '8.2': 900_000 };
// Figures a chapter's outputs must show (from the book, or facts of the embedded data).
const EXPECT = {
  '8.2': [
    /classes: 0 = ankle_boot, 1 = sneaker/,
    /train\s+2,000\s+28×28×1\s+uint8/,
    /test\s+2,000/,
    /991,041[\s\S]*991,041/,
    // The augmentation Sequential, built by its first call, is one row of the summary.
    /data_augmentation \(Sequential\)\s+\(None, 180, 180, 3\)\s+0\b/,
    /test accuracy without augmentation: (9\d|100)\.\d %/,
    /augmentation \+ dropout\s+\d+\s+[\d.]+\s+(8[5-9]|9\d|100)\.\d %/,
  ],
};

let notebook;
let page;
let logs;

before(async () => {
  notebook = await startNotebook();
  // The first chapter's kernel is not awaited: each test waits for its own chapter.
  ({ page, logs } = await openNotebookPage(notebook.browser, notebook.base, `notebook.html?backend=cpu#/${SECTIONS[0].id}`, { idle: false }));
});

after(async () => {
  await notebook?.close();
});

describe('chapters', () => {
  test('the contents list the seed sections: 8.1, 8.2, 9.1–9.4, Hands-on CV 4.2–4.3', async () => {
    const labels = await page.$$eval('.toc-link .toc-num', (els) => els.map((e) => e.textContent));
    assert.deepEqual(labels, ['8.1', '8.2', '9.1', '9.2', '9.3', '9.4', '4.2', '4.3']);
    assert.match(await page.textContent('#toc'), /Hands-on Computer Vision/);
  });

  for (const section of SECTIONS) {
    const skip = DEDICATED[section.id] ? `trains for minutes: run by ${DEDICATED[section.id]}` : false;
    const timeout = RUN_ALL_TIMEOUT[section.id] ?? 120_000;
    test(`${section.id} ${section.title}: every code cell runs`, { skip, timeout: timeout + 60_000 }, async () => {
      await page.evaluate((id) => (location.hash = `#/${id}`), section.id);
      await page.waitForFunction(
        (id) => window.convbook.chapter === id && window.convbook.kernel.state === 'idle',
        section.id,
        { timeout: 60_000 },
      );
      assert.match(await page.textContent('h1'), new RegExp(section.title));
      const cells = await page.locator('.code-cell:not(.scratch-cell)').count();
      assert.ok(cells >= 2, `${section.id} has only ${cells} code cells`);
      await page.click('[data-action="run-all"]');
      await page.waitForFunction(() => !window.convbook.scheduler.busy, null, { timeout, polling: 500 });
      const errors = await page.$$eval('.out-error', (els) => els.map((e) => e.innerText));
      assert.deepEqual(errors, []);
      const states = await page.$$eval('.code-cell:not(.scratch-cell)', (els) => els.map((e) => e.dataset.state));
      assert.deepEqual(states, Array(cells).fill('done'));
      const outputs = await page.$$eval('.code-cell:not(.scratch-cell) .cell-outputs', (els) => els.map((e) => e.innerText).join('\n'));
      for (const pattern of EXPECT[section.id] ?? []) assert.match(outputs, pattern);
      const images = page.locator('.code-cell:not(.scratch-cell) .out-image');
      if ((await images.count()) > 0) {
        await images.last().scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(RESULTS_DIR, `notebook-chapter-${section.id}-last-image.png`) });
      }
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(RESULTS_DIR, `notebook-chapter-${section.id}.png`) });
    });
  }

  test('no uncaught error in the page', () => {
    assert.deepEqual(fatalLogs(logs), []);
  });
});
