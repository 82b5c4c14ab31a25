// Cooperative interruption. A worker cannot be pre-empted without killing it (and the
// variables with it), so the page posts "interrupt", the flag is set when that message
// is handled, and kernel helpers check it at their await points.

export class InterruptedError extends Error {
  constructor(message = 'Interrupted by the user') {
    super(message);
    this.name = 'InterruptedError';
  }
}

let requested = false;
const sleepers = new Set();

export function requestInterrupt() {
  requested = true;
  for (const wake of sleepers) wake();
}

/**
 * Calls `wake` when an interrupt is requested, so a wait on something other than time (a
 * reply from the page) can reject at once. Returns a function that stops listening.
 */
export function onInterrupt(wake) {
  sleepers.add(wake);
  return () => sleepers.delete(wake);
}

export function clearInterrupt() {
  requested = false;
}

export function interruptRequested() {
  return requested;
}

export function throwIfInterrupted() {
  if (requested) throw new InterruptedError();
}

let lastTurn = performance.now();

// setTimeout(0) is clamped to 4 ms once nested; a MessageChannel round trip is not, and
// it still lets the worker's queued "interrupt" message be handled first.
export function yieldToEventLoop() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      lastTurn = performance.now();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** How long a cell may run on microtasks alone before the "interrupt" message gets a turn. */
const TURN_EVERY_MS = 50;

/**
 * What every `await x` in a cell awaits instead (transform.js rewrites them): `x`, but
 * an interrupt rejects it even while `x` never settles, and a loop that only awaits
 * `null` or settled promises (microtasks, which never let a message in) gives the event
 * loop a turn every few milliseconds, so the interrupt is seen.
 */
export async function interruptibleAwait(value, cell, line, column) {
  throwIfInterrupted();
  let result = value;
  if (value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function') {
    let stop = () => {};
    const interrupted = new Promise((_, reject) => {
      stop = onInterrupt(() => reject(new InterruptedError()));
    });
    try {
      result = await Promise.race([value, interrupted]);
    } catch (error) {
      // The innermost await a rejection passes through is where the cell waited for it.
      if (line && error && typeof error === 'object' && !error.awaitedAt) {
        try {
          error.awaitedAt = { cell, line, column };
        } catch {
          /* a frozen error keeps no place */
        }
      }
      throw error;
    } finally {
      stop();
    }
  }
  if (performance.now() - lastTurn > TURN_EVERY_MS) await yieldToEventLoop();
  throwIfInterrupted();
  return result;
}

export async function checkInterrupt() {
  await yieldToEventLoop();
  throwIfInterrupted();
}

// Wakes early on interrupt so a long sleep never delays the stop.
export function sleep(ms = 0) {
  throwIfInterrupted();
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      sleepers.delete(done);
      if (requested) reject(new InterruptedError());
      else resolve();
    };
    const timer = setTimeout(done, ms);
    sleepers.add(done);
  });
}
