// Shared by the browser tests: a static server for www/ on a free port, headless
// chromium on SwiftShader WebGPU, and a page wrapper that records console output.
//
// Run through `cargo xtask test` (which builds www/pkg, and the package the tests load,
// with the test-only hooks, in target/test-pkg), or `npm test` after `cargo xtask build`
// (then the tests load www/pkg, and those of the kernel's recovery paths fail: no hooks).

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { preview } from 'vite';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const WWW = join(ROOT, 'www');
const FIXTURES = join(ROOT, 'tests', 'fixtures');
export const RESULTS_DIR = join(ROOT, 'test-results');

/**
 * The wasm package the pages load: CONVBOOK_TEST_PKG (set by `cargo xtask test`: a build
 * with the `test-hooks` feature, kept out of www/ so it is never served or deployed),
 * else www/pkg. Served at /pkg/ by both servers here (vite.config.mjs reads the variable).
 */
export const PKG = process.env.CONVBOOK_TEST_PKG ? resolve(process.env.CONVBOOK_TEST_PKG) : join(WWW, 'pkg');

/** The Debian chromium; override with CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** WebGPU on SwiftShader (a CPU Vulkan implementation), so no GPU is needed. */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.txt': 'text/plain; charset=utf-8',
};

/** Fail early, with the fix, when the wasm package has not been built. */
export function requirePkg() {
  if (!existsSync(join(PKG, 'convbook.js'))) {
    throw new Error(`${join(PKG, 'convbook.js')} is missing: run \`cargo xtask test\` (or \`cargo xtask build\`) first`);
  }
}

/** Serve www/ on 127.0.0.1 at a free port. Resolves to { url, close }. */
export async function startServer() {
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      // Test pages may fetch the native tests' fixtures (model files) under /test-fixtures/.
      const [root, rest] = path.startsWith('/test-fixtures/')
        ? [FIXTURES, path.slice('/test-fixtures'.length)]
        : path.startsWith('/pkg/')
          ? [PKG, path.slice('/pkg'.length)]
          : [WWW, path];
      let file = normalize(join(root, rest));
      if (file !== root && !file.startsWith(root + sep)) {
        res.writeHead(400).end('bad path');
        return;
      }
      if ((await stat(file).catch(() => null))?.isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      res.writeHead(200, {
        'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
        'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${req.url}`);
    }
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((ok) => server.close(ok)),
  };
}

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`chromium not found at ${CHROMIUM}: run \`cargo xtask test\`, which installs it`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Open `path` on a fresh page. `logs` collects console messages and uncaught errors
 * (as "type: text") so tests can assert that nothing panicked.
 */
export async function openPage(browser, baseUrl, path) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  page.on('crash', () => logs.push('crash: the page crashed'));
  const response = await page.goto(baseUrl + path);
  if (!response?.ok()) throw new Error(`GET ${path}: HTTP ${response?.status()}`);
  return { page, logs };
}

/** Lines that mean the wasm side panicked or the page threw. */
export function fatalLogs(logs) {
  return logs.filter((l) => /panicked|RuntimeError|unreachable|pageerror|crash:/i.test(l));
}

/**
 * Vite's preview server over the notebook build (www/dist, serving www/pkg and
 * www/data from the sources) and a headless chromium. Resolves to {base, browser, close}.
 */
export async function startNotebook() {
  requirePkg();
  if (!existsSync(join(ROOT, 'www/dist/notebook.html'))) {
    throw new Error('www/dist is missing: run `cargo xtask build` first (cargo xtask test does)');
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  const server = await preview({ configFile: join(ROOT, 'vite.config.mjs'), preview: { port: 0 }, logLevel: 'warn' });
  const browser = await launchBrowser();
  return {
    base: server.resolvedUrls.local[0],
    browser,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}

/**
 * A page (in `context`, or a new one of `viewport`) at `base + path`, its kernel idle
 * unless `idle` is false. `logs` collects console messages and page errors for fatalLogs.
 */
export async function openNotebookPage(browser, base, path, { viewport = { width: 1366, height: 768 }, context = null, idle = true } = {}) {
  context ??= await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(base + path);
  if (idle) await kernelIdle(page);
  return { page, logs, context };
}

export const kernelIdle = (page) =>
  page.waitForFunction(() => window.convbook?.view && window.convbook.kernel?.state === 'idle', null, { timeout: 60_000 });

/** Replaces a cell's code the way a paste would (no auto-closed brackets). */
export async function setCode(page, selector, code) {
  await page.click(`${selector} .cm-content`);
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.insertText(code);
}

/**
 * Puts `code` in the cell and runs it with Ctrl+Enter; resolves once this run has begun,
 * that is once the execution count moves on ("[*]" while queued or running, then the
 * new number): a quick cell may be done before "running" is ever seen.
 */
export async function runCode(page, selector, code) {
  const count = await page.textContent(`${selector} .cell-count`);
  await setCode(page, selector, code);
  await page.keyboard.press('Control+Enter');
  await page.waitForFunction(([sel, c]) => document.querySelector(`${sel} .cell-count`)?.textContent !== c, [selector, count]);
}

/** Waits for the cell to finish; resolves to its state, 'done' or 'error'. */
export async function waitDone(page, selector, timeout = 60_000) {
  await page.waitForSelector(`${selector}:is([data-state="done"], [data-state="error"])`, { timeout });
  return page.getAttribute(selector, 'data-state');
}
