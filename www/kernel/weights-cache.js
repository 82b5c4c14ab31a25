// Big downloads that should happen once: ImageNet weight files (58 MB to 549 MB) are
// fetched with a byte progress bar and kept in the browser's Cache Storage, so a second
// load (after a reload, or offline) reads them from disk instead of the network.

import { download as downloadBytes } from './fetch-body.js';

export const WEIGHTS_CACHE = 'convbook-weights';

const cacheStorage = () => (typeof caches !== 'undefined' ? caches : null);

/** The cached bytes for `url`, or null. */
async function fromCache(url, cacheName) {
  const response = await (await cacheStorage()?.open(cacheName))?.match(url);
  return response ? new Uint8Array(await response.arrayBuffer()) : null;
}

const download = (url, { display, label }) =>
  downloadBytes(url, {
    display,
    label,
    offline:
      '. Without a network, download the file elsewhere and pass it as the weights (weights: await files.pick()), ' +
      'or set keras.applications.baseUrl to a server that has it',
  });

/**
 * The bytes at `url`, from Cache Storage when an earlier call stored them, else fetched
 * (with a progress bar on `display`) and stored. Resolves to a Uint8Array; `fromCache`
 * on the result says where it came from.
 */
export async function fetchCached(url, { display, label, cacheName = WEIGHTS_CACHE } = {}) {
  const href = new URL(url, self.location?.href).href;
  const cached = await fromCache(href, cacheName).catch(() => null);
  if (cached) return Object.assign(cached, { fromCache: true });
  const bytes = await download(href, { display, label });
  // A full quota or a missing Cache Storage (an insecure origin) only costs the next download.
  await cacheStorage()
    ?.open(cacheName)
    .then((cache) => cache.put(href, new Response(bytes, { headers: { 'Content-Type': 'application/octet-stream' } })))
    .catch(() => {});
  return Object.assign(bytes, { fromCache: false });
}
