// Downloads for cells: a failed fetch names the URL and what to do offline, and a big
// body is read chunk by chunk, so it moves a byte progress bar and a reader's Interrupt
// stops it between chunks. Shared by datasets and application weights.

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

/**
 * The bytes at `href`. `offline` ends the message of a failed fetch (what to do without a
 * network); bodies of at least `progressFrom` bytes (by content-length, else `expected`)
 * show a progress bar on `display`.
 */
export async function download(href, { display, label, expected = 0, progressFrom = 0, offline }) {
  let response;
  try {
    response = await fetch(href);
  } catch (e) {
    throw new Error(`${href}: could not be fetched (${e?.message ?? e})${offline}`);
  }
  if (!response.ok) throw new Error(`${href}: HTTP ${response.status} ${response.statusText}`.trim());
  const total = Number(response.headers.get('content-length')) || expected || 0;
  if (!response.body || total < progressFrom) return new Uint8Array(await response.arrayBuffer());
  const bar = display?.progress({ total: total || 1, unit: 'bytes', label: label ?? `downloading ${href.split('/').pop()}` });
  return readBody(response, { bar, total });
}
