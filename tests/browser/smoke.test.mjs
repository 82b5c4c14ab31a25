// www/tests/smoke.html in headless chromium: every op on WebGPU vs the CPU engine,
// errors as exceptions, no buffer-pool growth, no wasm panic.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fatalLogs, launchBrowser, openPage, requirePkg, startServer } from './helpers.mjs';

describe('smoke page (www/tests/smoke.html)', { timeout: 600_000 }, () => {
  let server;
  let browser;
  let logs = [];
  let r;

  before(async () => {
    requirePkg();
    server = await startServer();
    browser = await launchBrowser();
    const opened = await openPage(browser, server.url, '/tests/smoke.html');
    logs = opened.logs;
    // SwiftShader runs WebGPU on the CPU: allow minutes on a small machine.
    try {
      await opened.page.waitForFunction(() => window.smokeResults?.done === true, null, { timeout: 540_000, polling: 250 });
    } catch (e) {
      // Say where it got stuck rather than only that it timed out.
      const partial = await opened.page.evaluate(() => window.smokeResults).catch(() => null);
      const last = partial?.cases?.at(-1)?.name ?? 'before the first case';
      throw new Error(`the smoke page did not finish (${e.message}); last case: ${last}; ` +
        `console: ${logs.slice(-5).join(' | ')}`);
    }
    r = await opened.page.evaluate(() => window.smokeResults);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('runs to the end', () => {
    assert.equal(r.fatal, null, `the page stopped early: ${r.fatal}`);
  });

  test('uses the WebGPU adapter (not the CPU fallback)', () => {
    assert.equal(r.backend?.kind, 'webgpu', `backend: ${JSON.stringify(r.backend)}`);
    assert.equal(r.cpuBackend?.kind, 'cpu');
  });

  test('every op case matches the CPU reference', () => {
    assert.ok(r.cases.length >= 100, `only ${r.cases.length} cases ran`);
    const failed = r.cases.filter((c) => !c.ok).map((c) => `  ${c.name}: ${c.detail}`);
    if (failed.length) assert.fail(`${failed.length} of ${r.cases.length} cases failed (seed ${r.seed}):\n${failed.join('\n')}`);
  });

  test('errors are exceptions whose messages name the problem', () => {
    assert.ok(r.errors.length >= 20, `only ${r.errors.length} error cases ran`);
    const failed = r.errors.filter((c) => !c.ok).map((c) => `  ${c.name} (${c.engine}): ${c.detail}; message: ${c.message}`);
    if (failed.length) assert.fail(`${failed.length} of ${r.errors.length} error cases failed:\n${failed.join('\n')}`);
    const mismatch = r.errors.find((c) => c.name === 'matmul shape mismatch' && c.engine === 'webgpu');
    assert.match(mismatch.message, /\(2, 3\).*\(4, 5\)/);
  });

  test('the engine keeps working after errors', () => {
    assert.ok(r.afterErrors?.ok, `after errors: ${r.afterErrors?.detail}`);
  });

  test('the buffer pool does not grow over 200 op chains', () => {
    const leak = r.leak;
    assert.ok(leak, 'leak check did not run');
    assert.ok(leak.ok, `${leak.detail}: warm ${JSON.stringify(leak.warm)}, end ${JSON.stringify(leak.end)}, series ${leak.series}`);
    assert.equal(leak.end.live_buffers, leak.warm.live_buffers);
    assert.equal(leak.end.created_buffers, leak.warm.created_buffers);
  });

  test('no wasm panic or uncaught error in the page', () => {
    assert.deepEqual(fatalLogs(logs), []);
  });
});
