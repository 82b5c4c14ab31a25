// Browser smoke tests: every op family of the JS API on WebGPU vs the CPU engine,
// errors as exceptions, and a buffer-pool leak check. Results are published on
// `window.smokeResults` (read by tests/browser/smoke.test.mjs) and shown on the page.

import init, { Engine } from '../pkg/convbook.js';

const params = new URLSearchParams(location.search);
const SEED = Number(params.get('seed') ?? 20251123) >>> 0;

const results = {
  done: false,
  seed: SEED,
  backend: null,
  cpuBackend: null,
  cases: [],
  errors: [],
  afterErrors: null,
  leak: null,
  fatal: null,
};
window.smokeResults = results;

// ---------------------------------------------------------------- inputs

/** mulberry32: small, seeded, good enough for test data. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(SEED);

const numel = (shape) => shape.reduce((a, b) => a * b, 1);

/** Float input of `shape` with values uniform in [lo, hi). */
function f32(shape, lo = -1, hi = 1) {
  const data = new Float32Array(numel(shape));
  for (let i = 0; i < data.length; i++) data[i] = lo + (hi - lo) * rand();
  return { shape, dtype: 'float32', data };
}

/** Values on a coarse grid, so `equal` and ties actually happen. */
function grid(shape, steps = 4) {
  const data = new Float32Array(numel(shape));
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(rand() * steps) / 2;
  return { shape, dtype: 'float32', data };
}

function i32(shape, lo, hi) {
  const data = new Int32Array(numel(shape));
  for (let i = 0; i < data.length; i++) data[i] = lo + Math.floor((hi - lo) * rand());
  return { shape, dtype: 'int32', data };
}

function u8(shape) {
  const data = new Uint8Array(numel(shape));
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(256 * rand());
  return { shape, dtype: 'uint8', data };
}

function make(engine, spec) {
  switch (spec.dtype) {
    case 'int32': return engine.tensorInt32(spec.data, spec.shape);
    case 'uint8': return engine.tensorUint8(spec.data, spec.shape);
    default: return engine.tensor(spec.data, spec.shape);
  }
}

/** Free a handle; already-consumed handles (passed by value) are fine. */
function release(t) {
  try { t?.free(); } catch { /* moved or already freed */ }
}

// ---------------------------------------------------------------- comparison

/**
 * |got - want| <= atol * scale + rtol * |want|, scale = max(1, max |want|): float32
 * rounding grows with the magnitude of what is summed.
 */
function compare(got, want, { rtol = 1e-4, atol = 1e-4, exact = false } = {}) {
  if (got.length !== want.length) return { ok: false, maxDiff: Infinity, detail: `length ${got.length} vs ${want.length}` };
  let scale = 1;
  for (const w of want) if (Number.isFinite(w)) scale = Math.max(scale, Math.abs(w));
  let maxDiff = 0;
  let bad = null;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (g === w || (Number.isNaN(g) && Number.isNaN(w))) continue;
    const diff = Math.abs(g - w);
    if (!(diff <= maxDiff)) maxDiff = diff;
    const ok = !exact && diff <= atol * scale + rtol * Math.abs(w);
    if (!ok && bad === null) bad = `element ${i}: WebGPU ${g} vs CPU ${w}`;
  }
  return { ok: bad === null, maxDiff, detail: bad ?? '' };
}

// ---------------------------------------------------------------- cases

/** Run `op` on the same inputs on both engines and compare the results. */
async function check(gpu, cpu, name, inputs, op, tol = {}) {
  const entry = { name, ok: false, detail: '', maxDiff: null, ms: null, shape: null };
  results.cases.push(entry);
  const outputs = {};
  try {
    for (const [label, engine] of [['webgpu', gpu], ['cpu', cpu]]) {
      const ts = inputs.map((s) => make(engine, s));
      const t0 = performance.now();
      let out;
      try {
        out = op(ts, engine);
        const data = await out.data();
        outputs[label] = { shape: Array.from(out.shape), dtype: out.dtype, data, ms: performance.now() - t0 };
      } catch (e) {
        throw new Error(`${label}: ${e?.message ?? e}`);
      } finally {
        ts.forEach(release);
        release(out);
      }
    }
    const g = outputs.webgpu;
    const c = outputs.cpu;
    entry.shape = `${g.dtype} [${g.shape}]`;
    entry.ms = Math.round(g.ms * 10) / 10;
    if (g.shape.join() !== c.shape.join()) {
      entry.detail = `shape [${g.shape}] vs CPU [${c.shape}]`;
    } else if (g.dtype !== c.dtype) {
      entry.detail = `dtype ${g.dtype} vs CPU ${c.dtype}`;
    } else {
      const exact = tol.exact ?? g.dtype !== 'float32';
      const r = compare(g.data, c.data, { ...tol, exact });
      entry.ok = r.ok;
      entry.maxDiff = r.maxDiff;
      entry.detail = r.detail;
    }
  } catch (e) {
    entry.detail = `threw: ${e?.message ?? e}`;
  }
  render();
}

