// Reads a download's body chunk by chunk, so a big file moves a byte progress bar and a
// reader's Interrupt stops it between chunks. Shared by datasets and application weights.

import { throwIfInterrupted } from './interrupt.js';

/**
 * The whole body of `response` as bytes; `bar` (a display.progress handle, optional) is
 * advanced to `total` bytes (0 when the size is unknown).
 */
export async function readBody(response, { bar, total }) {
  const chunks = [];
  let received = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    bar?.update(total ? Math.min(received, total) : 0);
    throwIfInterrupted();
  }
  bar?.done();
  const bytes = new Uint8Array(received);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}
