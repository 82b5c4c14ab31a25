// One bench case: one engine on one backend, in a page of its own (a fresh frame), so
// its cold start and its bytes over the wire are its own. The first model's first
// predict and first train step are the cold start, counted from the frame's navigation.

import { batch } from './seeded.js';
import { outputPositions, ITERATIONS } from './models.js';

export function median(values) {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const message = (e) => (e instanceof Error ? e.message : String(e?.message ?? e));

/**
 * Times `run(tensors)`: `warmup` calls, then up to `timed` ones within `budgetMs`, each
 * on its own batch (`from` on), tensors made before the clock starts. Resolves to
 * {medianMs, timesMs, first}, `first` being the first call's result; `onFirst` hears
 * when that call ended (ms since navigation).
 */
async function timeCalls(built, model, run, { warmup, timed, budgetMs = Infinity }, onFirst, from = 0) {
  const times = [];
  let first;
  for (let i = 0; i < warmup + timed; i++) {
    if (times.length > 0 && times.reduce((a, b) => a + b, 0) >= budgetMs) break;
    const t = built.tensors(batch(model, from + i, outputPositions(model)));
    try {
      const start = performance.now();
      const result = await run(t);
      const end = performance.now();
      if (i === 0) {
        first = result;
        onFirst?.(end);
      }
      if (i >= warmup) times.push(end - start);
    } finally {
      built.free(t);
    }
  }
  return { medianMs: median(times), timesMs: times, first };
}

/** Bytes this frame fetched (Resource Timing), in all and per engine file group. */
export function bytesOverTheWire(engine) {
  const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
  const mine = engine === 'convbook' ? /\/pkg\// : /\/tfjs\//;
  const sum = (list, key) => list.reduce((a, e) => a + (e[key] ?? 0), 0);
  const engineEntries = entries.filter((e) => mine.test(e.name));
  return {
    engineTransferBytes: sum(engineEntries, 'transferSize'),
    engineDecodedBytes: sum(engineEntries, 'decodedBodySize'),
    pageTransferBytes: sum(entries, 'transferSize'),
    files: engineEntries.map((e) => ({ name: new URL(e.name).pathname.split('/').pop(), transferBytes: e.transferSize, decodedBytes: e.decodedBodySize })),
  };
}

/**
 * Runs every model on `engine` (from loadConvbook/loadTfjs), reporting progress through
 * `progress(text)`. A model or a measurement that fails is recorded with its error and
 * the case goes on: TF.js backends lack some gradients, and the table says so.
 */
export async function runCase(engine, models, mode, progress = () => {}) {
  const iterations = ITERATIONS[mode];
  const out = { engine: engine.engine, backend: engine.backend, adapter: engine.adapter, version: engine.version ?? null, coldStart: {}, models: {} };
  for (const [index, model] of models.entries()) {
    const entry = { side: model.side, batch: model.batch };
    out.models[model.id] = entry;
    const firstModel = index === 0;
    let built;
    try {
      progress(`${model.id}: building`);
      built = await engine.build(model);
    } catch (e) {
      entry.error = `build: ${message(e)}`;
      continue;
    }
    try {
      progress(`${model.id}: predict`);
      const p = await timeCalls(built, model, (t) => built.predict(t), iterations, firstModel ? (at) => (out.coldStart.firstPredictMs = at) : null);
      entry.predictMs = p.medianMs;
      entry.predictTimesMs = p.timesMs;
    } catch (e) {
      entry.predictError = message(e);
    }
    try {
      progress(`${model.id}: train`);
      // Memory after the warm-up steps, then after the timed ones: growth means a leak.
      const warm = await timeCalls(built, model, (t) => built.train(t), { warmup: iterations.warmup, timed: 0 }, firstModel ? (at) => (out.coldStart.firstTrainMs = at) : null);
      entry.firstLoss = warm.first;
      entry.memoryBefore = engine.memory();
      const timed = await timeCalls(built, model, (t) => built.train(t), { ...iterations, warmup: 0 }, null, iterations.warmup);
      entry.trainMs = timed.medianMs;
      entry.trainTimesMs = timed.timesMs;
      entry.memoryAfter = engine.memory();
      entry.memorySteps = timed.timesMs.length;
    } catch (e) {
      entry.trainError = message(e);
    }
    try {
      built.dispose();
    } catch (e) {
      entry.disposeError = message(e);
    }
  }
  out.bytes = bytesOverTheWire(engine.engine);
  out.pipelineCompileMs = engine.compileTimes();
  return out;
}
