// www/index.html in headless chromium: the backend badge shows WebGPU, the demo
// computation finishes and matches the CPU reference; a screenshot is kept under
// test-results/ for a human to look at.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RESULTS_DIR, ROOT, fatalLogs, launchBrowser, openPage, requirePkg, startServer } from './helpers.mjs';

describe('start page (www/index.html)', { timeout: 300_000 }, () => {
  let server;
  let browser;
  let page;
  let logs;
  let demo;

  before(async () => {
    requirePkg();
    server = await startServer();
    browser = await launchBrowser();
    ({ page, logs } = await openPage(browser, server.url, '/'));
    try {
      await page.waitForFunction(() => window.demoResult?.done === true, null, { timeout: 240_000, polling: 200 });
    } catch (e) {
      const status = await page.textContent('#demo-status').catch(() => '?');
      throw new Error(`the demo did not finish (${e.message}); status: "${status}"; console: ${logs.slice(-5).join(' | ')}`);
    }
    demo = await page.evaluate(() => window.demoResult);
    await mkdir(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: join(RESULTS_DIR, 'index.png'), fullPage: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('the demo finished without an error', () => {
    assert.equal(demo.error, undefined, `the page reported: ${demo.error}`);
  });

  test('runs on WebGPU and says so', async () => {
    assert.equal(demo.backend.kind, 'webgpu', `backend: ${JSON.stringify(demo.backend)}`);
    assert.equal(await page.textContent('#backend'), 'WebGPU');
    assert.match(await page.textContent('#backend-kind'), /^WebGPU/);
    assert.equal(await page.isHidden('#fallback'), true);
  });

  test('shows the adapter the browser reports', async () => {
    const adapter = await page.textContent('#adapter');
    assert.ok(demo.adapterInfo, 'navigator.gpu.requestAdapter() gave no info');
    assert.notEqual(adapter, 'not reported by the browser');
    // SwiftShader in CI; the page shows whatever the browser reports.
    for (const v of [demo.adapterInfo.vendor, demo.adapterInfo.architecture].filter(Boolean)) {
      assert.ok(adapter.includes(v), `adapter text "${adapter}" lacks "${v}"`);
    }
  });

  test('the 256x256 matmul + softmax matches the CPU reference', async () => {
    assert.equal(demo.n, 256);
    assert.ok(demo.ok, `demo: ${JSON.stringify(demo)}`);
    assert.ok(demo.maxAbsDiff <= 1e-4, `max abs diff ${demo.maxAbsDiff}`);
    assert.ok(demo.rowSumError <= 1e-4, `row sums off by ${demo.rowSumError}`);
    assert.ok(demo.gpuMs > 0 && demo.cpuMs > 0);
    assert.equal(await page.getAttribute('#demo-status', 'data-state'), 'pass');
    assert.match(await page.textContent('#demo-maxdiff'), /e-|^0/);
    assert.match(await page.textContent('#demo-gpu-ms'), /ms$/);
  });

  test('links to the notebook when it is built', async () => {
    const built = existsSync(join(ROOT, 'www/dist/notebook.html'));
    await page.waitForSelector('#open-notebook', { state: built ? 'visible' : 'hidden', timeout: 10_000 });
    if (built) assert.equal(await page.getAttribute('#open-notebook a', 'href'), './dist/notebook.html');
  });

  test('no wasm panic or uncaught error in the page', () => {
    assert.deepEqual(fatalLogs(logs), []);
  });
});
