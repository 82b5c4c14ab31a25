// Lays out one chapter as a notebook the reader can reshape, as in Jupyter: code cells,
// prose (Markdown) cells and "coming soon" notes that can be added, deleted, moved,
// duplicated and converted, with the reader's saved edits applied and an empty scratch
// cell at the end. Keyboard handling (command mode) lives in command-mode.js.

import { h } from '../render/dom.js';
import { CodeCell } from './cell.js';
import { ProseCell } from './prose-cell.js';
import { soonCell } from './static-cells.js';
import { cellActions } from './cell-actions.js';
import { bindCommandMode } from './command-mode.js';
import { completionSource } from './completions.js';
import { clearEdits, loadEdits, loadLayout, loadOutputs, saveEdit, saveLayout, saveOutputs } from './storage.js';

const slug = (text) => text.toLowerCase().replace(/[^\w]+/g, '-').replace(/^-|-$/g, '');

/**
 * options: {scheduler, onSaved(ok)}. Returns the notebook view: {element, codeCells,
 * items, headings, selected, snapshot(), insert(), remove(), move(), duplicate(),
 * convert(), select(), cellsAbove(), clearOutputs()}; snapshot() is the notebook as it
 * is now, outputs included, for export. The element is kept with the chapter's kernel, so coming back to a
 * chapter finds its outputs in place.
 */
