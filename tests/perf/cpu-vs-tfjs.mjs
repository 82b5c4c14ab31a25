// Side by side in headless chromium: convbook's CPU engine against TF.js's wasm backend
// (XNNPACK) on the chapter 8.1 MNIST convnet, with the same weights and input. Times
// predict (batch 64, ending on the read of the probabilities) and one training step
// (RMSprop, sparse categorical crossentropy; TF.js's wasm backend registers no
// Conv2DBackpropFilter, so its attempt is reported, not timed). Medians after warm-up.
//
//   cargo xtask build                     # www/pkg
//   node tests/perf/cpu-vs-tfjs.mjs [--isolated] [--iterations N] [--batch N] [--wasm simd128]
//
// Without --isolated the page is not cross-origin isolated (as a plain static host
// serves it), so TF.js runs single-threaded; with it the server sends COOP/COEP and
// TF.js may pick its threaded build. Our engine is single-threaded either way.
// Our engine loads its wasm build as the notebook does (www/kernel/wasm-build.js): the
// relaxed-SIMD one where chromium has relaxed SIMD; `--wasm simd128` keeps the plain one.
// This is a measuring tool, not a test: it prints a table and exits non-zero only when
// the page fails or the two engines disagree on the predictions.

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { extname, join, normalize, resolve, sep, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PKG = process.env.CONVBOOK_TEST_PKG ? resolve(process.env.CONVBOOK_TEST_PKG) : join(ROOT, 'www/pkg');
const TFJS = join(ROOT, 'node_modules/@tensorflow');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : Number(args[i + 1]);
};
const ISOLATED = args.includes('--isolated');
// --profile: sample the page with the V8 profiler and print our wasm functions by self time.
const PROFILE = args.includes('--profile');
const ITERATIONS = flag('--iterations', 25);
const BATCH = flag('--batch', 64);
const WASM = args.includes('--wasm') ? args[args.indexOf('--wasm') + 1] : 'auto';

const MIME = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

// The page: both engines build the same model; ours initializes it, TF.js takes our weights.
const PAGE = `<!doctype html><meta charset="utf-8"><title>cpu vs tfjs</title>
<script src="/tfjs/tfjs/dist/tf.min.js"></script>
<script src="/tfjs/tfjs-backend-wasm/dist/tf-backend-wasm.min.js"></script>
<script type="module">
import * as pkg from '/pkg/convbook.js';
import { initWasm } from '/kernel/wasm-build.js';
const { Engine } = pkg;

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
async function time(n, f) {
  for (let i = 0; i < 2; i++) await f();
  const ts = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    ts.push(performance.now() - t0);
  }
  return { median: median(ts), min: Math.min(...ts) };
}

async function timePairs(n, f, g) {
  for (let i = 0; i < 2; i++) await f(), await g();
  const [tf, tg, ratios] = [[], [], []];
  for (let i = 0; i < n; i++) {
    let t0 = performance.now();
    await f();
    tf.push(performance.now() - t0);
    t0 = performance.now();
    await g();
    tg.push(performance.now() - t0);
    ratios.push(tg[i] / tf[i]);
  }
  const stats = (ts) => ({ median: median(ts), min: Math.min(...ts) });
  return [stats(tf), stats(tg), median(ratios)];
}

window.bench = async (batch, iterations, wasm) => {
  const build = await initWasm(pkg, new URL('/pkg/convbook.js', location.href), wasm);
  const engine = await Engine.create('cpu');
  const L = (cls, cfg) => engine.layer(cls, cfg);
  const input = engine.input([28, 28, 1]);
  let h = L('Rescaling', { scale: 1 / 255 }).apply([input.clone()]);
  for (const [i, filters] of [32, 64, 128].entries()) {
    h = L('Conv2D', { filters, kernel_size: 3, activation: 'relu' }).apply([h]);
    if (i < 2) h = L('MaxPooling2D', { pool_size: 2 }).apply([h]);
  }
  h = L('Flatten', {}).apply([h]);
  const ours = engine.model([input], [L('Dense', { units: 10, activation: 'softmax' }).apply([h])]);
  ours.compile({ optimizer: 'rmsprop', loss: 'sparse_categorical_crossentropy' });

  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / (1 << 24);
  const pixels = Float32Array.from({ length: batch * 784 }, () => Math.floor(rand() * 256));
  const labels = Int32Array.from({ length: batch }, (_, i) => (i * 7) % 10);
  const x = engine.tensor(pixels, [batch, 28, 28, 1]);
  const y = engine.tensorInt32(labels, [batch]);
  const weights = await Promise.all(ours.layers().flatMap((l) => l.getWeights()).map(async (w) => [await w.data(), w.shape]));

  const oursPredict = async () => (await ours.predict(engine, [x.clone()], { batchSize: batch }))[0].data();
  const oursOut = await oursPredict();

  tf.wasm.setWasmPaths('/tfjs/tfjs-backend-wasm/dist/');
  await tf.setBackend('wasm');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  const m = tf.sequential();
  m.add(tf.layers.rescaling({ scale: 1 / 255, inputShape: [28, 28, 1] }));
  for (const [i, filters] of [32, 64, 128].entries()) {
    m.add(tf.layers.conv2d({ filters, kernelSize: 3, activation: 'relu' }));
    if (i < 2) m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  }
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  m.setWeights(weights.map(([data, shape]) => tf.tensor(data, Array.from(shape))));
  const tx = tf.tensor(pixels, [batch, 28, 28, 1]);
  const tfPredict = async () => {
    const out = m.predict(tx, { batchSize: batch });
    const data = await out.data();
    out.dispose();
    return data;
  };
  const tfOut = await tfPredict();
  // Alternating the two engines, so a busy machine slows both alike; the ratio of each
  // pair is reported beside the medians.
  const [oursPredictT, tfPredictT, pairRatio] = await timePairs(iterations, oursPredict, tfPredict);
  const fitArgs = { epochs: 1, batchSize: batch, shuffle: false, verbose: 0 };
  let oursLoss;
  const oursTrainT = await time(iterations, async () => {
    const h = await ours.fit(engine, [x.clone()], [y.clone()], fitArgs, [], [], null, null);
    oursLoss = h.history.loss[0];
  });
  let tfTrain;
  try {
    m.compile({ optimizer: tf.train.rmsprop(0.001), loss: 'sparseCategoricalCrossentropy' });
    const ty = tf.tensor(labels, [batch], 'float32');
    tfTrain = await time(Math.min(iterations, 5), () => m.trainOnBatch(tx, ty));
  } catch (e) {
    tfTrain = { error: String(e.message ?? e).split('\\n')[0] };
  }
  let worst = 0;
  oursOut.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - tfOut[i]))));
  return {
    crossOriginIsolated: self.crossOriginIsolated, tfjs: tf.version.tfjs, simd, threads, build,
    tfThreads: tf.wasm.getThreadsCount?.() ?? null,
    ours: { predict: oursPredictT, train: oursTrainT, loss: oursLoss },
    tf: { predict: tfPredictT, train: tfTrain },
    predictRatioMedianOfPairs: pairRatio,
    maxPredictionDiff: worst,
  };
};
window.ready = true;
</script>`;

