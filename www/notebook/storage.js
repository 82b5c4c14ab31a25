// Autosave: the code of edited cells, per chapter, in localStorage. Only differences
// from the chapter file are kept, so a corrected chapter still reaches cells the reader
// never touched. Storage can be missing or full (private windows); the notebook then
// keeps working and says that edits are not saved.

const PREFIX = 'convbook:v1:';

function read(key) {
  try {
    return JSON.parse(localStorage.getItem(PREFIX + key) ?? 'null');
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    if (value === null) localStorage.removeItem(PREFIX + key);
    else localStorage.setItem(PREFIX + key, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}

/** {cellNumber: source} for a chapter's edited code cells. */
export function loadEdits(chapterId) {
  return read(`edits:${chapterId}`)?.cells ?? {};
}

/** Records (or, when `source === original`, forgets) one cell's edit; false if not saved. */
export function saveEdit(chapterId, number, source, original) {
  const cells = loadEdits(chapterId);
  if (source === original) delete cells[number];
  else cells[number] = source;
  return write(`edits:${chapterId}`, Object.keys(cells).length ? { cells, saved: Date.now() } : null);
}

export function clearEdits(chapterId) {
  return write(`edits:${chapterId}`, null);
}

/**
 * Imported notebooks are kept whole (they have no file to be a difference from), each
 * under its own id: the first is `imported`, later ones `imported-2`, `imported-3`, …
 */
export function listImported() {
  const list = read('imported-list');
  if (list) return list;
  const legacy = read('imported');
  return legacy ? [{ id: 'imported', title: /^title:\s*(.+)$/m.exec(legacy.text)?.[1] ?? 'Imported notebook' }] : [];
}

export function loadImported(id = 'imported') {
  return read(id === 'imported' ? 'imported' : `imported:${id}`);
}

/** Stores one more imported notebook; resolves to its id, or null when storage failed. */
export function addImported(text, title) {
  const list = listImported();
  const taken = new Set(list.map((n) => n.id));
  let id = 'imported';
  for (let n = 2; taken.has(id); n++) id = `imported-${n}`;
  const saved = write(id === 'imported' ? 'imported' : `imported:${id}`, { text, saved: Date.now() });
  if (!saved || !write('imported-list', [...list, { id, title }])) return null;
  return id;
}

/**
 * Once the reader adds, deletes, moves or converts cells (or edits prose), differences
 * per cell number no longer mean anything: the whole list of cells is kept instead.
 * -> [{type, source, original, parameters?, needs?, scratch?}] or null.
 */
export function loadLayout(chapterId) {
  return read(`layout:${chapterId}`)?.cells ?? null;
}

export function saveLayout(chapterId, cells) {
  return write(`layout:${chapterId}`, cells === null ? null : { cells, saved: Date.now() });
}

/**
 * The outputs of a notebook's code cells, in cell order: [{source, count, state,
 * records, status} | null]. Images make this the biggest key; when storage is full the
 * outputs are kept without their images, then not at all.
 */
export function loadOutputs(chapterId) {
  return read(`outputs:${chapterId}`)?.cells ?? [];
}

export function saveOutputs(chapterId, cells) {
  if (!cells.some(Boolean)) return write(`outputs:${chapterId}`, null);
  if (write(`outputs:${chapterId}`, { cells, saved: Date.now() })) return true;
  const small = cells.map((c) => c && { ...c, records: c.records.map((r) => (r.kind === 'image' ? { kind: 'value', text: `(image ${r.width}×${r.height} not saved: browser storage is full)` } : r)) });
  if (write(`outputs:${chapterId}`, { cells: small, saved: Date.now() })) return true;
  write(`outputs:${chapterId}`, null);
  return false;
}
