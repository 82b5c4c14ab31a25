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

/** The response for `href`; a failed fetch names the URL and ends with `offline`. */
async function fetchOk(href, offline) {
  let response;
  try {
    response = await fetch(href);
  } catch (e) {
    throw new Error(`${href}: could not be fetched (${e?.message ?? e})${offline}`);
  }
  if (!response.ok) throw new Error(`${href}: HTTP ${response.status} ${response.statusText}`.trim());
  return response;
}

/** The body's size by content-length, else `expected`, else 0 (unknown). */
const sizeOf = (response, expected) => Number(response.headers.get('content-length')) || expected || 0;

const barFor = (display, label, href, total) =>
  display?.progress({ total: total || 1, unit: 'bytes', label: label ?? `downloading ${href.split('/').pop()}` });

/**
 * The bytes at `href`. `offline` ends the message of a failed fetch (what to do without a
 * network); bodies of at least `progressFrom` bytes (by content-length, else `expected`)
 * show a progress bar on `display`.
 */
export async function download(href, { display, label, expected = 0, progressFrom = 0, offline }) {
  const response = await fetchOk(href, offline);
  const total = sizeOf(response, expected);
  if (!response.body || total < progressFrom) return new Uint8Array(await response.arrayBuffer());
  return readBody(response, { bar: barFor(display, label, href, total), total });
}

/**
 * The body at `href` as a stream that is never collected here: each chunk moves a byte
 * progress bar on `display` and passes on, and a reader's Interrupt errors the stream
 * between chunks (`interrupted()` then says so). For bodies written straight to storage
 * (Cache Storage), so no whole copy of them is ever in memory.
 */
export async function downloadStream(href, { display, label, offline }) {
  const response = await fetchOk(href, offline);
  const total = sizeOf(response, 0);
  const bar = barFor(display, label, href, total);
  let received = 0;
  let stopped = null;
  const counter = new TransformStream({
    transform(chunk, controller) {
      received += chunk.length;
      bar?.update(total ? Math.min(received, total) : 0);
      try {
        throwIfInterrupted();
      } catch (e) {
        stopped = e;
        throw e;
      }
      controller.enqueue(chunk);
    },
    flush() {
      bar?.done();
    },
  });
  const body = response.body ? response.body.pipeThrough(counter) : new Response(await response.arrayBuffer()).body;
  return { body, interrupted: () => stopped };
}
