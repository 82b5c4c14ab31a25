// The page's handle on the kernel worker: starts it, sends cells, routes the outputs
// and widget updates it sends back to whoever asked, and interrupts or restarts it.
// Events: "status" (detail: state), "ready" (detail: backend info), "recovering" and
// "recovered" (detail: why) around a restart the kernel does by itself: after a Rust
// panic (the wasm instance is poisoned) or a lost GPU device.

import workerUrl from './worker.js?worker&url';
import { loadVerdicts, saveVerdict } from './probe-verdicts.js';

/** How long a cell may keep running on a lost device before the kernel restarts anyway. */
const LOST_DEVICE_GRACE_MS = 5000;

let nextExec = 1;

// A worker script must be same-origin. When the notebook's files come from another
// origin (an embedded cell on someone's blog), start a same-origin blob worker that
// imports the real one; module imports across origins only need CORS.
function spawnWorker() {
  const url = new URL(workerUrl, import.meta.url);
  if (url.origin === location.origin) return new Worker(url, { type: 'module', name: 'convbook-kernel' });
  const blob = new Blob([`import ${JSON.stringify(url.href)};`], { type: 'text/javascript' });
  return new Worker(URL.createObjectURL(blob), { type: 'module', name: 'convbook-kernel' });
}

export class Kernel extends EventTarget {
  /** options: {backend: "auto" | "webgpu" | "cpu", pkgUrl, wasm: "auto" | "simd128" (see wasm-build.js)} */
  constructor(options = {}) {
    super();
    this.options = options;
    this.state = 'stopped';
    this.backend = null;
    this.listeners = new Map();
    this.handles = new Map();
    this.pending = new Map();
    this.worker = null;
    // Why the GPU was lost, until the kernel is back on a new device (the badge shows it).
    this.deviceLost = null;
    this.recovering = null;
    // Counts workers; a cell that waited for a worker which was replaced (a restart while
    // it was starting) must not run on, or wait for, the next one.
    this.generation = 0;
  }

  setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('status', { detail: state }));
  }

  start() {
    if (this.worker) return this.ready;
    this.setState('starting');
    const worker = spawnWorker();
    this.worker = worker;
    this.generation += 1;
    this.ready = new Promise((resolve) => (this.resolveReady = resolve));
    worker.onmessage = ({ data }) => this.receive(data);
    worker.onerror = (event) => {
      event.preventDefault?.();
      this.fail(`the kernel worker failed: ${event.message || 'could not load its script'}`);
    };
    const { backend = 'auto', pkgUrl, wasm = 'auto' } = this.options;
    worker.postMessage({ type: 'init', backend, pkgUrl, wasm, verdicts: loadVerdicts() });
    return this.ready;
  }

  /** Ends the current worker; whoever still waits for it to be ready is let go. */
  stopWorker() {
    this.worker?.terminate();
    this.worker = null;
    this.resolveReady?.(null);
    this.resolveReady = null;
  }

  fail(reason) {
    this.failure = reason;
    this.finishAll('error', reason);
    this.stopWorker();
    this.setState('dead');
  }

  receive(data) {
    if (data.type === 'batch') {
      for (const m of data.messages) this.receive(m);
      return;
    }
    switch (data.type) {
      case 'ready':
        this.backend = this.recovering ? { ...data.backend, recovered: this.recovering } : data.backend;
        if (this.recovering) this.dispatchEvent(new CustomEvent('recovered', { detail: this.recovering }));
        this.recovering = null;
        this.deviceLost = null;
        if (data.backend?.choice?.how === 'probe') saveVerdict(data.backend.choice.verdict);
        // {Class: [positional argument names]} from the engine, for completion.
        this.signatures = data.signatures ?? this.signatures ?? null;
        this.setState('idle');
        this.dispatchEvent(new CustomEvent('ready', { detail: data.backend }));
        this.resolveReady?.(data.backend);
        this.resolveReady = null;
        break;
      case 'output':
        if (data.output.handle) this.handles.set(data.output.handle, data.exec);
        this.listeners.get(data.exec)?.onOutput?.(data.output);
        break;
      case 'update':
        this.listeners.get(this.handles.get(data.handle))?.onUpdate?.(data.handle, data.update);
        break;
      case 'started':
        this.listeners.get(data.exec)?.onStart?.(data.count);
        break;
      case 'result': {
        const done = this.pending.get(data.exec);
        this.pending.delete(data.exec);
        if (this.pending.size === 0) this.setState('idle');
        done?.({ status: data.status, count: data.count });
        if (this.pending.size === 0 && this.restartWanted) this.recover(this.restartWanted);
        break;
      }
      case 'device-lost':
        this.deviceLost = data.reason;
        this.setState(this.state);
        this.recoverWhenIdle(`the GPU device was lost (${data.reason})`, LOST_DEVICE_GRACE_MS);
        break;
      case 'restart-needed':
        this.recoverWhenIdle(data.why, 0);
        break;
    }
  }

  /**
   * Restarts on a fresh worker (a fresh wasm instance, a new GPU device) once the running
   * cell has reported; after `graceMs` it does not wait any longer.
   */
  recoverWhenIdle(why, graceMs) {
    // The old worker's last messages (a device loss, then its cell's crash) ask once more.
    if (this.recovering) return this.ready;
    if (this.pending.size === 0) return this.recover(why);
    this.restartWanted = why;
    clearTimeout(this.graceTimer);
    this.graceTimer = setTimeout(() => this.restartWanted && this.recover(why), graceMs);
  }

  recover(why) {
    clearTimeout(this.graceTimer);
    this.restartWanted = null;
    this.recovering = why;
    this.dispatchEvent(new CustomEvent('recovering', { detail: why }));
    this.stopWorker();
    this.finishAll('error', `${why}; the kernel restarted`);
    this.handles.clear();
    return this.start();
  }

  /**
   * Runs `code`; resolves to {status: "ok" | "error" | "interrupted" | "restarted", count}.
   * listener: {onStart(count), onOutput(output), onUpdate(handle, update)}; it keeps
   * receiving late output until `forget(exec)`, which the returned `exec` names.
   */
  execute(code, listener = {}) {
    const exec = `e${nextExec++}`;
    this.listeners.set(exec, listener);
    const ready = this.start();
    const generation = this.generation;
    const result = ready.then(
      () =>
        new Promise((resolve) => {
          if (generation !== this.generation) return resolve({ status: 'restarted', count: null });
          if (!this.worker) return resolve({ status: 'error', count: null, reason: this.failure });
          this.pending.set(exec, resolve);
          this.setState('busy');
          this.worker.postMessage({ type: 'execute', exec, code });
        }),
    );
    return { exec, result };
  }

  forget(exec) {
    this.listeners.delete(exec);
    for (const [handle, owner] of this.handles) if (owner === exec) this.handles.delete(handle);
  }

  interrupt() {
    this.worker?.postMessage({ type: 'interrupt' });
  }

  /** Answers a widget that waits for the page (a file picker's chosen Files). */
  reply(handle, payload) {
    this.worker?.postMessage({ type: 'reply', handle, payload });
  }

  finishAll(status, reason) {
    for (const done of this.pending.values()) done({ status, count: null, reason });
    this.pending.clear();
  }

  shutdown() {
    this.stopWorker();
    this.finishAll('restarted');
    this.setState('stopped');
  }

  /** Stops the worker outright (the only way out of a loop that never awaits). */
  restart() {
    clearTimeout(this.graceTimer);
    this.restartWanted = null;
    this.stopWorker();
    this.finishAll('restarted');
    this.handles.clear();
    return this.start();
  }
}
