// Where `model.save(path)` writes and `keras.models.loadModel(path)` reads, as TF.js
// layers-format files ({modelJson, shards}):
//   "name.keras", "ckpt/best" ...   the kernel's own file space (in memory: gone when the
//                                   kernel restarts, like a notebook VM's disk);
//   "indexeddb://name"              the browser's IndexedDB, kept across reloads;
//   "https://…/model.json", "./…"   loadModel only: fetched with its weight shards.

const memory = new Map();
const IDB_PREFIX = 'indexeddb://';
const DB_NAME = 'convbook-models';
const STORE = 'models';

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new Error(`IndexedDB: ${req.error?.message ?? 'cannot open'}`));
  });
}

async function idb(mode, run) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = run(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(new Error(`IndexedDB: ${tx.error?.message ?? 'transaction failed'}`));
    });
  } finally {
    db.close();
  }
}

// Reads try saved names first, so only these count as URLs there; writes refuse
// only what is certainly a URL.
const isUrl = (path) => /^(https?:|blob:|\.{0,2}\/)/.test(path) || path.endsWith('.json');
const isRemote = (path) => /^(https?:|blob:)/.test(path);

export async function writeModelFiles(path, files) {
  if (typeof path !== 'string' || !path) throw new Error('model.save: give a path, e.g. "model.keras" or "indexeddb://my-model"');
  if (path.startsWith(IDB_PREFIX)) {
    await idb('readwrite', (s) => s.put(files, path.slice(IDB_PREFIX.length)));
  } else if (isRemote(path)) {
    throw new Error(`model.save("${path}"): cannot write to a URL; save to a name ("model.keras") or to "indexeddb://name"`);
  } else {
    memory.set(path, files);
  }
}

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`.trim());
  return response;
}

/** {modelJson, shards: {path: Uint8Array}, source} for a saved name, an IndexedDB key or a URL. */
export async function readModelFiles(path) {
  let files;
  if (path.startsWith(IDB_PREFIX)) {
    files = await idb('readonly', (s) => s.get(path.slice(IDB_PREFIX.length)));
    if (!files) throw new Error(`loadModel: nothing saved at ${path}`);
  } else if (memory.has(path)) {
    files = memory.get(path);
  } else if (isUrl(path)) {
    const base = new URL(path, self.location.href);
    const modelJson = await (await fetchOk(base)).text();
    let manifest;
    try {
      manifest = JSON.parse(modelJson).weightsManifest ?? [];
    } catch (e) {
      throw new Error(`${path}: not a model.json (${e.message})`);
    }
    const shards = {};
    for (const group of manifest) {
      for (const p of group.paths ?? []) {
        shards[p] = new Uint8Array(await (await fetchOk(new URL(p, base))).arrayBuffer());
      }
    }
    return { modelJson, shards, source: path };
  } else {
    const saved = [...memory.keys()];
    throw new Error(`loadModel: no model saved as "${path}"${saved.length ? ` (saved: ${saved.join(', ')})` : ''}`);
  }
  return { modelJson: files.modelJson, shards: Object.fromEntries(files.shards), source: path };
}
