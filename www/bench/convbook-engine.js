// convbook's side of a bench case: the wasm engine driven directly (what the notebook
// kernel's Keras API forwards to), built from the engine-neutral layer lists.

import { weightValues } from './seeded.js';
import { initWasm } from '../kernel/wasm-build.js';

// Resolved at run time, not bundled, as the notebook kernel does: <root>/pkg/ both in
// the sources (www/bench/) and in the build (dist/bench/, whose pkg/ is dist/pkg/).
const PKG = '../pkg/convbook.js';

/** `wasm`: which wasm build, as the notebook loads it ('auto', or 'simd128' to keep the plain one). */
export async function loadConvbook(backend, wasm = 'auto') {
  const glue = new URL(PKG, import.meta.url).href;
  const pkg = await import(/* @vite-ignore */ glue);
  await initWasm(pkg, glue, wasm);
  const engine = await pkg.Engine.create(backend);
  const info = engine.backend();
  if (info.kind !== backend) throw new Error(`convbook: asked for ${backend}, got ${info.kind} (${info.reason ?? 'no reason given'})`);
  return {
    engine: 'convbook',
    backend,
    // The CPU backend's speed depends on the wasm build that runs: the table names it.
    adapter: info.adapter ?? (info.description ? `${info.description}, wasm ${info.simd}` : null),
    /** Per-pipeline compile times ({label: ms}) where the engine reports them, else null. */
    compileTimes: () => engine.stats().pipelineCompileMs ?? null,
    memory: () => engine.stats(),
    build: (model) => build(engine, model),
  };
}

async function build(engine, model) {
  const handles = new Map();
  const input = engine.input(model.inputShape, 'input');
  let last = input;
  const layers = [];
  for (const spec of model.layers) {
    const layer = engine.layer(spec.className, { ...spec.config, name: spec.name });
    const inputs = spec.inputs ? spec.inputs.map((n) => handles.get(n).clone()) : [last.clone()];
    last = layer.apply(inputs);
    handles.set(spec.name, last);
    layers.push(layer);
  }
  const net = engine.model([input], [last], model.id);
  for (const [i, spec] of model.layers.entries()) {
    const current = layers[i].getWeights();
    if (current.length === 0) continue;
    const values = current.map((w, k) => {
      const shape = Array.from(w.shape);
      w.free();
      return engine.tensor(weightValues(model.id, spec.name, spec.className, k, shape), shape);
    });
    layers[i].setWeights(values);
  }
  const optimizer = engine.optimizer('RMSprop', { learningRate: 1e-3, rho: 0.9, momentum: 0, epsilon: 1e-7 });
  const loss = model.labels === 'binary' ? 'binary_crossentropy' : 'sparse_categorical_crossentropy';
  net.compile({ optimizer, loss });
  const tensors = (b) => ({ x: engine.tensor(b.x, b.xShape), y: engine.tensor(b.y, b.yShape) });
  const free = (t) => {
    t.x.free();
    t.y.free();
  };
  return {
    tensors,
    free,
    /** Ends on a readback: predict resolves with the outputs copied to the CPU. */
    async predict(t) {
      // The engine takes tensor handles by value: pass copies, the batch is freed after.
      const outs = await net.predict(engine, [t.x.clone()], { batchSize: model.batch, verbose: 0 });
      for (const o of outs) o.free();
    },
    /** One optimizer step on the whole batch; the loss is read back, so it ends on a sync. */
    async train(t) {
      const logs = await net.fit(engine, [t.x.clone()], [t.y.clone()], { epochs: 1, batchSize: model.batch, shuffle: false, verbose: 0 }, [], [], null, null);
      return logs.history.loss[0];
    },
    dispose() {
      net.free();
      for (const l of layers) l.free();
    },
  };
}
