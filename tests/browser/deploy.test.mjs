// The deployable folder (www/dist, from `cargo xtask build`) on a plain static host that
// serves the precompressed copies: hashed wasm with the wasm MIME type, brotli or gzip
// on the wire, and the figures a reader pays on a first visit: bytes over the wire,
// requests, and time from navigation to the first cell's result (written to
// test-results/deploy-figures.json).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fatalLogs, launchBrowser, RESULTS_DIR, ROOT, setCode, waitDone } from './helpers.mjs';

const DIST = join(ROOT, 'www', 'dist');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.md': 'text/markdown' };

let server;
let browser;
let base;

/** What any static host with precompressed files does (nginx brotli_static/gzip_static). */
function staticHost(root) {
  return createServer((req, res) => {
    let file = normalize(join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    if (!file.startsWith(root + sep) && file !== root) return res.writeHead(400).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) return res.writeHead(404).end();
    const accepts = req.headers['accept-encoding'] ?? '';
    const headers = { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', Vary: 'Accept-Encoding' };
    headers['Cache-Control'] = /\/assets\/|\.[0-9a-f]{12}\.wasm$/.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache';
    let body = file;
    for (const [enc, ext] of [['br', '.br'], ['gzip', '.gz']]) {
      if (accepts.includes(enc) && existsSync(file + ext)) {
        body = file + ext;
        headers['Content-Encoding'] = enc;
        break;
      }
    }
    res.writeHead(200, headers).end(readFileSync(body));
  });
}

before(async () => {
  if (!existsSync(join(DIST, 'notebook.html'))) throw new Error('www/dist is missing: run `cargo xtask build` first');
  server = staticHost(DIST);
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.close();
});

describe('deployable build', () => {
  test('the folder has a hashed wasm and precompressed copies', () => {
    const pkg = readdirSync(join(DIST, 'pkg'));
    const wasm = pkg.find((f) => /^convbook_bg\.[0-9a-f]{12}\.wasm$/.test(f));
    assert.ok(wasm, `no hashed wasm in ${pkg.join(', ')}`);
    assert.ok(readFileSync(join(DIST, 'pkg', 'convbook.js'), 'utf8').includes(`'${wasm}'`));
    for (const ext of ['.br', '.gz']) assert.ok(pkg.includes(wasm + ext), `${wasm}${ext} missing`);
    // The relaxed-SIMD build (see www/kernel/wasm-build.js) is hashed and compressed alike.
    const relaxed = pkg.find((f) => /^convbook_relaxed_bg\.[0-9a-f]{12}\.wasm$/.test(f));
    assert.ok(relaxed, `no hashed relaxed-SIMD wasm in ${pkg.join(', ')}`);
    assert.ok(readFileSync(join(DIST, 'pkg', 'convbook.js'), 'utf8').includes(`RELAXED_SIMD_WASM = '${relaxed}'`));
    for (const ext of ['.br', '.gz']) assert.ok(pkg.includes(relaxed + ext), `${relaxed}${ext} missing`);
    assert.ok(readdirSync(join(DIST, 'assets')).some((f) => /^notebook-[\w-]{8}\.js\.br$/.test(f)));
  });

  test('first visit: bytes over the wire, requests, time to the first cell result', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    const logs = [];
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    const responses = [];
    page.on('requestfinished', async (request) => {
      const response = await request.response();
      const sizes = await request.sizes();
      responses.push({ url: request.url().replace(base, '/'), bytes: sizes.responseBodySize + sizes.responseHeadersSize, type: response?.headers()['content-type'], encoding: response?.headers()['content-encoding'] ?? null });
    });
    const start = Date.now();
    await page.goto(`${base}notebook.html#/9.1`);
    await page.waitForSelector('.scratch-cell .cm-content');
    await setCode(page, '.scratch-cell', '6 * 7');
    await page.keyboard.press('Control+Enter');
    assert.equal(await waitDone(page, '.scratch-cell'), 'done');
    const firstResultMs = Date.now() - start;
    assert.match(await page.innerText('.scratch-cell .out-value'), /^42$/);
    await page.waitForTimeout(300);
    const wasm = responses.find((r) => r.url.endsWith('.wasm'));
    assert.ok(wasm, 'the wasm was not fetched');
    assert.equal(wasm.type, 'application/wasm');
    assert.ok(wasm.encoding === 'br' || wasm.encoding === 'gzip', `wasm sent ${wasm.encoding ?? 'uncompressed'}`);
    const total = responses.reduce((sum, r) => sum + r.bytes, 0);
    const figures = { requests: responses.length, bytesOverWire: total, wasmBytesOverWire: wasm.bytes, wasmEncoding: wasm.encoding, firstResultMs, files: responses };
    writeFileSync(join(RESULTS_DIR, 'deploy-figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
    console.log(`first visit: ${responses.length} requests, ${(total / 1e6).toFixed(2)} MB over the wire (wasm ${(wasm.bytes / 1e6).toFixed(2)} MB, ${wasm.encoding}), first cell result after ${firstResultMs} ms`);
    assert.ok(total < 1.6e6, `${total} bytes on a first visit`);
    assert.deepEqual(fatalLogs(logs), []);
    await context.close();
  });
});
