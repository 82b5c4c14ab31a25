// One kernel per notebook, as in Jupyter: chapters do not see each other's variables
// (two chapters may well both call something `W`). Recently used kernels stay alive so
// going back to a chapter keeps its state; older ones are shut down to free memory.

import { Kernel } from '../kernel/client.js';
import { Scheduler } from './scheduler.js';

const KEEP = 3;

export class Sessions {
  constructor(kernelOptions) {
    this.kernelOptions = kernelOptions;
    this.open = new Map();
  }

  /** The {kernel, scheduler} of notebook `id`, started if needed. */
  get(id) {
    let session = this.open.get(id);
    if (session) {
      this.open.delete(id);
    } else {
      const kernel = new Kernel(this.kernelOptions);
      session = { id, kernel, scheduler: new Scheduler(kernel) };
      kernel.start();
    }
    this.open.set(id, session);
    for (const [oldId, old] of this.open) {
      if (this.open.size <= KEEP) break;
      if (old.scheduler.busy) continue;
      old.kernel.shutdown();
      this.open.delete(oldId);
    }
    return session;
  }

  /** Forgets notebook `id`'s kernel (its file was replaced by an import). */
  close(id) {
    this.open.get(id)?.kernel.shutdown();
    this.open.delete(id);
  }
}
