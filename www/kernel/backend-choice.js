// Which engine backend "auto" really means. A hardware GPU adapter is taken as it is. A
// software one (SwiftShader, llvmpipe: Vulkan emulated on the CPU) can be many times
// slower than the engine's own CPU code, so both run the same short timed workload and
// the faster one wins. The verdict is remembered by the page (the worker has no
// localStorage), keyed by what the browser says about its adapter, so the probe runs
// once per browser and adapter, not on every kernel start.

/** Bump when the workload or the engine changes enough that old verdicts mislead. */
export const PROBE_VERSION = 1;

const SOFTWARE = [
  [/swiftshader/i, 'SwiftShader'],
  [/llvmpipe/i, 'llvmpipe'],
  [/lavapipe/i, 'lavapipe'],
  [/warp|microsoft basic render/i, 'WARP'],
];

const adapterText = (gpu) => [gpu.vendor, gpu.architecture, gpu.device, gpu.description].filter(Boolean).join(' ');

/** The software renderer's name, or null for a hardware adapter. */
export function softwareAdapterName(gpu) {
  if (!gpu?.available) return null;
  const text = adapterText(gpu);
  for (const [pattern, name] of SOFTWARE) if (pattern.test(text)) return name;
  return gpu.fallback ? text || 'fallback adapter' : null;
}

/** The cache key of a verdict: the adapter as the browser describes it, and the browser. */
export function probeKey(gpu, userAgent = globalThis.navigator?.userAgent ?? '') {
  const browser = userAgent.match(/(Chrome|Firefox|Safari|Edg)\/(\d+)/)?.slice(1, 3).join(' ') ?? userAgent;
  return [`v${PROBE_VERSION}`, gpu.vendor, gpu.architecture, gpu.device, gpu.description, gpu.fallback ? 'fallback' : '', browser].join('|');
}

/** Why there is no WebGPU engine, in plain words (wgpu's own text names compiled-out backends). */
export function unavailableReason(gpu, engineMessage) {
  if (gpu && !gpu.present) return 'this browser has no WebGPU';
  if (gpu && !gpu.available) return 'this browser exposes WebGPU but no GPU adapter';
  const first = String(engineMessage ?? '').split('\n')[0].trim();
  return first ? `WebGPU did not start: ${first}` : 'WebGPU did not start';
}

