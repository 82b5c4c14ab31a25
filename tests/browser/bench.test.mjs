// The side-by-side bench at its quick sizes, so it cannot rot: every case runs, the
// results have the shape `cargo xtask bench --browser` records, and convbook's first-step
// losses agree with TF.js's on the same weights and batch. Needs `cargo xtask build`
// (the bench page and TF.js's files live in www/dist/bench/).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench } from '../../xtask/src/bench/browser.mjs';
import { CASES, LOSS_TOLERANCE } from '../../www/bench/report.js';

const positive = (v, what) => assert.ok(Number.isFinite(v) && v > 0, `${what}: ${v}`);

test('quick bench: convbook and TF.js time the four seed models and agree on the first-step loss', { timeout: 180_000 }, async () => {
  const { results, table, problems } = await runBench({ quick: true, timeoutMs: 170_000 });
  assert.deepEqual(problems, [], table);
  assert.equal(results.mode, 'quick');
  assert.deepEqual(results.models.map((m) => m.id), ['convnet-8.1', 'convnet-8.2', 'segmentation-9.2', 'mini-xception-9.3']);
  assert.ok(results.machine.browser.includes('Chromium'), results.machine.browser);
  assert.ok(results.machine.adapter && !results.machine.adapter.startsWith('none'), results.machine.adapter);
  assert.match(results.tfjsVersion, /^4\.22\./);
  assert.deepEqual(Object.keys(results.cases), CASES.map((c) => c.id));
  for (const c of CASES) {
    const r = results.cases[c.id];
    assert.equal(r.error, undefined, `${c.id}: ${r.error}`);
    assert.equal(r.backend, c.backend);
    // The first model's first predict and train step are the cold start.
    positive(r.coldStart.firstPredictMs, `${c.id} cold start to first predict`);
    if (c.engine === 'convbook' || c.backend !== 'wasm') {
      positive(r.coldStart.firstTrainMs, `${c.id} cold start to first train step`);
      assert.ok(r.coldStart.firstTrainMs > r.coldStart.firstPredictMs, `${c.id}: the train step comes after the predict`);
    }
    // The engine's own files came over the wire: convbook's wasm, TF.js's scripts.
    assert.ok(r.bytes.engineTransferBytes > 100_000, `${c.id}: ${r.bytes.engineTransferBytes} engine bytes`);
    for (const m of results.models) {
      const e = r.models[m.id];
      positive(e.predictMs, `${c.id} ${m.id} predict`);
      if (c.engine === 'convbook') {
        positive(e.trainMs, `${c.id} ${m.id} train step`);
        assert.equal(e.trainTimesMs.length, results.iterations.timed);
        assert.ok(e.memoryBefore && e.memoryAfter, `${c.id} ${m.id}: memory before and after`);
      }
    }
  }
  // TF.js's plain-JS backend trains everything, so every model has a loss on each side.
  for (const m of results.models) {
    const a = results.lossAgreement[m.id];
    assert.ok(Number.isFinite(a.losses['convbook-cpu']) && Number.isFinite(a.losses['convbook-webgpu']), m.id);
    assert.ok(Number.isFinite(a.losses['tfjs-cpu']), `${m.id}: TF.js cpu trained`);
    assert.ok(a.maxRelative <= LOSS_TOLERANCE, `${m.id}: ${JSON.stringify(a)}`);
  }
  assert.match(table, /ratio vs convbook webgpu/);
});
