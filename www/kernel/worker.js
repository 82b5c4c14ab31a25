// The kernel: a dedicated worker that owns the engine and runs cell code, so a long
// computation never freezes the page. It talks to the page only through messages:
// the page sends init/execute/interrupt, the kernel answers with batches of outputs,
// widget updates and results (see client.js for the page side).

import { AWAIT, SCOPE, rewriteCell } from './transform.js';
import { compile, errorOutput } from './errors.js';
import { clearInterrupt, interruptibleAwait, InterruptedError, requestInterrupt } from './interrupt.js';
import { connect, emitNow, emitOutput, flush, setCurrentExec } from './outbox.js';
import { cellValueOutput, createDisplay, forgetPrinted } from './display.js';
import { createKernelApi } from './kernel-api.js';
import { captureConsole, original } from './console.js';
import { adapterInfo } from './adapter.js';
import { cellGlobals, loadEngine, tensorTools } from './bridge.js';
import { kerasGlobals } from './keras.js';
import { datasetGlobals } from './datasets.js';
import { imageUtils } from './image-utils.js';
import { stopTapes } from './gradient-tape.js';
import { pickFiles, receiveReply } from './file-picker.js';

const post = self.postMessage.bind(self);
connect(post);

let loaded = null;
let backend = null;
let tools = tensorTools(null);
let display = createDisplay(tools);
// Names cells share. Builtins sit on the prototype, so a cell may shadow `display` or
// `tensor` without losing them for good, and nothing leaks in from Object.prototype.
const builtins = Object.create(null);
const scope = Object.create(builtins);
// Source of every execution, by number: error frames from functions defined in an
// earlier cell still point at that cell's text.
const cells = new Map();
let executionCount = 0;
let chain = Promise.resolve();
// The execution in progress, for a crash that never returns to `execute`.
let running = null;

// A Rust panic aborts the wasm instance ("RuntimeError: unreachable"); nothing in it can
// be trusted afterwards. The panic hook (src/wasm/mod.rs) hands the message here first.
let panicMessage = null;
let deviceLost = null;
let crashed = false;
self.__convbookPanic = (message) => {
  panicMessage ??= String(message);
};

const LOST_STATE =
  'The kernel restarts on a fresh engine by itself; your edits are kept, but the variables of this ' +
  "chapter's kernel were lost: re-run the cells above.";

/** Why the engine cannot go on after `error`, or null when it can. */
function crashOf(error) {
  if (panicMessage) return `The engine panicked: ${panicMessage}`;
  if (typeof WebAssembly !== 'undefined' && error instanceof WebAssembly.RuntimeError) return `The engine crashed: ${error.message}`;
  if (deviceLost) return `The GPU device was lost (${deviceLost}).`;
  return null;
}

/** Tells the cell and the page once; the page then starts a fresh worker. */
function reportCrash(why, exec = running?.exec, count = running?.count) {
  if (crashed) return;
  crashed = true;
  emitOutput({ kind: 'stream', name: 'stderr', text: `${why}\n${LOST_STATE}\n` });
  if (exec) emitNow({ type: 'result', exec, status: 'error', count });
  emitNow({ type: 'restart-needed', why });
}

async function init({ pkgUrl, backend: want, verdicts, wasm }) {
  let failure = null;
  const gpu = await adapterInfo();
  try {
    loaded = await loadEngine({ pkgUrl, backend: want, gpu, verdicts, wasm });
  } catch (e) {
    failure = e?.message ?? String(e);
    original.error('convbook: the engine did not load:', e);
  }
  tools = tensorTools(loaded);
  display = createDisplay(tools);
  backend = { ...(loaded?.info ?? { kind: 'none', description: 'engine not loaded', reason: failure }), gpu };
  const print = (...args) => console.log(...args);
  const { keras, layers, zip } = kerasGlobals(loaded, display);
  const { datasets, kerasDatasets, utils } = datasetGlobals(loaded, display, { pickFiles });
  if (keras) Object.assign(keras, { datasets: kerasDatasets, utils: { ...utils, ...imageUtils(datasets, display) } });
  Object.assign(builtins, cellGlobals(loaded, failure), {
    keras,
    layers,
    zip,
    datasets,
    files: { pick: pickFiles, fetch: datasets?.fetch },
    display,
    print,
    kernel: createKernelApi({ display, info: () => backend }),
    InterruptedError,
    [AWAIT]: interruptibleAwait,
  });
  loaded?.engine?.onDeviceLost?.((reason) => {
    deviceLost = reason;
    emitNow({ type: 'device-lost', reason });
  });
  captureConsole(display);
  // The layers' positional arguments, for the page's completion (the editor has no engine).
  let signatures = null;
  try {
    signatures = loaded?.engine.layerSignatures() ?? null;
  } catch {
    /* completion then lists names only */
  }
  emitNow({ type: 'ready', backend, signatures });
}

async function execute({ exec, code }) {
  const count = ++executionCount;
  setCurrentExec(exec);
  clearInterrupt();
  forgetPrinted();
  cells.set(count, { source: code, prefixLength: 0 });
  emitNow({ type: 'started', exec, count });
  running = { exec, count };
  let status = 'ok';
  try {
    const { code: body, declared, prefixLength } = rewriteCell(code, count);
    cells.set(count, { source: code, prefixLength });
    for (const name of declared) if (!Object.hasOwn(scope, name)) scope[name] = undefined;
    const fn = await compile({ params: [SCOPE], body }, count);
    const output = await cellValueOutput(await fn(scope), tools);
    if (output) emitOutput(output);
  } catch (error) {
    status = error instanceof InterruptedError ? 'interrupted' : 'error';
    emitOutput(errorOutput(error, { exec: count, cells }));
    const crash = crashOf(error);
    if (crash) return reportCrash(crash, exec, count);
  } finally {
    // A GradientTape's scope ends with the cell, as a `with` block would.
    stopTapes();
  }
  running = null;
  emitNow({ type: 'result', exec, status, count });
}

const handlers = {
  init: (msg) => (chain = chain.then(() => init(msg))),
  execute: (msg) => (chain = chain.then(() => execute(msg))),
  // Not chained: it must land while an execution is awaiting.
  interrupt: () => requestInterrupt(),
  // Not chained either: the page answers a widget (files.pick) while its cell awaits.
  reply: ({ handle, payload }) => receiveReply(handle, payload),
};

self.onmessage = ({ data }) => handlers[data?.type]?.(data);

// Work a cell started but did not await (a forgotten `await display.image(...)`) can
// still fail after the cell is done; show it instead of losing it.
self.addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  emitOutput(errorOutput(event.reason, { exec: executionCount, cells }));
  flush();
  const crash = crashOf(event.reason);
  if (crash) reportCrash(crash);
});

// A panic inside an async engine call surfaces here (from wasm-bindgen's task queue), and
// the cell's promise never settles: end the cell from here.
self.addEventListener('error', (event) => {
  const crash = crashOf(event.error);
  if (!crash) return;
  event.preventDefault();
  if (event.error) emitOutput(errorOutput(event.error, { exec: executionCount, cells }));
  reportCrash(crash);
});