// Deterministic inputs in [-1, 1): the same work on both backends.
function values(n, seed) {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

const BATCH = 64;
const FEATURES = 784;
const UNITS = 128;
const inputs = { x: values(BATCH * FEATURES, 1), w: values(FEATURES * UNITS, 2) };

// A dense layer's forward pass on a batch of MNIST-sized rows, and one number read back,
// as fit reads its loss: on a software adapter the readback is a large part of the cost,
// so it is in the measure. No convolution: SwiftShader compiles the conv2d pipeline for
// minutes, during which the page cannot paint; the three pipelines used here compile in
// seconds and already tell a software adapter from a fast one.
async function workload(engine) {
  const started = performance.now();
  const made = [];
  const keep = (t) => (made.push(t), t);
  try {
    const x = keep(engine.tensor(inputs.x, [BATCH, FEATURES]));
    const w = keep(engine.tensor(inputs.w, [FEATURES, UNITS]));
    await keep(keep(keep(x.matmul(w)).relu()).sum()).data();
  } finally {
    for (const t of made) t.free();
  }
  return performance.now() - started;
}

/** How long the adapter may take for the whole workload, compiling its pipelines included. */
export const GPU_BUDGET_MS = 3000;

/** A cold run (pipelines compiled, buffers made) and a few warm ones: their total time. */
async function timeWorkload(engine, warmRuns = 2) {
  let total = await workload(engine);
  for (let i = 0; i < warmRuns; i++) total += await workload(engine);
  return total;
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Times both engines on the same work from a cold start: compiling pipelines is part of
 * what a software adapter costs (SwiftShader takes minutes for a convnet's), so it counts.
 * The adapter gets GPU_BUDGET_MS; one that is not done by then has lost, by at least
 * that much. Resolves to {verdict, gpuSettled} (the adapter's run, which cannot be
 * cancelled, may still be going: free its engine after `gpuSettled`).
 */
export async function probe(gpuEngine, cpuEngine, { key, adapter, budgetMs = GPU_BUDGET_MS }) {
  const started = performance.now();
  const cpuMs = await timeWorkload(cpuEngine);
  const gpuRun = timeWorkload(gpuEngine);
  const gpuSettled = gpuRun.then(() => {}, () => {});
  const gpuMs = await Promise.race([gpuRun.catch(() => Infinity), delay(budgetMs).then(() => null)]);
  const base = { key, adapter, cpuMs, probeMs: performance.now() - started, measuredAt: Date.now() };
  if (gpuMs === null || gpuMs === Infinity) {
    return { verdict: { ...base, picked: 'cpu', gpuMs: budgetMs, ratio: budgetMs / cpuMs, atLeast: true }, gpuSettled };
  }
  const picked = gpuMs <= cpuMs ? 'webgpu' : 'cpu';
  return { verdict: { ...base, picked, gpuMs, ratio: picked === 'cpu' ? gpuMs / cpuMs : cpuMs / gpuMs }, gpuSettled };
}

const times = (ratio) => (ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(1));

/** The measured reason, in the badge's words. */
export function verdictText(verdict) {
  return verdict.picked === 'cpu'
    ? `${verdict.adapter} WebGPU was ${verdict.atLeast ? 'over ' : ''}${times(verdict.ratio)}× slower in a probe`
    : `${verdict.adapter} WebGPU was ${times(verdict.ratio)}× faster than the CPU in a probe`;
}

function fromVerdict(how, verdict) {
  const text = verdictText(verdict);
  return verdict.picked === 'cpu' ? { how, verdict, reason: text } : { how, verdict, note: text };
}

/**
 * The engine for `want` ("auto" | "webgpu" | "cpu") and how it was chosen: {engine,
 * choice: {how: "requested" | "adapter" | "probe" | "cached" | "unavailable", verdict?,
 * reason?}}. `gpu` is adapterInfo(); `verdicts` the page's remembered verdicts by key.
 */
export async function chooseEngine(Engine, want, gpu, verdicts = {}) {
  if (want === 'webgpu') {
    try {
      return { engine: await Engine.create('webgpu'), choice: { how: 'requested' } };
    } catch (e) {
      // A notebook without an engine helps nobody (after a lost GPU the kernel restarts
      // with the same request): run on the CPU and say why the request was not met.
      const reason = `${unavailableReason(gpu, e?.message)}, so the CPU runs in place of the WebGPU asked for`;
      return { engine: await Engine.create('cpu'), choice: { how: 'unavailable', reason } };
    }
  }
  if (want !== 'auto') return { engine: await Engine.create(want), choice: { how: 'requested' } };
  if (!gpu?.available) {
    return { engine: await Engine.create('cpu'), choice: { how: 'unavailable', reason: unavailableReason(gpu) } };
  }
  const software = softwareAdapterName(gpu);
  if (!software) return created(await Engine.create('auto'), gpu, { how: 'adapter' });
  const key = probeKey(gpu);
  const remembered = verdicts[key];
  if (remembered) return created(await Engine.create(remembered.picked === 'cpu' ? 'cpu' : 'auto'), gpu, fromVerdict('cached', remembered));
  let gpuEngine;
  try {
    gpuEngine = await Engine.create('webgpu');
  } catch (e) {
    return { engine: await Engine.create('cpu'), choice: { how: 'unavailable', reason: unavailableReason(gpu, e?.message) } };
  }
  const cpuEngine = await Engine.create('cpu');
  const { verdict, gpuSettled } = await probe(gpuEngine, cpuEngine, { key, adapter: software });
  if (verdict.picked === 'cpu') gpuSettled.then(() => gpuEngine.free());
  else cpuEngine.free();
  const engine = verdict.picked === 'cpu' ? cpuEngine : gpuEngine;
  return { engine, choice: fromVerdict('probe', verdict) };
}

// "auto" may still have fallen back to the CPU inside the engine; say why in plain words.
function created(engine, gpu, choice) {
  const info = engine.backend();
  if (info.kind === 'cpu' && choice.how !== 'cached') return { engine, choice: { how: 'unavailable', reason: unavailableReason(gpu, info.reason) } };
  return { engine, choice };
}
