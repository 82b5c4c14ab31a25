// Per-pipeline compile times in headless chromium on SwiftShader WebGPU, straight from
// the WGSL files (no wasm build needed), so a shader change can be timed in seconds.
//
//   node tests/perf/pipeline-compile.mjs [stem[:entry] ...] [--runs N] [--sync]
//
// Each (stem, entry) pipeline is created in a fresh browser and device (Dawn caches
// pipelines by content within a device, and a fresh profile has no disk cache), with
// createComputePipelineAsync (or, with --sync, createComputePipeline followed by a
// queue sync, the path wgpu takes today). The time is from the call until the pipeline
// is usable. The include step of src/gpu/shaders.rs is reproduced here.

import { createServer } from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, ROOT } from '../browser/helpers.mjs';

const SHADERS = join(ROOT, 'shaders');

/** A stem's source with its `//!include NAME` lines replaced, as gpu/shaders.rs does. */
export function composedSource(stemOrFile) {
  const path = stemOrFile.endsWith('.wgsl') ? stemOrFile : join(SHADERS, `${stemOrFile}.wgsl`);
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => {
      const m = line.trim().match(/^\/\/!include (\S+)$/);
      return m ? readFileSync(join(SHADERS, "include", m[1]), 'utf8').replace(/\n$/, '') : line;
    })
    .join('\n');
}

/** The compute entry points a WGSL source declares. */
export function entryPoints(source) {
  return [...source.matchAll(/@compute[^\n]*\n\s*fn (\w+)/g)].map((m) => m[1]);
}

function parseArgs(argv) {
  const opts = { runs: 1, sync: false, only: [], files: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') opts.runs = Number(argv[++i]);
    else if (argv[i] === '--sync') opts.sync = true;
    else if (argv[i] === '--file') opts.files.push(argv[++i]);
    else opts.only.push(argv[i]);
  }
  return opts;
}

/** Milliseconds to compile `source`'s `entry`, in a fresh device of `page`. */
async function timeInPage(page, source, entry, sync) {
  return page.evaluate(
    async ({ source, entry, sync }) => {
      const adapter = await navigator.gpu.requestAdapter();
      // The engine asks for the adapter's storage-buffer limit too (optim_update needs 9).
      const device = await adapter.requestDevice({
        requiredLimits: { maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage },
      });
      const t0 = performance.now();
      const module = device.createShaderModule({ code: source });
      const desc = { layout: 'auto', compute: { module, entryPoint: entry } };
      device.pushErrorScope('validation');
      if (sync) {
        device.createComputePipeline(desc);
        await device.queue.onSubmittedWorkDone();
      } else {
        await device.createComputePipelineAsync(desc);
      }
      const ms = performance.now() - t0;
      const err = await device.popErrorScope();
      device.destroy();
      return { ms, error: err ? err.message : null, adapter: adapter.info ? `${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}` : '' };
    },
    { source, entry, sync },
  );
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const stems = readdirSync(SHADERS).filter((f) => f.endsWith('.wgsl')).map((f) => f.slice(0, -5));
  const jobs = [];
  // --file: a WGSL file outside shaders/ (a variant under study), includes resolved.
  for (const file of opts.files) {
    const source = composedSource(file);
    for (const entry of entryPoints(source)) jobs.push({ label: `${file}:${entry}`, source, entry });
  }
  for (const stem of opts.files.length ? [] : stems) {
    const source = composedSource(stem);
    for (const entry of entryPoints(source)) {
      const label = `${stem}:${entry}`;
      if (opts.only.length && !opts.only.some((o) => o === stem || o === label)) continue;
      jobs.push({ label, source, entry });
    }
  }
  const server = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>compile</title>'));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const rows = [];
  for (const job of jobs) {
    const times = [];
    let error = null;
    for (let r = 0; r < opts.runs; r++) {
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      try {
        const page = await browser.newPage();
        await page.goto(url);
        const res = await timeInPage(page, job.source, job.entry, opts.sync).catch((e) => ({ ms: NaN, error: e.message.split('\n')[0] }));
        times.push(res.ms);
        error ||= res.error;
      } finally {
        await browser.close();
      }
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    rows.push({ pipeline: job.label, ms: Math.round(median), runs: times.map(Math.round), error });
    console.log(`${job.label.padEnd(44)} ${String(Math.round(median)).padStart(8)} ms  ${error ? 'ERROR ' + error : ''}`);
  }
  server.close();
  if (process.env.PIPELINE_COMPILE_JSON) console.log(JSON.stringify(rows));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