export function renderChapter(chapter, { scheduler, onSaved }) {
  const list = h('div', { class: 'cells' });
  const container = h('div', { class: 'chapter-body' });
  const layout = loadLayout(chapter.id);
  let edits = layout ? {} : loadEdits(chapter.id);
  let reshaped = !!layout;
  const items = [];
  const timers = new Map();
  let selected = null;

  const codeCells = () => items.filter((i) => i.type === 'code').map((i) => i.cell);
  const modelOf = (item) => {
    if (item.type === 'soon') return item.model;
    const model = { type: item.type, source: item.cell.source, original: item.cell.original };
    if (item.cell.parameters) model.parameters = true;
    if (item.scratch) model.scratch = true;
    return model;
  };
  const saveRuns = () => {
    clearTimeout(timers.get('outputs'));
    timers.set('outputs', setTimeout(() => onSaved(saveOutputs(chapter.id, codeCells().map((c) => c.persisted()))), 300));
  };
  const saveAll = () => {
    saveRuns();
    reshaped = true;
    clearTimeout(timers.get('layout'));
    timers.set('layout', setTimeout(() => onSaved(saveLayout(chapter.id, items.map(modelOf)) && clearEdits(chapter.id)), 300));
  };

  const onRun = (cell, { advance }) => {
    scheduler.enqueue([cell]);
    if (!advance) return;
    const cells = codeCells();
    const next = cells[cells.indexOf(cell) + 1];
    if (next) next.focus();
    else view.insert(items.length, { type: 'code', source: '' }).cell.focus();
  };
  const onEdit = (cell, source) => {
    if (reshaped || cell.type === 'markdown') return saveAll();
    clearTimeout(timers.get(cell));
    timers.set(cell, setTimeout(() => onSaved(saveEdit(chapter.id, cell.number, source, cell.original)), 300));
  };
  const itemOf = (cell) => items.find((i) => i.cell === cell || i.element === cell);
  const onEscape = (cell) => view.select(itemOf(cell));
  const onRendered = (cell, { advance }) => {
    const item = itemOf(cell);
    const next = items[items.indexOf(item) + 1];
    if (advance && next) view.select(next);
    else if (advance) view.select(view.insert(items.length, { type: 'code', source: '' }));
    else view.select(item);
  };
  const complete = completionSource(() => codeCells().map((c) => c.source), () => scheduler?.kernel?.signatures);

  function makeItem(model) {
    let item;
    if (model.type === 'code') {
      const source = edits[codeCells().length + 1] ?? model.source;
      const cell = new CodeCell({ number: 0, source, original: model.original ?? model.source, onRun, onEdit, onEscape, onFinished: saveRuns, complete, parameters: !!model.parameters });
      item = { type: 'code', cell, element: cell.element, scratch: !!model.scratch };
      if (model.outputs) cell.restore({ ...model.outputs, source: cell.source });
      if (model.scratch) cell.element.classList.add('scratch-cell');
    } else if (model.type === 'markdown') {
      const cell = new ProseCell({ source: model.source, original: model.original ?? model.source, onEdit, onEscape, onRendered });
      item = { type: 'markdown', cell, element: cell.element };
    } else {
      item = { type: 'soon', model, ...soonCell(model.source, model.needs) };
    }
    item.element.tabIndex = -1;
    item.element.classList.add('nb-cell');
    item.element.append(cellActions(item.type, (action) => act(item, action)));
    item.element.addEventListener('focusin', () => markSelected(item));
    return item;
  }

  function act(item, action) {
    const at = items.indexOf(item);
    if (action === 'up' || action === 'down') view.move(item, action === 'up' ? -1 : 1);
    else if (action === 'duplicate') view.duplicate(item);
    else if (action === 'add-code') view.select(view.insert(at + 1, { type: 'code', source: '' }));
    else if (action === 'add-text') view.insert(at + 1, { type: 'markdown', source: '' }).cell.edit();
    else if (action === 'to-markdown') view.convert(item, 'markdown');
    else if (action === 'to-code') view.convert(item, 'code');
    else if (action === 'delete') view.remove(item);
  }

  function renumber() {
    codeCells().forEach((cell, i) => cell.renumber(i + 1));
  }

  function markSelected(item) {
    if (selected === item) return;
    selected?.element.classList.remove('selected');
    selected = item;
    item?.element.classList.add('selected');
  }

  const view = {
    element: container,
    items,
    get codeCells() {
      return codeCells();
    },
    get selected() {
      return selected;
    },
    /** Command mode on `item`: the cell itself has the focus, not its editor. */
    select(item) {
      if (!item) return;
      if (item.type === 'markdown' && item.cell.editing) item.cell.finish({ quiet: true });
      markSelected(item);
      item.element.focus({ preventScroll: true });
      item.element.scrollIntoView({ block: 'nearest' });
    },
    insert(index, model) {
      const item = makeItem({ original: model.source, ...model });
      list.insertBefore(item.element, items[index]?.element ?? null);
      items.splice(index, 0, item);
      renumber();
      saveAll();
      return item;
    },
    remove(item) {
      if (item.type === 'code' && (item.cell.state === 'running' || item.cell.state === 'queued')) return false;
      const at = items.indexOf(item);
      item.element.remove();
      items.splice(at, 1);
      renumber();
      saveAll();
      if (selected === item) {
        selected = null;
        view.select(items[at] ?? items[at - 1]);
      }
      return true;
    },
    move(item, delta) {
      const at = items.indexOf(item);
      const to = at + delta;
      if (to < 0 || to >= items.length) return;
      items.splice(at, 1);
      items.splice(to, 0, item);
      list.insertBefore(item.element, items[to + 1]?.element ?? null);
      renumber();
      saveAll();
      view.select(item);
    },
    duplicate(item) {
      const model = modelOf(item);
      delete model.scratch;
      delete model.parameters;
      view.select(view.insert(items.indexOf(item) + 1, { ...model, original: model.source }));
    },
    convert(item, type) {
      if (item.type === type || item.type === 'soon') return;
      if (item.type === 'code' && (item.cell.state === 'running' || item.cell.state === 'queued')) return;
      const at = items.indexOf(item);
      const source = item.cell.source;
      item.element.remove();
      items.splice(at, 1);
      view.select(view.insert(at, { type, source }));
    },
    /** The code cells above the selected cell (all of them when nothing is selected). */
    cellsAbove() {
      const at = selected ? items.indexOf(selected) : items.length;
      return items.slice(0, at).filter((i) => i.type === 'code').map((i) => i.cell);
    },
    clearOutputs() {
      for (const cell of codeCells()) cell.clearOutputs();
    },
    snapshot() {
      const cells = items.filter((i) => !(i.scratch && !i.cell.source.trim())).map((i) => {
        const { type, source, parameters, needs } = i.type === 'soon' ? i.model : modelOf(i);
        if (type === 'soon') return { type, source, needs };
        const cell = parameters ? { type, source, parameters } : { type, source };
        const run = type === 'code' && i.cell.persisted();
        if (run) cell.outputs = { count: run.count, state: run.state, status: run.status, records: run.records };
        return cell;
      });
      return { meta: { ...chapter.meta }, cells };
    },
  };

  const models = layout ?? [...chapter.cells, { type: 'code', source: '', scratch: true }];
  for (const model of models) {
    const item = makeItem(model);
    items.push(item);
    list.append(item.element);
  }
  renumber();
  const runs = loadOutputs(chapter.id);
  codeCells().forEach((cell, i) => cell.restore(runs[i]));
  // Saved edits belong to the chapter's own cells; cells added later start from their own text.
  edits = {};

  const { section } = chapter;
  const header = h(
    'header',
    { class: 'chapter-head' },
    h('p', { class: 'chapter-book', text: [section.book, section.chapter && `Chapter ${section.chapter.number}: ${section.chapter.title}`].filter(Boolean).join(' · ') }),
    h('h1', { id: 'chapter-title', tabindex: '-1' }, h('span', { class: 'chapter-num', text: section.label ?? (section.chapter ? section.id : '') }), ` ${chapter.meta.title ?? section.title}`),
  );
  const hint = h('p', { class: 'edit-hint' }, 'Esc selects a cell; then ', h('kbd', { text: 'A' }), '/', h('kbd', { text: 'B' }), ' add one above/below, ', h('kbd', { text: 'D' }), h('kbd', { text: 'D' }), ' deletes, ', h('kbd', { text: 'M' }), '/', h('kbd', { text: 'Y' }), ' make it text/code, ', h('kbd', { text: 'Enter' }), ' edits. The last cell is yours to try anything.');
  container.replaceChildren(header, list, hint);
  bindCommandMode(list, view);

  view.headings = [...container.querySelectorAll('.md-cell h2')];
  for (const el of view.headings) {
    el.id ||= `h-${slug(el.textContent)}`;
    el.tabIndex = -1;
  }
  return view;
}
