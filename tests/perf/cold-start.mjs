// Cold start of the 8.1 convnet in the notebook on WebGPU (?backend=webgpu): from
// navigation to the first output of model.predict, and to the end of the first training
// step, each in a fresh headless chromium (SwiftShader unless CHROMIUM_ARGS change), as
// the median of --runs. Needs `cargo xtask build` (www/pkg and www/dist).
//
//   node tests/perf/cold-start.mjs [--runs 3] [--mode predict|train|both] [--pause S]
//
// With --pause S the model is built (and, for train, compiled) in one cell and the
// predict or fit runs in a second cell S seconds later, as a reader would: the second
// figure is then how long that reader waits for the first output after clicking Run.

import { preview } from 'vite';
import { join } from 'node:path';
import { kernelIdle, launchBrowser, ROOT, runCode, waitDone } from '../browser/helpers.mjs';

const MODEL = `
const inputs = keras.Input({ shape: [28, 28, 1] });
let x = layers.Rescaling(1 / 255)(inputs);
x = layers.Conv2D(32, 3, { activation: "relu" })(x);
x = layers.MaxPooling2D(2)(x);
x = layers.Conv2D(64, 3, { activation: "relu" })(x);
x = layers.MaxPooling2D(2)(x);
x = layers.Conv2D(128, 3, { activation: "relu" })(x);
x = layers.Flatten()(x);
const outputs = layers.Dense(10, { activation: "softmax" })(x);
var model = keras.Model(inputs, outputs);`;

const COMPILE = `model.compile({ optimizer: "rmsprop", loss: "sparse_categorical_crossentropy" });`;

const FIRST = {
  predict: `const digits = await datasets.digits();
const p = await model.predict(digits.images.slice([0, 0, 0, 0], [64, 28, 28, 1]));
await p.data();`,
  train: `const digits = await datasets.digits();
await model.fit(digits.images.slice([0, 0, 0, 0], [64, 28, 28, 1]), digits.labels.slice([0], [64]), { epochs: 1, batchSize: 64, verbose: 0 });`,
};

const REPORT = `JSON.stringify({ stats: engine.stats() })`;

function parseArgs(argv) {
  const o = { runs: 3, modes: ['predict', 'train'], pause: 0 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') o.runs = Number(argv[++i]);
    else if (argv[i] === '--mode') o.modes = argv[++i] === 'both' ? ['predict', 'train'] : [argv[i]];
    else if (argv[i] === '--pause') o.pause = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return o;
}

async function cell(page, code) {
  await runCode(page, '.scratch-cell', code);
  const state = await waitDone(page, '.scratch-cell', 900_000);
  if (state !== 'done') throw new Error(`cell failed: ${await page.innerText('.scratch-cell .cell-outputs')}`);
}

/** One fresh browser: milliseconds from navigation to the first output (and the wait after the pause). */
async function once(base, mode, pause) {
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const t0 = Date.now();
    await page.goto(`${base}notebook.html?backend=webgpu#/8.1`);
    await kernelIdle(page);
    const ready = Date.now() - t0;
    const backend = await page.evaluate(() => window.convbook.kernel.backend);
    const setup = MODEL + (mode === 'train' ? COMPILE : '');
    let clicked = t0;
    if (pause > 0) {
      await cell(page, setup);
      await new Promise((r) => setTimeout(r, pause * 1000));
      clicked = Date.now();
      await cell(page, FIRST[mode]);
    } else {
      await cell(page, setup + FIRST[mode]);
    }
    const done = Date.now();
    await cell(page, REPORT);
    const { stats } = JSON.parse(JSON.parse(await page.innerText('.scratch-cell .out-value')));
    return { ready, total: done - t0, wait: done - clicked, backend: backend.kind, compile: stats.pipelineCompileMs ?? null };
  } finally {
    await browser.close();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const server = await preview({ configFile: join(ROOT, 'vite.config.mjs'), preview: { port: 0 }, logLevel: 'warn' });
  const base = server.resolvedUrls.local[0];
  const out = {};
  try {
    for (const mode of o.modes) {
      const runs = [];
      for (let r = 0; r < o.runs; r++) {
        const res = await once(base, mode, o.pause);
        runs.push(res);
        console.log(`${mode} run ${r + 1}: backend ${res.backend}, kernel ready ${(res.ready / 1000).toFixed(1)} s, ` +
          `navigation to first ${mode === 'train' ? 'train step' : 'output'} ${(res.total / 1000).toFixed(1)} s` +
          (o.pause ? `, wait after the ${o.pause} s pause ${(res.wait / 1000).toFixed(1)} s` : ''));
        if (res.compile) console.log(`  pipelineCompileMs ${JSON.stringify(Object.fromEntries(Object.entries(res.compile).map(([k, v]) => [k, Math.round(v)])))}`);
      }
      out[mode] = { median_total_s: median(runs.map((r) => r.total)) / 1000, median_wait_s: median(runs.map((r) => r.wait)) / 1000, runs };
      console.log(`${mode}: median ${out[mode].median_total_s.toFixed(1)} s from navigation` + (o.pause ? `, ${out[mode].median_wait_s.toFixed(1)} s after the pause` : ''));
    }
  } finally {
    await server.close();
  }
  if (process.env.COLD_START_JSON) console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
