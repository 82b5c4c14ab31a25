// Lays out one chapter as a notebook: prose, "coming soon" notes and code cells, with
// the reader's saved edits applied, plus an empty scratch cell at the end.

import { h } from '../render/dom.js';
import { CodeCell } from './cell.js';
import { markdownCell, soonCell } from './static-cells.js';
import { loadEdits, saveEdit } from './storage.js';

const slug = (text) => text.toLowerCase().replace(/[^\w]+/g, '-').replace(/^-|-$/g, '');

/**
 * options: {scheduler, onSaved(ok)}. Returns {element, codeCells, headings, snapshot()}:
 * snapshot() is the chapter with the code as it is now, for export. The element is kept
 * with the chapter's kernel, so coming back to a chapter finds its outputs in place.
 */
export function renderChapter(chapter, { scheduler, onSaved }) {
  const container = h('div', { class: 'chapter-body' });
  const edits = loadEdits(chapter.id);
  const codeCells = [];
  const timers = new Map();
  const parts = [];

  const onRun = (cell, { advance }) => {
    scheduler.enqueue([cell]);
    if (advance) codeCells[codeCells.indexOf(cell) + 1]?.focus();
  };
  const onEdit = (cell, source) => {
    clearTimeout(timers.get(cell));
    timers.set(cell, setTimeout(() => onSaved(saveEdit(chapter.id, cell.number, source, cell.original)), 300));
  };
  const addCode = (original, extra = {}) => {
    const number = codeCells.length + 1;
    const cell = new CodeCell({ number, source: edits[number] ?? original, original, onRun, onEdit, ...extra });
    codeCells.push(cell);
    return cell;
  };

  for (const c of chapter.cells) {
    if (c.type === 'markdown') parts.push({ ...markdownCell(c.source), model: c });
    else if (c.type === 'soon') parts.push({ ...soonCell(c.source, c.needs), model: c });
    else parts.push({ element: addCode(c.source, { parameters: !!c.parameters }).element, model: c, cell: codeCells.at(-1) });
  }
  const scratch = addCode('');
  scratch.element.classList.add('scratch-cell');

  const { section } = chapter;
  const header = h(
    'header',
    { class: 'chapter-head' },
    h('p', { class: 'chapter-book', text: [section.book, section.chapter && `Chapter ${section.chapter.number}: ${section.chapter.title}`].filter(Boolean).join(' · ') }),
    h('h1', { id: 'chapter-title', tabindex: '-1' }, h('span', { class: 'chapter-num', text: section.label ?? (section.chapter ? section.id : '') }), ` ${chapter.meta.title ?? section.title}`),
  );
  const scratchHead = h('h2', { class: 'scratch-head', text: 'Scratch' }, h('span', { class: 'hint', text: ' — a cell of your own: try anything here' }));
  container.replaceChildren(header, ...parts.map((p) => p.element), scratchHead, scratch.element);

  const headings = [...container.querySelectorAll('.md-cell h2')];
  for (const el of headings) {
    el.id ||= `h-${slug(el.textContent)}`;
    el.tabIndex = -1;
  }

  return {
    element: container,
    codeCells,
    headings,
    snapshot() {
      const cells = parts.map((p) => (p.cell ? { ...p.model, source: p.cell.source } : p.model));
      if (scratch.source.trim()) cells.push({ type: 'code', source: scratch.source });
      return { meta: { ...chapter.meta }, cells };
    },
  };
}
