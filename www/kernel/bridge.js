// The only module that imports the wasm package. It loads the engine, adapts it to the
// kernel (interrupt-aware readback, scoped disposal) and decides what engine names
// cells see. When the Keras-shaped API lands (keras, layers, Model.fit), it is added to
// `cellGlobals` here and nothing else in the notebook has to change.

import { throwIfInterrupted } from './interrupt.js';
import { formatTensorValues } from './tensor-format.js';
import { createTensorHelpers } from './tensor-helpers.js';
import { chooseEngine } from './backend-choice.js';
import { initWasm } from './wasm-build.js';

// Resolved against this module's URL at run time (not bundled): the notebook build does
// not depend on the Rust build, and www/pkg can be rebuilt without rebuilding the page.
// Both in the sources (www/kernel/) and in the build (dist/assets/) this is <root>/pkg/.
const DEFAULT_PKG = '../pkg/convbook.js';

/**
 * `gpu` is adapterInfo(); `verdicts` the probe verdicts the page remembers (see
 * backend-choice.js); `wasm` which wasm build to run ('auto' or 'simd128', see
 * wasm-build.js; the engine's info names the one that runs, in `simd`). `info` says how the backend was chosen (`choice`) and, on the CPU,
 * why (`reason`, in plain words).
 */
export async function loadEngine({ pkgUrl, backend = 'auto', gpu, verdicts, wasm = 'auto' } = {}) {
  const url = new URL(pkgUrl ?? DEFAULT_PKG, import.meta.url).href;
  const pkg = await import(/* @vite-ignore */ url);
  // `wasm: 'simd128'` keeps the plain build where relaxed SIMD would run (a fallback test).
  await initWasm(pkg, url, wasm);
  const { engine, choice } = await chooseEngine(pkg.Engine, backend, gpu, verdicts);
  adaptTensor(pkg.Tensor);
  trackCreations(pkg.Engine.prototype, pkg.Tensor, ['constructor', 'free', 'backend', 'stats', 'sync']);
  // The embedded demo data sits beside pkg/ (<root>/data/), wherever the notebook is embedded.
  const dataBase = new URL('../data/', url).href;
  const info = engine.backend();
  return { engine, Tensor: pkg.Tensor, info: { ...info, choice, reason: choice.reason ?? info.reason }, pkg, dataBase };
}

const disposed = new WeakSet();
const adapted = new WeakSet();
const scopes = [];

// wasm-bindgen zeroes `__wbg_ptr` when a handle is consumed (dispose, or passed by
// value to concat); disposing it again would hand Rust a null pointer.
function alive(t) {
  return !disposed.has(t) && t.__wbg_ptr !== 0;
}

// Every method that returns a new tensor records it in the innermost tidy scope.
function trackCreations(proto, Tensor, skip) {
  if (adapted.has(proto)) return;
  adapted.add(proto);
  for (const name of Object.getOwnPropertyNames(proto)) {
    const desc = Object.getOwnPropertyDescriptor(proto, name);
    if (typeof desc.value !== 'function' || skip.includes(name)) continue;
    const method = desc.value;
    proto[name] = function (...args) {
      const out = method.apply(this, args);
      if (out instanceof Tensor) scopes.at(-1)?.push(out);
      return out;
    };
  }
}

function adaptTensor(Tensor) {
  const proto = Tensor.prototype;
  if (adapted.has(proto)) return;
  trackCreations(proto, Tensor, ['constructor', 'free', 'dispose', 'data', 'toString']);
  for (const name of ['dispose', 'free']) {
    const method = proto[name];
    proto[name] = function () {
      if (!alive(this)) return;
      disposed.add(this);
      method.call(this);
    };
  }
  // Shapes as plain arrays: they print as [2, 3] and have every array method.
  const shape = Object.getOwnPropertyDescriptor(proto, 'shape');
  if (shape?.get) {
    Object.defineProperty(proto, 'shape', { get() { return Array.from(shape.get.call(this)); }, configurable: true });
  }
  // Readback is where a training loop waits anyway: a natural interrupt point.
  const data = proto.data;
  proto.data = async function () {
    const values = await data.call(this);
    throwIfInterrupted();
    return values;
  };
}

/**
 * Runs `fn` and disposes every tensor created inside it except those it returns (a
 * tensor, or an array/object of tensors). Synchronous only: across an await, tensors
 * from other code would be caught too.
 */
export function tidy(fn) {
  const created = [];
  scopes.push(created);
  let result;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result && typeof result.then === 'function') {
    throw new Error('tidy(fn): fn must be synchronous; await outside tidy');
  }
  const keep = new Set(result && typeof result === 'object' ? (Array.isArray(result) ? result : [result, ...Object.values(result)]) : []);
  for (const t of created) {
    if (keep.has(t)) scopes.at(-1)?.push(t);
    else if (alive(t)) t.dispose();
  }
  return result;
}

export function tensorTools(loaded) {
  const isTensor = (v) => !!loaded && v instanceof loaded.Tensor;
  const read = async (t) => ({ values: await t.data(), shape: Array.from(t.shape), dtype: t.dtype });
  const describe = (t, { values, shape, dtype }) =>
    `Tensor ${dtype} [${shape.join(', ')}]\n${formatTensorValues(values, shape, dtype)}`;
  return { isTensor, read, describe };
}

/** Engine names visible to cells. `failure` explains a missing engine on first use. */
export function cellGlobals(loaded, failure) {
  if (!loaded) {
    const missing = () => {
      throw new Error(`the engine is not available: ${failure}`);
    };
    return { engine: undefined, tensor: missing, zeros: missing, ones: missing, rand: missing, randn: missing, tidy };
  }
  const { engine, Tensor } = loaded;
  return { engine, Tensor, tidy, ...createTensorHelpers(engine) };
}
