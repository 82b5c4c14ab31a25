// Runs cells one at a time on the kernel, in the order they were asked for. Like
// Jupyter, a failing or interrupted cell cancels the cells queued after it: they
// probably depend on it.

export class Scheduler extends EventTarget {
  constructor(kernel) {
    super();
    this.kernel = kernel;
    this.queue = [];
    this.running = null;
  }

  enqueue(cells) {
    for (const cell of cells) {
      if (this.queue.includes(cell)) continue;
      this.queue.push(cell);
      if (cell !== this.running) cell.setState('queued');
    }
    this.changed();
    if (!this.running) this.loop();
  }

  async loop() {
    while (this.queue.length) {
      const cell = this.queue.shift();
      this.running = cell;
      this.changed();
      const status = await cell.execute(this.kernel);
      this.running = null;
      if (status !== 'ok') this.cancel();
    }
    this.changed();
  }

  /** Un-queues everything not yet started. */
  cancel() {
    for (const cell of this.queue) cell.setState('idle');
    this.queue = [];
    this.changed();
  }

  interrupt() {
    this.cancel();
    this.kernel.interrupt();
  }

  /** Resolves once nothing runs or waits (after a restart, the cell that was running reports). */
  settled() {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.busy) return;
        this.removeEventListener('change', check);
        resolve();
      };
      this.addEventListener('change', check);
    });
  }

  get busy() {
    return !!this.running || this.queue.length > 0;
  }

  changed() {
    this.dispatchEvent(new Event('change'));
  }
}