async function opCases(gpu, cpu) {
  const c = (...args) => check(gpu, cpu, ...args);

  // Elementwise unary maps, on odd sizes.
  const unary = [
    ['neg', (x) => x.neg(), [-3, 3]],
    ['abs', (x) => x.abs(), [-3, 3]],
    ['relu', (x) => x.relu(), [-3, 3]],
    ['sigmoid', (x) => x.sigmoid(), [-12, 12]],
    ['tanh', (x) => x.tanh(), [-5, 5]],
    ['exp', (x) => x.exp(), [-10, 10]],
    ['log', (x) => x.log(), [0.01, 20]],
    ['sqrt', (x) => x.sqrt(), [0, 20]],
    ['square', (x) => x.square(), [-4, 4]],
    ['clamp(-0.3, 0.7)', (x) => x.clamp(-0.3, 0.7), [-1, 1]],
    ['powScalar(2.5)', (x) => x.powScalar(2.5), [0, 3]],
    ['affine(1.5, -0.25)', (x) => x.affine(1.5, -0.25), [-2, 2]],
  ];
  for (const [name, f, [lo, hi]] of unary) {
    await c(`${name} [3,5,7]`, [f32([3, 5, 7], lo, hi)], ([x]) => f(x));
  }
  await c('relu [1]', [f32([1])], ([x]) => x.relu());
  await c('tanh [300007] (many workgroups)', [f32([300007], -4, 4)], ([x]) => x.tanh());

  // Broadcasting binary ops.
  const binary = [
    ['add', (a, b) => a.add(b), [-2, 2], [-2, 2]],
    ['sub', (a, b) => a.sub(b), [-2, 2], [-2, 2]],
    ['mul', (a, b) => a.mul(b), [-2, 2], [-2, 2]],
    ['div', (a, b) => a.div(b), [-2, 2], [0.5, 3]],
    ['pow', (a, b) => a.pow(b), [0.1, 3], [-2, 2]],
    ['maximum', (a, b) => a.maximum(b), [-2, 2], [-2, 2]],
    ['minimum', (a, b) => a.minimum(b), [-2, 2], [-2, 2]],
    ['greater', (a, b) => a.greater(b), [-2, 2], [-2, 2]],
  ];
  const pairs = [
    [[7, 9], [7, 9]],
    [[3, 1, 5], [4, 1]],
    [[1], [2, 3]],
    [[7, 1], [1, 9]],
    [[2, 3, 4, 5], [5]],
  ];
  for (const [name, f, ra, rb] of binary) {
    for (const [sa, sb] of pairs) {
      await c(`${name} [${sa}] ⊕ [${sb}]`, [f32(sa, ...ra), f32(sb, ...rb)], ([a, b]) => f(a, b));
    }
  }
  await c('equal [6,7] ⊕ [7] (grid values)', [grid([6, 7]), grid([7])], ([a, b]) => a.equal(b));
  await c('greater [6,7] ⊕ [6,1] (grid values)', [grid([6, 7]), grid([6, 1])], ([a, b]) => a.greater(b));
  await c('fill [5,3] = 2.5', [], (_, engine) => engine.fill([5, 3], 2.5));

  // Reductions over various axes.
  const reduceShape = [5, 6, 7];
  const axesList = [undefined, [0], [1], [-1], [0, 2], [1, 2], [0, 1, 2]];
  for (const op of ['sum', 'mean', 'max', 'min']) {
    for (const axes of axesList) {
      for (const keep of [false, true]) {
        if (keep && axes && axes.length !== 2) continue;
        const label = `${op}(${axes ? `[${axes}]` : 'all'}${keep ? ', keepdims' : ''}) [${reduceShape}]`;
        await c(label, [f32(reduceShape, -3, 3)], ([x]) => x[op](axes, keep));
      }
    }
    await c(`${op}([-1]) [3,1000] (long rows)`, [f32([3, 1000], -1, 1)], ([x]) => x[op]([-1]));
    await c(`${op}(all) [2,3000]`, [f32([2, 3000], 0, 1)], ([x]) => x[op]());
    await c(`${op}([0]) [513,3]`, [f32([513, 3], -1, 1)], ([x]) => x[op]([0]));
  }
  for (const axis of [0, 1, -1]) {
    await c(`argmax(${axis}) [9,11,13]`, [f32([9, 11, 13], -5, 5)], ([x]) => x.argmax(axis));
  }
  await c('argmax() [4,1000]', [f32([4, 1000])], ([x]) => x.argmax());

  // Softmax / log-softmax, including large logits (stability) and non-last axes.
  for (const fn of ['softmax', 'logSoftmax']) {
    await c(`${fn}(-1) [7,13]`, [f32([7, 13], -3, 3)], ([x]) => x[fn](-1));
    await c(`${fn}(-1) [4,10] logits ±80`, [f32([4, 10], -80, 80)], ([x]) => x[fn]());
    await c(`${fn}(0) [9,5]`, [f32([9, 5], -3, 3)], ([x]) => x[fn](0));
    await c(`${fn}(1) [3,11,4]`, [f32([3, 11, 4], -3, 3)], ([x]) => x[fn](1));
    await c(`${fn}(-1) [2,1025]`, [f32([2, 1025], -5, 5)], ([x]) => x[fn](-1));
  }

  // Matmul, odd sizes around the 64-wide tiles, batched and broadcast batches.
  const matmuls = [
    [[1, 1], [1, 1]],
    [[17, 33], [33, 65]],
    [[70, 130], [130, 3]],
    [[64, 64], [64, 64]],
    [[65, 63], [63, 129]],
    [[1, 200], [200, 1]],
    [[4, 17, 33], [4, 33, 9]],
    [[2, 3, 8, 5], [2, 3, 5, 4]],
    [[3, 5, 7], [7, 2]],
    [[5, 7], [3, 7, 2]],
  ];
  for (const [sa, sb] of matmuls) {
    await c(`matmul [${sa}] @ [${sb}]`, [f32(sa), f32(sb)], ([a, b]) => a.matmul(b));
  }

  // Data movement.
  await c('transpose() [4,9]', [f32([4, 9])], ([x]) => x.transpose());
  await c('transpose([1,0,2]) [3,5,7]', [f32([3, 5, 7])], ([x]) => x.transpose([1, 0, 2]));
  await c('transpose([2,0,3,1]) [2,3,4,5]', [f32([2, 3, 4, 5])], ([x]) => x.transpose([2, 0, 3, 1]));
  await c('reshape([-1,6]) then transpose [4,9]', [f32([4, 9])], ([x]) => x.reshape([-1, 6]).transpose());
  await c('slice([1,2],[3,4]) [5,7]', [f32([5, 7])], ([x]) => x.slice([1, 2], [3, 4]));
  await c('slice([0,1,2],[2,1,3]) [3,4,5]', [f32([3, 4, 5])], ([x]) => x.slice([0, 1, 2], [2, 1, 3]));
  await c('pad([1,2,0,3], 0) [3,4]', [f32([3, 4])], ([x]) => x.pad([1, 2, 0, 3]));
  await c('pad([0,0,2,1,1,0], -7.5) [2,3,4]', [f32([2, 3, 4])], ([x]) => x.pad([0, 0, 2, 1, 1, 0], -7.5));
  await c('concat axis 0 [2,3]+[4,3]', [f32([2, 3]), f32([4, 3])], ([a, b], e) => e.concat([a.clone(), b.clone()], 0));
  await c('concat axis 1 [3,2]+[3,5]+[3,1]', [f32([3, 2]), f32([3, 5]), f32([3, 1])], (ts, e) => e.concat(ts.map((t) => t.clone()), 1));
  await c('concat axis -1 [2,3,4]+[2,3,7]', [f32([2, 3, 4]), f32([2, 3, 7])], ([a, b], e) => e.concat([a.clone(), b.clone()], -1));
  await c('broadcastTo [1,5] → [4,3,5]', [f32([1, 5])], ([x]) => x.broadcastTo([4, 3, 5]));
  await c('broadcastTo [3,1] → [3,7]', [f32([3, 1])], ([x]) => x.broadcastTo([3, 7]));
  await c('cast float32 → int32 [5,7]', [f32([5, 7], -100, 100)], ([x]) => x.cast('int32'));
  await c('cast int32 → float32 [6,5]', [i32([6, 5], -1000, 1000)], ([x]) => x.cast('float32'));
  await c('cast uint8 → float32 [3,17]', [u8([3, 17])], ([x]) => x.cast('float32'));

  // A small network forward pass: chains of ops share one command encoder on the GPU.
  await c(
    'mlp: softmax(relu(x@w1+b1)@w2) [8,20]',
    [f32([8, 20]), f32([20, 33], -0.5, 0.5), f32([33], -0.1, 0.1), f32([33, 10], -0.5, 0.5)],
    ([x, w1, b1, w2]) => x.matmul(w1).add(b1).relu().matmul(w2).softmax(),
  );
}

