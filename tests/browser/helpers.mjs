// Shared by the browser tests: a static server for www/ on a free port, headless
// chromium on SwiftShader WebGPU, and a page wrapper that records console output.
//
// Run through `cargo xtask test` (which builds www/pkg first), or `npm test` after
// `cargo xtask build`.

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const WWW = join(ROOT, 'www');
export const RESULTS_DIR = join(ROOT, 'test-results');

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
  if (!existsSync(join(WWW, 'pkg', 'convbook.js'))) {
    throw new Error('www/pkg/convbook.js is missing: run `cargo xtask test` (or `cargo xtask build`) first');
  }
}

/** Serve www/ on 127.0.0.1 at a free port. Resolves to { url, close }. */
export async function startServer() {
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      let file = normalize(join(WWW, path));
      if (file !== WWW && !file.startsWith(WWW + sep)) {
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
