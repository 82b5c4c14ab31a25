// The side-by-side bench at its quick sizes, so it cannot rot: the cases run, the
// results have the shape `cargo xtask bench --browser` records, and convbook's
// first-step losses agree with TF.js's on the same weights and batch. Needs
// `cargo xtask build` (the bench page and TF.js's files live in www/dist/bench/).
//
// All five cases run, WebGPU ones on SwiftShader included: since the conv GEMM's loads
// went branch-free, its pipelines compile in about a second there, and the quick run
// takes about 80 s on an idle 2-core machine.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench } from '../../xtask/src/bench/browser.mjs';
import { LOSS_TOLERANCE } from '../../www/bench/report.js';
import { median } from '../../www/bench/measure.js';

const CASES = ['convbook-webgpu', 'convbook-cpu', 'tfjs-webgpu', 'tfjs-wasm', 'tfjs-cpu'];
const positive = (v, what) => assert.ok(Number.isFinite(v) && v > 0, `${what}: ${v}`);

test('quick bench: convbook and TF.js time the four seed models and agree on the first-step loss', { timeout: 240_000 }, async () => {
  const { results, table, problems } = await runBench({ quick: true, cases: CASES, timeoutMs: 230_000 });
  assert.deepEqual(problems, [], table);
  assert.equal(results.mode, 'quick');
  assert.deepEqual(results.models.map((m) => m.id), ['convnet-8.1', 'convnet-8.2', 'segmentation-9.2', 'mini-xception-9.3']);
  assert.ok(results.machine.browser.includes('Chromium'), results.machine.browser);
  assert.match(results.tfjsVersion, /^4\.22\./);
  assert.deepEqual(results.caseIds, CASES);
  assert.deepEqual(Object.keys(results.cases), CASES);
  for (const id of CASES) {
    const r = results.cases[id];
    assert.equal(r.error, undefined, `${id}: ${r.error}`);
    assert.equal(`${r.engine}-${r.backend}`, id);
    // The first model's first predict and train step are the cold start.
    positive(r.coldStart.firstPredictMs, `${id} cold start to first predict`);
    // The engine's own files came over the wire: convbook's wasm, TF.js's scripts.
    assert.ok(r.bytes.engineTransferBytes > 100_000, `${id}: ${r.bytes.engineTransferBytes} engine bytes`);
    for (const m of results.models) positive(r.models[m.id].predictMs, `${id} ${m.id} predict`);
  }
  for (const id of ['convbook-webgpu', 'convbook-cpu', 'tfjs-webgpu', 'tfjs-cpu']) {
    const r = results.cases[id];
    assert.ok(r.coldStart.firstTrainMs > r.coldStart.firstPredictMs, `${id}: the first train step ends after the first predict`);
    for (const m of results.models) {
      const e = r.models[m.id];
      positive(e.trainMs, `${id} ${m.id} train step`);
      assert.equal(e.trainTimesMs.length, results.iterations.timed);
      assert.deepEqual(e.roundMediansMs.trainMs, [e.trainMs], `${id} ${m.id}: one round`);
      assert.ok(e.memoryBefore && e.memoryAfter, `${id} ${m.id}: memory before and after`);
    }
  }
  // TF.js's wasm backend has no conv kernel gradients: the run records that, not a failure.
  assert.match(results.cases['tfjs-wasm'].models['convnet-8.1'].trainError, /Conv2DBackpropFilter|not registered/);
  for (const m of results.models) {
    const a = results.lossAgreement[m.id];
    for (const id of ['convbook-webgpu', 'convbook-cpu', 'tfjs-webgpu', 'tfjs-cpu']) {
      assert.ok(Number.isFinite(a.losses[id]), `${m.id}: no ${id} loss in ${JSON.stringify(a.losses)}`);
    }
    assert.ok(a.ok && a.maxRelative <= LOSS_TOLERANCE, `${m.id}: ${JSON.stringify(a)}`);
  }
  // The engine reports what each WebGPU pipeline took to compile, the conv GEMM among them.
  const compile = results.cases['convbook-webgpu'].pipelineCompileMs ?? {};
  assert.ok('conv2d:forward' in compile, `pipelines timed: ${Object.keys(compile).join(', ')}`);
  assert.ok(Object.values(compile).reduce((a, b) => a + b, 0) > 0, JSON.stringify(compile));
  assert.match(table, /ratio vs convbook cpu/);
});

test('bench rounds: a second round of the same cases pools its timed calls with the first', { timeout: 120_000 }, async () => {
  const { results, problems, table } = await runBench({ quick: true, cases: ['convbook-cpu', 'tfjs-cpu'], rounds: 2, timeoutMs: 110_000 });
  assert.deepEqual(problems, [], table);
  assert.equal(results.rounds, 2);
  assert.match(table, /pooled over 2 rounds/);
  for (const id of ['convbook-cpu', 'tfjs-cpu']) {
    for (const m of results.models) {
      const e = results.cases[id].models[m.id];
      assert.equal(e.predictTimesMs.length, 2 * results.iterations.timed, `${id} ${m.id}: both rounds' calls`);
      assert.equal(e.predictMs, median(e.predictTimesMs), `${id} ${m.id}: the median of the pooled calls`);
      assert.equal(e.roundMediansMs.predictMs.length, 2, `${id} ${m.id}: ${JSON.stringify(e.roundMediansMs)}`);
    }
  }
  const train = results.cases['convbook-cpu'].models['convnet-8.1'];
  assert.equal(train.trainTimesMs.length, 2 * results.iterations.timed);
  assert.equal(train.roundMediansMs.trainMs.length, 2);
});
