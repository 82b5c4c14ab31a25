// Where `model.save(path)` writes and `keras.models.loadModel(src)` / `model.loadWeights(src)`
// read. A saved entry is either TF.js layers-format files ({modelJson, shards}) or one
// Keras file ({bytes}: a .keras archive, or an .h5 when loaded). model.save writes a
// Keras 3 archive (optimizer state included) when the name ends in .keras, as Keras
// does, and TF.js files otherwise:
//   "name.keras", "ckpt/best" ...   the kernel's own file space (in memory: gone when the
//                                   kernel restarts, like a notebook VM's disk);
//   "indexeddb://name"              the browser's IndexedDB, kept across reloads;
//   "downloads://name.keras"        write only: the archive is offered to the reader as a
//                                   download (a link under the cell, followed once);
//   "https://…/model.json", "./…"   read only: fetched; a model.json brings its weight
//                                   shards, anything else is one Keras file;
//   bytes, a Blob or a picked File  read only: one Keras file (or a model.json's text).
// Which format a file is, is told by its bytes (zip, HDF5 or JSON), not by its name.

import { emitOutput } from './outbox.js';

const memory = new Map();
const IDB_PREFIX = 'indexeddb://';
const DOWNLOADS_PREFIX = 'downloads://';
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

/** Keras's rule for model.save: a name ending in .keras is a Keras 3 archive. */
export const savesKerasArchive = (path) => typeof path === 'string' && /\.keras$/i.test(path);

export async function writeModelFiles(path, files) {
  if (typeof path !== 'string' || !path) throw new Error('model.save: give a path, e.g. "model.keras" or "indexeddb://my-model"');
  if (path.startsWith(IDB_PREFIX)) {
    await idb('readwrite', (s) => s.put(files, path.slice(IDB_PREFIX.length)));
  } else if (path.startsWith(DOWNLOADS_PREFIX)) {
    const name = path.slice(DOWNLOADS_PREFIX.length).split('/').pop();
    if (!files.bytes || !name) {
      throw new Error(`model.save("${path}"): downloads hold one Keras archive; give a name ending in .keras, e.g. "downloads://model.keras"`);
    }
    const bytes = files.bytes.slice();
    emitOutput({ kind: 'download', name, mime: 'application/zip', bytes }, { transfer: [bytes.buffer] });
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

async function fetchTfjs(modelJson, base, source) {
  let manifest;
  try {
    manifest = JSON.parse(modelJson).weightsManifest ?? [];
  } catch (e) {
    throw new Error(`${source}: not a model.json (${e.message})`);
  }
  const shards = {};
  for (const group of manifest) {
    for (const p of group.paths ?? []) {
      shards[p] = new Uint8Array(await (await fetchOk(new URL(p, base))).arrayBuffer());
    }
  }
  return { modelJson, shards, source };
}

// A JSON text starts with "{" (after blanks); .keras (zip) and .h5 (HDF5) do not.
const looksLikeJson = (bytes) => {
  for (const b of bytes) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b === 0x7b;
  }
  return false;
};

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Whether `src` is an HDF5 file in a Blob or File that the engine can read by ranges
 * (synchronous Blob reads exist only in workers, where the kernel runs): such a file is
 * never read whole into memory (a VGG16 weights file is 553 MB).
 */
export async function readsByRange(src) {
  if (typeof Blob === 'undefined' || !(src instanceof Blob) || typeof FileReaderSync === 'undefined') return false;
  const head = new Uint8Array(await src.slice(0, HDF5_SIGNATURE.length).arrayBuffer());
  return HDF5_SIGNATURE.every((b, i) => head[i] === b);
}

/** One file's bytes as a model: TF.js text (without shards) or a Keras file. */
function fromBytes(bytes, source) {
  if (looksLikeJson(bytes)) {
    const modelJson = new TextDecoder().decode(bytes);
    const needs = (() => {
      try {
        return (JSON.parse(modelJson).weightsManifest ?? []).flatMap((g) => g.paths ?? []);
      } catch {
        return [];
      }
    })();
    if (needs.length) throw new Error(`${source}: a TF.js model.json needs its weight shards (${needs.join(', ')}); load it by URL`);
    return { modelJson, shards: {}, source };
  }
  return { bytes, source };
}

/**
 * A model's files for a saved name, an IndexedDB key, a URL, bytes (Uint8Array or
 * ArrayBuffer) or a Blob/File: {modelJson, shards: {path: Uint8Array}, source} for TF.js
 * files, {bytes: Uint8Array, source} for a .keras or .h5 file.
 */
export async function readModelFiles(path) {
  if (path instanceof Uint8Array) return fromBytes(path, 'bytes');
  if (path instanceof ArrayBuffer) return fromBytes(new Uint8Array(path), 'bytes');
  if (typeof Blob !== 'undefined' && path instanceof Blob) {
    return fromBytes(new Uint8Array(await path.arrayBuffer()), path.name || 'blob');
  }
  if (typeof path !== 'string' || !path) {
    throw new Error('loadModel: give a saved name, "indexeddb://name", a URL, bytes or a picked File');
  }
  let files;
  if (path.startsWith(IDB_PREFIX)) {
    files = await idb('readonly', (s) => s.get(path.slice(IDB_PREFIX.length)));
    if (!files) throw new Error(`loadModel: nothing saved at ${path}`);
  } else if (memory.has(path)) {
    files = memory.get(path);
  } else if (isUrl(path)) {
    const base = new URL(path, self.location.href);
    const response = await fetchOk(base);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (looksLikeJson(bytes)) return fetchTfjs(new TextDecoder().decode(bytes), base, path);
    return { bytes, source: path };
  } else {
    const saved = [...memory.keys()];
    throw new Error(`loadModel: no model saved as "${path}"${saved.length ? ` (saved: ${saved.join(', ')})` : ''}`);
  }
  if (files.bytes) return { bytes: files.bytes, source: path };
  return { modelJson: files.modelJson, shards: Object.fromEntries(files.shards), source: path };
}