// ---------------------------------------------------------------- errors

function expectError(engine, label, name, fn, mustContain) {
  const entry = { name, engine: label, ok: false, message: '', detail: '' };
  results.errors.push(entry);
  let made = [];
  const track = (t) => (made.push(t), t);
  try {
    const out = fn(engine, track);
    track(out);
    entry.detail = 'no exception was thrown';
  } catch (e) {
    entry.message = String(e?.message ?? e);
    const missing = mustContain.filter((s) => !entry.message.includes(s));
    if (!(e instanceof Error)) entry.detail = `threw a ${typeof e}, not an Error`;
    else if (missing.length) entry.detail = `message lacks ${missing.map((s) => JSON.stringify(s)).join(', ')}`;
    else entry.ok = true;
  } finally {
    made.forEach(release);
  }
}

async function errorCases(gpu, cpu) {
  for (const [label, engine] of [['webgpu', gpu], ['cpu', cpu]]) {
    const t = (shape) => engine.tensor(new Float32Array(numel(shape)), shape);
    const e = (name, fn, must) => expectError(engine, label, name, fn, must);
    e('matmul shape mismatch', (_, k) => k(t([2, 3])).matmul(k(t([4, 5]))), ['matmul', '(2, 3)', '(4, 5)']);
    e('matmul batch mismatch', (_, k) => k(t([2, 3, 4])).matmul(k(t([5, 4, 2]))), ['(2, 3, 4)', '(5, 4, 2)']);
    e('reshape to a wrong size', (_, k) => k(t([2, 3])).reshape([4, 2]), ['reshape', '(2, 3)']);
    e('add shapes that do not broadcast', (_, k) => k(t([2, 3])).add(k(t([4, 3]))), ['(2, 3)', '(4, 3)']);
    e('data does not fill the shape', (en) => en.tensor(new Float32Array(5), [2, 3]), ['5', '(2, 3)']);
    e('sum over an axis out of range', (_, k) => k(t([2, 3])).sum([2]), ['axis 2']);
    e('softmax axis out of range', (_, k) => k(t([2, 3])).softmax(-3), ['axis -3']);
    e('transpose with a bad permutation', (_, k) => k(t([2, 3])).transpose([0, 0]), ['transpose']);
    e('slice past the end', (_, k) => k(t([4, 5])).slice([3, 0], [2, 5]), ['slice']);
    e('broadcastTo an incompatible shape', (_, k) => k(t([3, 2])).broadcastTo([3, 3]), ['(3, 2)', '(3, 3)']);
    e('concat with differing shapes', (en, k) => en.concat([k(t([2, 3])), k(t([3, 4]))], 0), ['(2, 3)', '(3, 4)']);
    e('cast to an unknown dtype', (_, k) => k(t([2])).cast('float16'), ['float16']);
    e('log of an int32 tensor', (en, k) => k(en.tensorInt32(new Int32Array(4), [4])).log(), ['int32']);
    e('pad with an odd count', (_, k) => k(t([2, 2])).pad([1, 1, 1]), ['pad']);
  }
  // Engine-level errors.
  results.errors.push(await (async () => {
    const entry = { name: "Engine.create('bogus')", engine: '-', ok: false, message: '', detail: '' };
    try {
      await Engine.create('bogus');
      entry.detail = 'no exception was thrown';
    } catch (e) {
      entry.message = String(e?.message ?? e);
      entry.ok = e instanceof Error && entry.message.includes('bogus');
      if (!entry.ok) entry.detail = 'expected an Error naming the backend';
    }
    return entry;
  })());
  render();

  // The engine must keep working after all that (a wasm panic would have poisoned it).
  const before = results.cases.length;
  await check(gpu, cpu, 'after errors: matmul + softmax [33,17]@[17,9]', [f32([33, 17]), f32([17, 9])], ([a, b]) => a.matmul(b).softmax());
  const after = results.cases.splice(before, 1)[0];
  results.afterErrors = { ok: after.ok, detail: after.detail };
}

