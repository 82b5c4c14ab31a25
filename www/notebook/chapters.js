// Finds and parses chapter files. They are bundled as text (lazily, one chunk each)
// so the notebook and the embed script need no extra fetch paths at run time.

import { SECTIONS } from '../chapters/index.js';
import { parseChapter } from './format.js';
import { loadImported } from './storage.js';

const files = import.meta.glob(['../chapters/*.md', '!../chapters/README.md'], { query: '?raw', import: 'default' });

export const IMPORTED_ID = 'imported';
export const isImported = (id) => id === IMPORTED_ID || /^imported-\d+$/.test(id);

export function findSection(id) {
  return SECTIONS.find((s) => s.id === id) ?? null;
}

/** -> {id, section, meta, cells} or null when there is no such chapter. */
export async function loadChapter(id) {
  if (isImported(id)) {
    const saved = loadImported(id);
    if (!saved) return null;
    const { meta, cells } = parseChapter(saved.text);
    return { id, section: { id, label: '', title: meta.title ?? 'Imported notebook', book: 'Your notebooks' }, meta, cells };
  }
  const section = findSection(id);
  const load = section && files[`../chapters/${section.file}`];
  if (!load) return null;
  const { meta, cells } = parseChapter(await load());
  return { id, section, meta: { id, title: section.title, ...meta }, cells };
}
