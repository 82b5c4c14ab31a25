// Editing the notebook as in Jupyter: cells added, deleted, moved, duplicated and
// converted (per-cell toolbar and command-mode keys), prose cells edited, Tab indenting,
// completion, Run above / Restart & run all / Clear outputs, and the reshaped notebook
// surviving a reload. One page on 9.1, no training.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fatalLogs, kernelIdle, openNotebookPage, RESULTS_DIR, setCode, startNotebook, waitDone } from './helpers.mjs';
import { KERNEL_NAMES } from '../../www/notebook/kernel-names.js';

let notebook;
let page;
let logs;

before(async () => {
  notebook = await startNotebook();
  ({ page, logs } = await openNotebookPage(notebook.browser, notebook.base, 'notebook.html#/9.1'));
});

after(async () => {
  // The last test leaves Restart & run all going: close its page first, worker and all.
  await page?.context().close();
  await notebook?.close();
});

const kinds = () => page.$$eval('.chapter-body .nb-cell', (els) => els.map((e) => (e.classList.contains('code-cell') ? 'code' : e.classList.contains('md-cell') ? 'md' : 'soon')));
const sources = () => page.evaluate(() => window.convbook.view.codeCells.map((c) => c.source));
const active = () => page.evaluate(() => ({ cell: document.activeElement.closest('.nb-cell')?.id || document.activeElement.closest('.nb-cell')?.className, self: document.activeElement.classList.contains('nb-cell'), editor: !!document.activeElement.closest('.cm-content') }));
const press = async (...keys) => {
  for (const k of keys) await page.keyboard.press(k);
};