// ---------------------------------------------------------------- leak check

/**
 * A fresh WebGPU engine (its own pool, so tensors the earlier cases left to the garbage
 * collector cannot move its counters) runs a small op chain many times, disposing every
 * result. After warm-up, no buffer may be created and none may stay live.
 */
async function leakCheck() {
  const ITER = 200;
  const gpu = await Engine.create('webgpu');
  const x = gpu.tensor(f32([8, 32]).data, [8, 32]);
  const w = gpu.tensor(f32([32, 16], -0.3, 0.3).data, [32, 16]);
  const b = gpu.tensor(f32([16], -0.1, 0.1).data, [16]);
  const series = [];
  let warm = null;
  try {
    for (let i = 0; i < ITER; i++) {
      const h = x.matmul(w);
      const z = h.add(b);
      const r = z.relu();
      const s = r.softmax();
      const m = s.mean();
      const v = await m.data();
      for (const t of [h, z, r, s, m]) t.dispose();
      if (!(Math.abs(v[0] - 1 / 16) < 1e-5)) throw new Error(`iteration ${i}: mean of softmax rows is ${v[0]}, expected 1/16`);
      const st = gpu.stats();
      if (i === 9) warm = st;
      if (i % 20 === 0 || i === ITER - 1) series.push(st.live_buffers);
    }
    const end = gpu.stats();
    const ok = end.live_buffers === warm.live_buffers && end.created_buffers === warm.created_buffers;
    results.leak = { ok, iterations: ITER, warm, end, series, detail: ok ? '' : 'buffer counts grew after warm-up' };
  } catch (e) {
    results.leak = { ok: false, iterations: ITER, series, detail: `threw: ${e?.message ?? e}` };
  } finally {
    [x, w, b].forEach(release);
    gpu.free();
  }
  render();
}

