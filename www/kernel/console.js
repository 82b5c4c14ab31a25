// Routes the worker's console to cell outputs; the original methods stay reachable for
// the kernel's own diagnostics.

import { emitOutput } from './outbox.js';
import { formatArgs } from './inspect.js';

export const original = { ...console };

export function captureConsole(display) {
  const stream = (name) => (...args) => emitOutput({ kind: 'stream', name, text: formatArgs(args) + '\n' });
  console.log = stream('stdout');
  console.info = stream('stdout');
  console.debug = stream('stdout');
  console.warn = stream('warn');
  console.error = stream('stderr');
  console.table = (rows, columns) => display.table(Array.isArray(rows) ? rows : Object.values(rows ?? {}), { columns });
}
