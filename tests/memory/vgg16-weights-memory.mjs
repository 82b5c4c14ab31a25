// Peak memory of `keras.applications.VGG16({weights: "imagenet"})` in headless chromium:
// the first load (download into Cache Storage) and, after a reload, the load from the
// cache. Not a test (it needs a 553 MB file made by make_vgg16_weights.py); run it by
// hand and keep the figures it prints:
//
//   KERAS_BACKEND=jax python tests/memory/make_vgg16_weights.py
//   cargo xtask build
//   node tests/memory/vgg16-weights-memory.mjs [--dist www/dist] [--backend cpu|webgpu]
//
// What is measured, and why:
// - wasm linear memory (`memory.buffer.byteLength`, read from the engine's own module):
//   it only grows, so its size after the load is the high-water mark of everything the
//   engine allocated (the file, copies of it, the weights' tensors);
// - chromium's processes, sampled every 50 ms from /proc: anonymous resident memory
//   (RssAnon: heaps, the wasm memory once touched, JS buffers; not the files mapped or
//   cached by the kernel), summed over the renderer (page and kernel worker), the
//   browser process (network, Cache Storage, Blobs) and the rest, minus their sum before
//   the load. The peak of that sum is what the machine had to hold at once, JS copies
//   included, which wasm memory alone does not show.
// The model's own size is 138,357,544 float32 weights: 553.4 MB (527.8 MiB, Keras's
// "528 MB"). Figures are printed in MiB and as multiples of it.
//
// Figures (CPU engine, chromium headless, 2-core machine; first load / from the cache):
//   whole file in memory (before):  wasm +1591 MiB (3.01x); chromium +2183 / +2114 MiB (4.14x / 4.00x)
//   read by ranges (now):           wasm  +535 MiB (1.01x); chromium  +771 to +899 MiB (1.46x to 1.70x)
// The rest of chromium's figure beyond the wasm memory is the renderer's: the range reads'
// ArrayBuffers until V8 collects them (it varies from run to run with the collector's
// timing), and the download's chunks in flight.

import { createServer } from 'node:http';
import { createReadStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS, ROOT, runCode, waitDone } from '../browser/helpers.mjs';
import { chromium } from 'playwright-core';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const DIST = resolve(arg('dist', join(ROOT, 'www/dist')));
const WEIGHTS = resolve(arg('weights', join(ROOT, 'target/vgg16_weights_tf_dim_ordering_tf_kernels.h5')));
const BACKEND = arg('backend', 'cpu');
const FILE = 'vgg16_weights_tf_dim_ordering_tf_kernels.h5';
const MODEL_BYTES = 138_357_544 * 4;
const MIB = 1 << 20;

for (const [what, path] of [['notebook build', join(DIST, 'notebook.html')], ['weights file', WEIGHTS]]) {
  if (!existsSync(path)) throw new Error(`${what} missing: ${path} (see the comment at the top of this script)`);
}
const reference = JSON.parse(readFileSync(`${WEIGHTS}.json`, 'utf8'));

const MIME = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.md': 'text/markdown' };

// The notebook build, and the weights under a Keras-like mirror path, streamed from disk.
const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (path === `/keras-mirror/vgg16/${FILE}`) {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': statSync(WEIGHTS).size });
    createReadStream(WEIGHTS).pipe(res);
    return;
  }
  let file = normalize(join(DIST, path));
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
  if (!file.startsWith(DIST + sep) || !existsSync(file)) return res.writeHead(404).end('not found');
  res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
  createReadStream(file).pipe(res);
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const base = `http://127.0.0.1:${server.address().port}/`;

// chromium's processes: the descendants of the browser process that this node started.
const ppidOf = (pid) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
function ourProcesses() {
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  const parent = new Map();
  for (const pid of all) {
    try {
      parent.set(pid, ppidOf(pid));
    } catch {}
  }
  const mine = new Set([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parent) if (!mine.has(pid) && mine.has(ppid)) (mine.add(pid), (grew = true));
  }
  mine.delete(process.pid);
  return [...mine];
}
function kindOf(pid) {
  const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  return /--type=renderer/.test(cmd) ? 'renderer' : /--type=gpu-process/.test(cmd) ? 'gpu' : /--type=/.test(cmd) ? 'other' : 'browser';
}
function anonBytes() {
  const by = { renderer: 0, browser: 0, gpu: 0, other: 0 };
  for (const pid of ourProcesses()) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0);
      by[kindOf(pid)] += kb * 1024;
    } catch {}
  }
  return { ...by, total: by.renderer + by.browser + by.gpu + by.other };
}

