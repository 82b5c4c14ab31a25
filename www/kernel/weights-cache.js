// Big downloads that should happen once: ImageNet weight files (58 MB to 549 MB) are
// fetched with a byte progress bar and kept in the browser's Cache Storage, so a second
// load (after a reload, or offline) reads them from disk instead of the network.
//
// The body streams from the network into the cache, and the result is the cached Blob,
// which the browser keeps on disk: the engine reads it by ranges (model.loadWeights of a
// Blob), so no whole copy of the file is ever held in JS or wasm memory.

import { downloadStream } from './fetch-body.js';

export const WEIGHTS_CACHE = 'convbook-weights';

const cacheStorage = () => (typeof caches !== 'undefined' ? caches : null);

const OFFLINE =
  '. Without a network, download the file elsewhere and pass it as the weights (weights: await files.pick()), ' +
  'or set keras.applications.baseUrl to a server that has it';

const HEADERS = { 'Content-Type': 'application/octet-stream' };

/** The body at `href` collected into a Blob: where Cache Storage cannot keep it. */
async function toBlob(href, opts) {
  const { body } = await downloadStream(href, { ...opts, offline: OFFLINE });
  return new Response(body, { headers: HEADERS }).blob();
}

/**
 * The file at `url` as a Blob, from Cache Storage when an earlier call stored it, else
 * streamed from the network into Cache Storage (with a progress bar on `display`) and
 * read back from there. `fromCache` on the result says where it came from.
 */
export async function fetchCachedBlob(url, { display, label, cacheName = WEIGHTS_CACHE } = {}) {
  const href = new URL(url, self.location?.href).href;
  const cache = await cacheStorage()?.open(cacheName).catch(() => null);
  const hit = await cache?.match(href).catch(() => undefined);
  if (hit) return Object.assign(await hit.blob(), { fromCache: true });
  // No Cache Storage (an insecure origin): only the next download costs more.
  if (!cache) return Object.assign(await toBlob(href, { display, label }), { fromCache: false });
  const { body, interrupted } = await downloadStream(href, { display, label, offline: OFFLINE });
  try {
    await cache.put(href, new Response(body, { headers: HEADERS }));
  } catch {
    if (interrupted()) throw interrupted();
    // A full quota (a private window's is small) only costs the next download: this one
    // goes to a Blob instead. A network that failed mid-body fails again, naming the URL.
    return Object.assign(await toBlob(href, { display, label }), { fromCache: false });
  }
  const stored = await cache.match(href);
  return Object.assign(stored ? await stored.blob() : await toBlob(href, { display, label }), { fromCache: false });
}

/** The bytes at `url` (a Uint8Array), cached as fetchCachedBlob caches them. */
export async function fetchCached(url, options = {}) {
  const blob = await fetchCachedBlob(url, options);
  return Object.assign(new Uint8Array(await blob.arrayBuffer()), { fromCache: blob.fromCache });
}
