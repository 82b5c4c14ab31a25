// Everything the kernel tells the page goes through here, batched: a training loop that
// updates a progress bar and a chart every step would otherwise post thousands of
// messages. Pending updates to the same widget are merged before they are sent.

let post = () => {};
let queue = [];
let transfers = [];
let timer = null;
let currentExec = null;

export function connect(poster) {
  post = poster;
}

/** The execution that output without an explicit owner belongs to. */
export function setCurrentExec(id) {
  currentExec = id;
}

export function getCurrentExec() {
  return currentExec;
}

function schedule() {
  if (timer === null) timer = setTimeout(flush, 16);
  if (queue.length > 256) flush();
}

export function flush() {
  if (timer !== null) {
    clearTimeout(timer);
    timer = null;
  }
  if (queue.length === 0) return;
  const messages = queue;
  const transfer = transfers;
  queue = [];
  transfers = [];
  post({ type: 'batch', messages }, transfer);
}

/** A new output for the page, e.g. {kind: 'stream', name: 'stdout', text}. */
export function emitOutput(output, { exec = currentExec, transfer = [] } = {}) {
  queue.push({ type: 'output', exec, output });
  transfers.push(...transfer);
  schedule();
}

/**
 * An update to a widget already emitted. `merge(pending, update)` folds the update into
 * a pending one for the same handle (last wins by default).
 */
export function emitUpdate(handle, update, merge = (_, u) => u) {
  const pending = queue.findLast((m) => m.type === 'update' && m.handle === handle);
  if (pending) {
    pending.update = merge(pending.update, update);
  } else {
    queue.push({ type: 'update', handle, update });
  }
  schedule();
}

/** Control messages (ready, result) go out at once, after any output before them. */
export function emitNow(message) {
  queue.push(message);
  flush();
}