/** Samples anonBytes while `run` runs; resolves to {result, baseline, peak}. */
async function sampled(run) {
  const baseline = anonBytes();
  let peak = baseline;
  const timer = setInterval(() => {
    const now = anonBytes();
    if (now.total > peak.total) peak = now;
  }, 50);
  try {
    return { result: await run(), baseline, peak };
  } finally {
    clearInterval(timer);
  }
}

// A persistent profile, as a reader's browser has: Cache Storage on disk (a private
// context keeps it in memory, with a quota a 553 MB file exceeds).
const profile = mkdtempSync(join(tmpdir(), 'convbook-memory-'));
const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
const page = context.pages()[0] ?? (await context.newPage());
page.on('pageerror', (e) => console.log(`pageerror: ${e.message}`));
await page.goto(`${base}notebook.html?backend=${BACKEND}#/hocv-4.2`);
const idle = () => page.waitForFunction(() => window.convbook?.kernel?.state === 'idle', null, { timeout: 120_000 });
await idle();

async function runCell(code, timeout = 900_000) {
  await runCode(page, '.scratch-cell', code);
  const state = await waitDone(page, '.scratch-cell', timeout);
  if (state !== 'done') throw new Error(`the cell failed: ${await page.innerText('.scratch-cell .cell-outputs')}`);
  return JSON.parse(JSON.parse(await page.innerText('.scratch-cell .out-value')));
}

// The engine's own wasm memory: importing the kernel's package URL again gives the same
// module instance, whose init returns the instance's exports (memory among them).
const LOAD = `const pkg = await import(new URL("pkg/convbook.js", ${JSON.stringify(base)}).href);
if (pkg.Engine !== engine.constructor) throw new Error("not the kernel's engine module");
const memory = (await pkg.default()).memory;
keras.applications.baseUrl = ${JSON.stringify(`${base}keras-mirror/`)};
const before = memory.buffer.byteLength;
const t0 = performance.now();
const vgg = await keras.applications.VGG16({ weights: "imagenet" });
const seconds = (performance.now() - t0) / 1000;
const after = memory.buffer.byteLength;
JSON.stringify({ before, after, seconds, backend: kernel.backend.kind })`;

// Then what it predicts, against Keras (outside the sampled window: activations are not loading).
const PREDICT = `const n = 224 * 224 * 3;
const x = tensor(Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 255) - 127.5), [1, 224, 224, 3]);
const y = Array.from(await (await vgg.predict(x)).data());
const want = ${JSON.stringify(reference.y)};
const worst = Math.max(...want.map((w, i) => Math.abs(y[i] - w) / Math.max(Math.abs(w), 1e-6)));
const argmax = y.indexOf(Math.max(...y));
JSON.stringify({ worst, argmax })`;

const mib = (b) => (b / MIB).toFixed(0);
const times = (b) => (b / MODEL_BYTES).toFixed(2);
async function measure(what) {
  const { result, baseline, peak } = await sampled(() => runCell(LOAD));
  Object.assign(result, await runCell(PREDICT));
  const wasm = result.after - result.before;
  console.log(`\n${what} (${result.backend}, ${result.seconds.toFixed(1)} s; prediction vs Keras: worst relative error ${result.worst.toExponential(1)}, argmax ${result.argmax} vs ${reference.argmax})`);
  console.log(`  wasm memory: ${mib(result.before)} -> ${mib(result.after)} MiB: grew ${mib(wasm)} MiB = ${times(wasm)}x the weights`);
  const delta = peak.total - baseline.total;
  console.log(`  chromium anonymous memory at its peak: +${mib(delta)} MiB = ${times(delta)}x the weights ` +
    `(renderer +${mib(peak.renderer - baseline.renderer)}, browser +${mib(peak.browser - baseline.browser)}, gpu +${mib(peak.gpu - baseline.gpu)}, other +${mib(peak.other - baseline.other)} MiB)`);
  return { wasmGrowth: wasm, peakGrowth: delta };
}

try {
  const first = await measure('first load: download into Cache Storage, then load');
  await page.reload();
  await idle();
  const again = await measure('after a reload: load from Cache Storage');
  console.log(`\nmodel weights: ${mib(MODEL_BYTES)} MiB; file: ${mib(statSync(WEIGHTS).size)} MiB`);
  console.log(JSON.stringify({ first, again }));
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
