// The <convbook-cell> web component: the example page (two cells in prose, sharing a
// kernel), and a page on another origin that embeds a cell with nothing but one script
// tag pointing at the build's embed/convbook-cell.js.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { preview } from 'vite';
import { fatalLogs, launchBrowser, requirePkg, RESULTS_DIR, ROOT } from './helpers.mjs';

let server;
let browser;
let base;

before(async () => {
  requirePkg();
  if (!existsSync(join(ROOT, 'www/dist/embed/convbook-cell.js'))) {
    throw new Error('www/dist is missing: run `npx vite build` first (cargo xtask test does)');
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  server = await preview({ configFile: join(ROOT, 'vite.config.mjs'), preview: { port: 0 }, logLevel: 'warn' });
  base = server.resolvedUrls.local[0];
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function open(url) {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(url);
  return { page, logs };
}

const inCell = (n, selector) => `convbook-cell:nth-of-type(${n}) >> ${selector}`;

describe('embedded cells', () => {
  test('the example page runs two cells in prose, the second using the first one\'s variables', async () => {
    const { page, logs } = await open(`${base}embed/example.html`);
    assert.equal(await page.locator('convbook-cell').count(), 2);
    await page.click('convbook-cell >> nth=0 >> .cell-run');
    await page.waitForSelector('convbook-cell >> nth=0 >> .code-cell[data-state="done"]', { timeout: 60_000 });
    const first = await page.locator('convbook-cell >> nth=0 >> .cell-outputs').innerText();
    assert.match(first, /row sums: 1\.000, 1\.000, 1\.000/);
    assert.match(first, /Tensor float32 \[3, 4\]/);
    // Shift+Enter inside the second cell's editor.
    await page.click('convbook-cell >> nth=1 >> .cm-content');
    await page.keyboard.press('Shift+Enter');
    await page.waitForSelector('convbook-cell >> nth=1 >> .code-cell[data-state="done"]', { timeout: 60_000 });
    assert.match(await page.locator('convbook-cell >> nth=1 >> .cell-outputs').innerText(), /predicted classes: \[0, 0, 1\]/);
    assert.equal(await page.locator('convbook-cell >> nth=1 >> canvas.out-image').count(), 1);
    // On SwiftShader the kernel's "auto" measured the software adapter and took the CPU.
    assert.match(await page.locator('convbook-cell >> nth=0 >> .embed-backend').innerText(), /^CPU \(SwiftShader WebGPU was (over )?[\d.]+× slower in a probe\)/);
    await page.screenshot({ path: join(RESULTS_DIR, 'embed-example.png'), fullPage: true });
    assert.deepEqual(fatalLogs(logs), []);
    await page.close();
  });

  test('one script tag embeds a cell on a page from another origin', async () => {
    const script = `${base}embed/convbook-cell.js`;
    const html = `<!doctype html><meta charset="utf-8"><title>blog</title>
      <p>Somebody's blog post.</p>
      <script type="module" src="${script}"></script>
      <convbook-cell autorun>
        const v = tensor([3, 4]);
        print("norm:", (await v.square().sum().sqrt().data())[0]);
      </convbook-cell>`;
    const other = createServer((req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(html));
    await new Promise((ok) => other.listen(0, '127.0.0.1', ok));
    try {
      const origin = `http://127.0.0.1:${other.address().port}`;
      assert.notEqual(new URL(base).origin, origin);
      const { page, logs } = await open(`${origin}/`);
      await page.waitForSelector('convbook-cell >> .code-cell[data-state="done"]', { timeout: 60_000 });
      assert.match(await page.locator('convbook-cell >> .cell-outputs').innerText(), /norm: 5/);
      await page.screenshot({ path: join(RESULTS_DIR, 'embed-cross-origin.png') });
      assert.deepEqual(fatalLogs(logs), []);
      await page.close();
    } finally {
      other.close();
    }
  });

  test('attributes and styling hooks: kernels by name, read-only cells, parts and custom properties', async () => {
    const script = `${base}embed/convbook-cell.js`;
    const html = `<!doctype html><meta charset="utf-8"><title>tutorial</title>
      <style>
        convbook-cell { --convbook-accent: rgb(200, 0, 100); }
        convbook-cell::part(outputs) { background: rgb(1, 2, 3); }
      </style>
      <script type="module" src="${script}"></script>
      <convbook-cell kernel="a" autorun>const shared = "in a";</convbook-cell>
      <convbook-cell kernel="b" readonly>typeof shared</convbook-cell>
      <convbook-cell kernel="a">shared</convbook-cell>`;
    const other = createServer((req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(html));
    await new Promise((ok) => other.listen(0, '127.0.0.1', ok));
    try {
      const { page, logs } = await open(`http://127.0.0.1:${other.address().port}/`);
      const cell = (n) => `convbook-cell >> nth=${n}`;
      await page.waitForSelector(`${cell(0)} >> .code-cell[data-state="done"]`, { timeout: 60_000 });
      // A read-only cell runs but does not take typing.
      await page.click(`${cell(1)} >> .cm-content`);
      await page.keyboard.insertText('1 + ');
      assert.equal(await page.locator(`${cell(1)} >> .cm-content`).innerText(), 'typeof shared');
      await page.click(`${cell(1)} >> .cell-run`);
      await page.waitForSelector(`${cell(1)} >> .code-cell[data-state="done"]`, { timeout: 60_000 });
      // Its kernel "b" is not kernel "a".
      assert.match(await page.locator(`${cell(1)} >> .cell-outputs`).innerText(), /"undefined"/);
      await page.click(`${cell(2)} >> .cell-run`);
      await page.waitForSelector(`${cell(2)} >> .code-cell[data-state="done"]`, { timeout: 60_000 });
      assert.match(await page.locator(`${cell(2)} >> .cell-outputs`).innerText(), /"in a"/);
      assert.equal(await page.locator(`${cell(2)} >> .cell-outputs`).evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(1, 2, 3)');
      assert.equal(await page.locator(`${cell(2)} >> .cell-run`).evaluate((el) => getComputedStyle(el).color), 'rgb(200, 0, 100)');
      assert.deepEqual(fatalLogs(logs), []);
      await page.close();
    } finally {
      other.close();
    }
  });
});