describe('notebook editing', () => {
  test('command mode: Esc, A/B, DD, M/Y, arrows and J/K, Enter', async () => {
    const before = await kinds();
    const codeBefore = (await sources()).length;
    await page.click('#cell-2 .cm-content');
    await press('Escape');
    assert.deepEqual(await active(), { cell: 'cell-2', self: true, editor: false });
    assert.equal(await page.locator('#cell-2.selected').count(), 1);
    // B adds a code cell below and selects it; A adds one above that.
    await press('b');
    assert.equal((await sources()).length, codeBefore + 1);
    assert.deepEqual(await active(), { cell: 'cell-3', self: true, editor: false });
    await press('a');
    assert.equal((await sources()).length, codeBefore + 2);
    assert.deepEqual(await active(), { cell: 'cell-3', self: true, editor: false });
    // Enter edits the selected cell; typing goes into it.
    await press('Enter');
    assert.equal((await active()).editor, true);
    await page.keyboard.insertText('const fromA = 1;');
    assert.equal((await sources())[2], 'const fromA = 1;');
    // K/ArrowUp and J/ArrowDown move the selection.
    // (A first Escape may only close the completion list, as in any editor.)
    await press('Escape', 'Escape', 'k');
    assert.equal((await active()).cell, 'cell-2');
    await press('j', 'ArrowDown');
    assert.equal((await active()).cell, 'cell-4');
    await press('ArrowUp');
    assert.equal((await active()).cell, 'cell-3');
    // M makes it a text cell, Y a code cell again (the text is kept).
    await press('m');
    assert.equal((await sources()).length, codeBefore + 1);
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('md-cell')), true);
    await press('y');
    assert.equal((await sources()).length, codeBefore + 2);
    assert.equal((await sources())[2], 'const fromA = 1;');
    // D D deletes (a single D does not).
    await press('d');
    assert.equal((await sources()).length, codeBefore + 2);
    await press('d');
    assert.equal((await sources()).length, codeBefore + 1);
    // The selection moved on to the cell after, the other one B added.
    await press('d', 'd');
    assert.equal((await sources()).length, codeBefore);
    assert.deepEqual(await kinds(), before);
  });

  test('the cell toolbar moves, duplicates, adds and deletes cells', async () => {
    const original = await sources();
    await page.hover('#cell-2');
    await page.click('#cell-2 [data-cell-action="duplicate"]');
    assert.deepEqual(await sources(), [original[0], original[1], original[1], ...original.slice(2)]);
    await page.click('#cell-3 [data-cell-action="add-code"]');
    await setCode(page, '#cell-4', '// moved');
    await page.click('#cell-4 [data-cell-action="up"]');
    assert.equal((await sources())[2], '// moved');
    await page.hover('#cell-3');
    await page.click('#cell-3 [data-cell-action="down"]');
    assert.equal((await sources())[3], '// moved');
    await page.click('#cell-4 [data-cell-action="delete"]');
    await page.hover('#cell-3');
    await page.click('#cell-3 [data-cell-action="delete"]');
    assert.deepEqual(await sources(), original);
  });

  test('prose cells are edited in place and the reshaped notebook survives a reload', async () => {
    const prose = page.locator('.md-cell').first();
    await prose.dblclick();
    await page.keyboard.press('ControlOrMeta+End');
    await page.keyboard.insertText('\n\nA **note** of mine.');
    await page.keyboard.press('Shift+Enter');
    assert.equal(await prose.locator('.md-rendered strong').last().textContent(), 'note');
    await page.click('#cell-1 [data-cell-action="add-text"]');
    await page.keyboard.insertText('## My own heading');
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('.md-cell h2:has-text("My own heading")').count(), 1);
    const shape = await kinds();
    const code = await sources();
    await page.waitForSelector('.save-state:has-text("edits saved")');
    await page.waitForTimeout(400);
    await page.reload();
    await kernelIdle(page);
    assert.deepEqual(await kinds(), shape);
    assert.deepEqual(await sources(), code);
    assert.match(await prose.innerText(), /A note of mine\./);
    assert.equal(await page.locator('.md-cell h2:has-text("My own heading")').count(), 1);
  });

  test('Tab indents; Escape then Tab leaves the editor; completion offers the kernel\'s names', async () => {
    await setCode(page, '.scratch-cell', 'if (true) {\nx');
    await page.keyboard.press('Home');
    await page.keyboard.press('Tab');
    assert.match(await page.evaluate(() => document.querySelector('.scratch-cell').id && window.convbook.view.codeCells.at(-1).source), /\n\s+x$/);
    assert.equal((await active()).editor, true);
    await press('Escape', 'Tab');
    assert.equal((await active()).editor, false);
    assert.notEqual(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), 'none');
    await setCode(page, '.scratch-cell', 'const myModel = 1;\nlayers.Con');
    await page.keyboard.press('Control+Space');
    await page.waitForSelector('.cm-tooltip-autocomplete');
    // The label, without the signature shown beside it (notebook-backend.test.mjs checks that).
    const offered = await page.$$eval('.cm-tooltip-autocomplete li .cm-completionLabel', (els) => els.map((e) => e.textContent));
    assert.ok(offered.includes('Conv2D') && offered.includes('Conv2DTranspose'), offered.join(','));
    await page.keyboard.press('Escape');
    await page.keyboard.insertText('\nmyM');
    await page.keyboard.press('Control+Space');
    await page.waitForSelector('.cm-tooltip-autocomplete li:has-text("myModel")');
    await page.keyboard.press('Escape');
    // The listed names are the kernel's own.
    await setCode(page, '.scratch-cell', 'JSON.stringify(Object.fromEntries(Object.entries({ keras, layers, datasets, display, kernel, files }).map(([k, v]) => [k, Object.keys(v).sort()])))');
    await page.keyboard.press('Control+Enter');
    assert.equal(await waitDone(page, '.scratch-cell'), 'done');
    const text = await page.innerText('.scratch-cell .out-value');
    assert.deepEqual(JSON.parse(JSON.parse(text)), KERNEL_NAMES.members);
  });

  test('Shift+Enter on the last cell adds one; Clear outputs, Run above, Restart & run all', async () => {
    const count = (await sources()).length;
    await setCode(page, '.scratch-cell', 'const last = 7; last');
    await page.keyboard.press('Shift+Enter');
    assert.equal(await waitDone(page, '.scratch-cell'), 'done');
    assert.equal((await sources()).length, count + 1);
    assert.equal((await active()).cell, `cell-${count + 1}`);
    await page.keyboard.insertText('last * 6');
    await page.keyboard.press('Control+Enter');
    assert.equal(await waitDone(page, `#cell-${count + 1}`), 'done');
    assert.match(await page.innerText(`#cell-${count + 1} .cell-outputs`), /42/);
    await page.click('[data-action="clear-outputs"]');
    assert.equal(await page.locator('.cell-outputs > *').count(), 0);
    assert.deepEqual([...new Set(await page.$$eval('.code-cell .cell-count', (els) => els.map((e) => e.textContent)))], ['[ ]']);
    // Run above queues the cells above the selected one, not it; a restart sends them back to [ ].
    await page.click('#cell-3 .cm-content');
    await page.keyboard.press('Escape');
    await page.click('[data-action="run-above"]');
    let states = await page.$$eval('.code-cell', (els) => els.map((e) => e.dataset.state));
    // (the parameters cell may be done already)
    assert.ok(states.slice(0, 2).every((st) => ['running', 'queued', 'done'].includes(st)) && states[1] !== 'done', states.join());
    assert.equal(states[2], 'idle');
    await page.click('[data-action="restart"]');
    await page.waitForFunction(() => !window.convbook.scheduler.busy);
    assert.deepEqual(await page.$$eval('.code-cell', (els) => els.slice(1).map((e) => e.querySelector('.cell-count').textContent)), Array(count).fill('[ ]'));
    // Restart & run all queues every cell with code.
    await page.click('[data-action="restart-run-all"]');
    await page.waitForFunction(() => window.convbook.scheduler.busy);
    states = await page.$$eval('.code-cell', (els) => els.map((e) => e.dataset.state));
    assert.ok(states.slice(0, count + 1).every((st) => st !== 'idle') && states.slice(2, count + 1).every((st) => st === 'queued'), states.join());
    // (left running: the browser closes with the file)
    await page.locator('.chapter-body').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(RESULTS_DIR, 'notebook-editing.png') });
    assert.deepEqual(fatalLogs(logs), []);
  });
});
