// The `kernel` object cells see: cooperative interruption and pacing helpers. Long
// loops in cells should go through these (or await tensor readback) so that the
// Interrupt button can stop them between steps.

import { InterruptedError, checkInterrupt, interruptRequested, sleep, yieldToEventLoop } from './interrupt.js';

export function createKernelApi({ display, info }) {
  /**
   * `for await (const i of kernel.range(n))`: yields 0..n-1, checking for interrupts
   * before each step. opts.progress (true or a label) adds a progress bar.
   */
  async function* range(n, opts = {}) {
    const bar = opts.progress ? display.progress({ total: n, label: opts.progress === true ? '' : String(opts.progress) }) : null;
    for (let i = 0; i < n; i++) {
      await checkInterrupt();
      yield i;
      bar?.update(i + 1);
    }
    bar?.done();
  }

  return {
    checkInterrupt,
    sleep,
    range,
    yield: yieldToEventLoop,
    InterruptedError,
    get interrupted() {
      return interruptRequested();
    },
    get backend() {
      return info();
    },
  };
}
