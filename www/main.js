// Start page: open the engine (WebGPU, else the CPU with the reason), show which adapter
// is in use, and run a small visible computation checked against the CPU reference.
// Results are also published on `window.demoResult` (the browser test reads it).

import init, { Engine } from './pkg/convbook.js';

const N = 256;
const TOLERANCE = 1e-4;
const $ = (id) => document.getElementById(id);

function setText(id, text) {
  $(id).textContent = text;
}

/** Deterministic inputs in [-1, 1). */
function inputs(n, seed) {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

/** What the browser itself says about its WebGPU adapter (wgpu's name is empty here). */
async function adapterInfo() {
  if (!('gpu' in navigator)) return null;
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return null;
    const info = adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {};
    const pick = ({ vendor, architecture, device, description }) => ({ vendor, architecture, device, description });
    return pick(info);
  } catch {
    return null;
  }
}

function describeAdapter(info, backend) {
  const parts = [];
  if (info) {
    const { vendor, architecture, device, description } = info;
    if (vendor) parts.push(vendor);
    if (architecture) parts.push(architecture);
    if (device) parts.push(device);
    if (description) parts.push(`“${description}”`);
  }
  if (!parts.length && backend.adapter?.name) parts.push(backend.adapter.name);
  if (!parts.length) return 'not reported by the browser';
  const software = /swiftshader|llvmpipe|lavapipe|software/i.test(parts.join(' '));
  return parts.join(' · ') + (software ? ' (software rendering on the CPU)' : '');
}

/** One timed softmax(A·B) with readback; returns [ms, values]. */
async function run(engine, a, b) {
  const t0 = performance.now();
  const ta = engine.tensor(a, [N, N]);
  const tb = engine.tensor(b, [N, N]);
  const product = ta.matmul(tb);
  const probs = product.softmax(-1);
  const values = await probs.data();
  const ms = performance.now() - t0;
  for (const t of [ta, tb, product, probs]) t.free();
  return [ms, values];
}

async function timings(engine, a, b) {
  const [first, values] = await run(engine, a, b);
  const warm = [];
  for (let i = 0; i < 5; i++) warm.push((await run(engine, a, b))[0]);
  warm.sort((x, y) => x - y);
  return { first, warm: warm[2], values };
}

/** wgpu names no adapter in browsers; say which API it drives instead. */
function engineText(backend) {
  const a = backend.adapter;
  if (!a) return backend.description;
  if (a.name) return backend.description;
  return `wgpu via the browser's WebGPU · max binding ${(a.max_storage_buffer_binding_size / 2 ** 20).toFixed(0)} MiB`;
}

const fmtMs = (ms) => (ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`);

/** Show the notebook link when the bundle has been built (www/dist). */
async function offerNotebook() {
  try {
    const r = await fetch('./dist/notebook.html', { method: 'HEAD', cache: 'no-store' });
    if (r.ok) $('open-notebook').hidden = false;
  } catch {
    /* not built: the start page stands alone */
  }
}

async function main() {
  offerNotebook();
  await init();
  const [engine, info] = await Promise.all([Engine.create('auto'), adapterInfo()]);
  const backend = engine.backend();
  const webgpu = backend.kind === 'webgpu';

  const badge = $('backend');
  badge.dataset.kind = backend.kind;
  badge.textContent = webgpu ? 'WebGPU' : 'CPU fallback';
  setText('backend-kind', webgpu ? 'WebGPU (your GPU runs the WGSL kernels)' : 'CPU kernels, WebAssembly SIMD (no WebGPU)');
  setText('backend-desc', engineText(backend));
  setText('adapter', webgpu ? describeAdapter(info, backend) : 'none');
  if (!webgpu) {
    const note = $('fallback');
    note.hidden = false;
    note.textContent = `Why the CPU: ${backend.reason}. Everything still works, only slower; ` +
      'a browser with WebGPU enabled runs the same code on the GPU.';
  }

  const a = inputs(N * N, 1);
  const b = inputs(N * N, 2);
  const cpu = webgpu ? await Engine.create('cpu') : engine;
  const got = await timings(engine, a, b);
  const ref = webgpu ? await timings(cpu, a, b) : got;

  let maxDiff = 0;
  for (let i = 0; i < ref.values.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got.values[i] - ref.values[i]));
  let worstRow = 0;
  for (let r = 0; r < N; r++) {
    let s = 0;
    for (let c = 0; c < N; c++) s += got.values[r * N + c];
    worstRow = Math.max(worstRow, Math.abs(s - 1));
  }
  const ok = maxDiff <= TOLERANCE && worstRow <= 1e-4;
  const stats = engine.stats();

  setText('demo-engine-label', webgpu ? 'WebGPU' : 'CPU (in use)');
  setText('demo-gpu-first', fmtMs(got.first));
  setText('demo-gpu-ms', fmtMs(got.warm));
  setText('demo-cpu-first', webgpu ? fmtMs(ref.first) : '—');
  setText('demo-cpu-ms', webgpu ? fmtMs(ref.warm) : '—');
  setText('demo-maxdiff', webgpu ? `${maxDiff.toExponential(2)} (tolerance ${TOLERANCE.toExponential(0)})` : '— (no GPU to compare)');
  setText('demo-rowsums', `1 ± ${worstRow.toExponential(1)}`);
  setText('demo-stats', webgpu ? `${stats.live_buffers} live, ${stats.created_buffers} created, ${stats.pipelines} pipelines` : '—');
  if (webgpu) {
    const ratio = ref.warm / got.warm;
    // The notebook's "auto" acts on this (kernel/backend-choice.js): say so here too.
    const software = /swiftshader|llvmpipe|lavapipe|software/i.test(describeAdapter(info, backend));
    setText(
      'demo-speed',
      ratio >= 1
        ? `${ratio.toFixed(1)}× faster than the CPU reference`
        : `${(1 / ratio).toFixed(1)}× slower than the CPU reference${software ? ' (a software adapter: the notebook\'s Auto measures this and runs on the CPU when it is faster)' : ''}`,
    );
  } else {
    setText('demo-speed', '—');
  }
  const status = $('demo-status');
  status.dataset.state = ok ? 'pass' : 'fail';
  status.textContent = ok
    ? webgpu
      ? '✓ The WebGPU result matches the CPU reference'
      : '✓ Computed on the CPU (no GPU to compare with)'
    : `✗ Mismatch: max difference ${maxDiff.toExponential(2)}, row sums off by ${worstRow.toExponential(1)}`;

  window.demoResult = {
    done: true,
    ok,
    n: N,
    backend,
    adapterInfo: info,
    gpuFirstMs: got.first,
    gpuMs: got.warm,
    cpuMs: ref.warm,
    maxAbsDiff: maxDiff,
    rowSumError: worstRow,
  };
}

main().catch((e) => {
  console.error(e);
  const status = $('demo-status');
  status.dataset.state = 'fail';
  status.textContent = `The engine could not start: ${e?.message ?? e}`;
  window.demoResult = { done: true, ok: false, error: String(e?.message ?? e) };
});