// ---------------------------------------------------------------- page

const esc = (s) => String(s).replace(/[&<>]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[ch]);
const mark = (ok) => (ok ? '<span class="ok">pass</span>' : '<span class="bad">FAIL</span>');

function render() {
  const cases = document.querySelector('#cases tbody');
  cases.innerHTML = results.cases
    .map((r) => `<tr><td>${esc(r.name)}</td><td>${esc(r.shape ?? '')}</td><td>${mark(r.ok)} ${esc(r.detail)}</td>` +
      `<td>${r.maxDiff == null ? '' : r.maxDiff.toExponential(1)}</td><td>${r.ms ?? ''}</td></tr>`)
    .join('');
  const errors = document.querySelector('#errors tbody');
  errors.innerHTML = results.errors
    .map((r) => `<tr><td>${esc(r.name)}</td><td>${esc(r.engine)}</td><td>${mark(r.ok)} ${esc(r.detail)}</td><td><code>${esc(r.message)}</code></td></tr>`)
    .join('');
  const leak = results.leak;
  if (leak) {
    document.querySelector('#leak').innerHTML = `${mark(leak.ok)} ${leak.iterations} iterations of matmul → add → relu → softmax → mean, ` +
      `results disposed; live buffers sampled: ${leak.series.join(', ')} ${esc(leak.detail)}`;
  }
}

function finish() {
  const failedCases = results.cases.filter((r) => !r.ok).length;
  const failedErrors = results.errors.filter((r) => !r.ok).length;
  const ok = !results.fatal && failedCases === 0 && failedErrors === 0 && results.leak?.ok && results.afterErrors?.ok;
  const summary = document.querySelector('#summary');
  summary.dataset.state = ok ? 'pass' : 'fail';
  summary.textContent = results.fatal
    ? `stopped: ${results.fatal}`
    : `${results.cases.length - failedCases}/${results.cases.length} op cases pass, ` +
      `${results.errors.length - failedErrors}/${results.errors.length} error cases pass, ` +
      `buffer pool ${results.leak?.ok ? 'flat' : 'GREW'}, ` +
      `engine ${results.afterErrors?.ok ? 'works' : 'BROKEN'} after errors (seed ${SEED})`;
  results.ok = Boolean(ok);
  results.done = true;
}

async function main() {
  await init();
  const gpu = await Engine.create('auto');
  const cpu = await Engine.create('cpu');
  results.backend = gpu.backend();
  results.cpuBackend = cpu.backend();
  const badge = document.querySelector('#backend');
  const name = results.backend.adapter?.name;
  badge.textContent = results.backend.kind === 'webgpu' ? `WebGPU${name ? ` · ${name}` : ''}` : `CPU · ${results.backend.reason}`;
  badge.dataset.kind = results.backend.kind;
  if (results.backend.kind !== 'webgpu') {
    throw new Error(`WebGPU is unavailable, so there is nothing to compare: ${results.backend.reason}`);
  }
  await opCases(gpu, cpu);
  await errorCases(gpu, cpu);
  await leakCheck();
}

main()
  .catch((e) => {
    results.fatal = String(e?.stack ?? e);
    console.error('smoke tests stopped:', e);
  })
  .finally(() => {
    render();
    finish();
  });
