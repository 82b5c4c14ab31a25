// The Keras-shaped API (www/kernel/keras.js) trains the chapter 8.1 convnet on real
// digits in headless chromium on WebGPU: summary totals, falling loss, evaluate, predict.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openPage, requirePkg, startServer } from './helpers.mjs';

describe('Keras API training in the browser (www/tests/keras.html)', { timeout: 900_000 }, () => {
  let server;
  let browser;
  let r;

  before(async () => {
    requirePkg();
    server = await startServer();
    browser = await launchBrowser();
    const opened = await openPage(browser, server.url, '/tests/keras.html');
    await opened.page.waitForFunction(() => window.kerasResults?.done === true, null, { timeout: 840_000, polling: 500 });
    r = await opened.page.evaluate(() => window.kerasResults);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('trains without errors on WebGPU', () => {
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.backend, 'webgpu');
    assert.equal(r.total, 104202);
    assert.equal(r.batches, 18);
  });

  test('the loss falls and accuracy rises', () => {
    const { loss, accuracy } = r.history;
    assert.equal(loss.length, 3);
    assert.ok(loss[2] < loss[0], `loss did not fall: ${loss}`);
    assert.ok(accuracy[2] > accuracy[0], `accuracy did not rise: ${accuracy}`);
    assert.ok(r.evaluation.loss < loss[0], `evaluate: ${JSON.stringify(r.evaluation)}`);
    assert.deepEqual(r.predictShape, [4, 10]);
  });
});
