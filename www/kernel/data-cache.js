// Downloads happen once. Within a kernel, the same URL asked for again (8.2 reads three
// folders of one zip) gets the bytes already fetched, or joins the fetch in flight. The
// embedded demo data is also kept in the browser's Cache Storage, under its manifest's
// sha256, so a reload or another chapter does not download it again and a new version
// of a file replaces the old one.

const CACHE_NAME = 'convbook-data';

/**
 * `download(href, opts)` fetches from the network (with whatever progress it shows) and
 * resolves to a Uint8Array. Returns `bytes(href, opts)`, which resolves to a copy of the
 * bytes for each caller (a cell may change its copy without spoiling the next one's).
 */
export function createDataCache({ dataBase, download }) {
  const loaded = new Map();
  let hashes = null;

  // The manifest is small; it is read once per kernel and not cached, so that a new data
  // release is seen at the next start.
  const manifestHashes = () =>
    (hashes ??= fetch(new URL('manifest.json', dataBase), { cache: 'no-store' })
      .then((r) => (r.ok ? r.json() : { files: [] }))
      .then((m) => new Map((m.files ?? []).filter((f) => f.sha256).map((f) => [new URL(f.path, dataBase).href, f.sha256])))
      .catch(() => new Map()));

  async function openCache() {
    try {
      return (await globalThis.caches?.open(CACHE_NAME)) ?? null;
    } catch {
      return null; // no Cache Storage (an insecure origin, a privacy mode): download each time
    }
  }

  async function persistent(href, opts) {
    const sha = (await manifestHashes()).get(href);
    if (!sha) return download(href, opts);
    const cache = await openCache();
    const key = `${href}?sha256=${sha}`;
    const hit = await cache?.match(key).catch(() => null);
    if (hit) return new Uint8Array(await hit.arrayBuffer());
    const bytes = await download(href, opts);
    if (cache) {
      // Older versions of this file go; the new one is stored for the next time.
      for (const old of await cache.keys().catch(() => [])) if (old.url.startsWith(`${href}?sha256=`)) await cache.delete(old).catch(() => {});
      await cache.put(key, new Response(bytes, { headers: { 'Content-Type': 'application/octet-stream' } })).catch(() => {});
    }
    return bytes;
  }

  return function bytes(href, opts) {
    let pending = loaded.get(href);
    if (!pending) {
      pending = persistent(href, opts);
      loaded.set(href, pending);
      // A failed or interrupted download is tried again next time.
      pending.catch(() => loaded.delete(href));
    }
    return pending.then((b) => b.slice());
  };
}