async function serve() {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const headers = ISOLATED ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {};
    if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html', ...headers }).end(PAGE);
      return;
    }
    const [root, rest] = path.startsWith('/pkg/')
      ? [PKG, path.slice(4)]
      : path.startsWith('/tfjs/')
        ? [TFJS, path.slice(5)]
        : path === '/kernel/wasm-build.js'
          ? [join(ROOT, 'www/kernel'), '/wasm-build.js']
          : [null, ''];
    const file = root && normalize(join(root, rest));
    if (!file || !file.startsWith(root + sep) || !(await stat(file).catch(() => null))?.isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', ...headers }).end(await readFile(file));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return server;
}

// Self time per function name over the whole run (both engines), top 30.
function printProfile(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id).callFrame;
    const file = frame.url.split('/').pop();
    const name = frame.functionName.startsWith('wasm-function') ? `${file}: ${frame.functionName}` : frame.functionName || `(${file || 'anonymous'})`;
    self.set(name, (self.get(name) ?? 0) + (dt[i + 1] ?? 0) / 1000);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`profile: ${total.toFixed(0)} ms sampled; self time by function:`);
  for (const [name, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`  ${t.toFixed(0).padStart(7)} ms ${((100 * t) / total).toFixed(1).padStart(5)}%  ${name.slice(0, 110)}`);
  }
}

if (!existsSync(join(PKG, 'convbook.js'))) throw new Error(`${PKG}/convbook.js is missing: run \`cargo xtask build\` first`);
const server = await serve();
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => window.ready === true);
  const cdp = PROFILE ? await page.context().newCDPSession(page) : null;
  if (cdp) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
  }
  const r = await page.evaluate(([b, n, w]) => window.bench(b, n, w), [BATCH, ITERATIONS, WASM]);
  if (cdp) printProfile((await cdp.send('Profiler.stop')).profile);
  const ms = (t) => (t?.median === undefined ? 'n/a' : `${t.median.toFixed(1)} (min ${t.min.toFixed(1)})`);
  console.log(`chromium ${browser.version()}, batch ${BATCH}, ${ITERATIONS} timed iterations, crossOriginIsolated=${r.crossOriginIsolated}, convbook wasm build ${r.build}`);
  console.log(`TF.js ${r.tfjs} wasm: SIMD ${r.simd}, multithread support ${r.threads}, threads ${r.tfThreads}`);
  console.log(`                 convbook cpu ms      TF.js wasm ms        TF.js÷ours`);
  const ratio = (a, b) => (a?.median && b?.median ? `${(b.median / a.median).toFixed(2)}x` : '');
  console.log(`predict          ${ms(r.ours.predict).padEnd(20)} ${ms(r.tf.predict).padEnd(20)} ${ratio(r.ours.predict, r.tf.predict)}`);
  console.log(`train step       ${ms(r.ours.train).padEnd(20)} ${(r.tf.train.error ? 'cannot: ' + r.tf.train.error : ms(r.tf.train)).slice(0, 80)}`);
  console.log(`predict, median of per-pair ratios TF.js÷ours: ${r.predictRatioMedianOfPairs.toFixed(2)}x`);
  console.log(`ours loss ${r.ours.loss}; max |prediction difference| ${r.maxPredictionDiff.toExponential(2)}`);
  console.log(JSON.stringify(r));
  if (!(r.maxPredictionDiff < 1e-4)) process.exitCode = 1;
} finally {
  await browser.close();
  server.close();
}
