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

/** An imported notebook is kept whole: it has no file to be a difference from. */
export function loadImported() {
  return read('imported');
}

export function saveImported(text) {
  return write('imported', text === null ? null : { text, saved: Date.now() });
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
