// Jupyter's command mode: with a cell selected (focused, not its editor), single keys
// act on cells. Enter edits, Shift+Enter runs and moves on, Ctrl+Enter runs, A/B add a
// code cell above/below, D D deletes, M/Y make it text/code, arrows or K/J move the
// selection, Tab goes on past the cell's editor.

const DOUBLE_KEY_MS = 800;
const TABBABLE = 'a[href], button:not([disabled]), input:not([disabled]), select, textarea, [tabindex]:not([tabindex="-1"]), [contenteditable="true"]';

/** Focuses the first tabbable element after `el` (outside it), so Escape then Tab leaves an editor. */
function focusAfter(el) {
  const next = [...document.querySelectorAll(TABBABLE)].find((e) => el.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING && !el.contains(e) && e.getClientRects().length);
  next?.focus();
  return !!next;
}

export function bindCommandMode(list, view) {
  let lastD = 0;
  list.addEventListener('keydown', (e) => {
    const item = view.items.find((i) => i.element === e.target);
    if (!item || e.altKey || e.metaKey || (e.ctrlKey && e.key !== 'Enter')) return;
    const at = view.items.indexOf(item);
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    const handled = () => e.preventDefault();
    if (key === 'Tab' && !e.shiftKey && !e.ctrlKey && item.type === 'code') {
      if (focusAfter(item.element.querySelector('.cell-editor'))) handled();
      return;
    }
    if (key === 'Enter' && (e.shiftKey || e.ctrlKey)) {
      handled();
      if (item.type === 'code') item.cell.element.querySelector('.cell-run').click();
      if (e.shiftKey) view.select(view.items[at + 1] ?? view.insert(view.items.length, { type: 'code', source: '' }));
    } else if (key === 'Enter') {
      handled();
      if (item.type !== 'soon') item.cell.focus();
    } else if (key === 'a' || key === 'b') {
      handled();
      view.select(view.insert(key === 'a' ? at : at + 1, { type: 'code', source: '' }));
    } else if (key === 'd') {
      handled();
      if (e.timeStamp - lastD < DOUBLE_KEY_MS) {
        lastD = 0;
        view.remove(item);
      } else lastD = e.timeStamp;
      return;
    } else if (key === 'm' || key === 'y') {
      handled();
      view.convert(item, key === 'm' ? 'markdown' : 'code');
    } else if (key === 'ArrowUp' || key === 'k') {
      handled();
      view.select(view.items[at - 1]);
    } else if (key === 'ArrowDown' || key === 'j') {
      handled();
      view.select(view.items[at + 1]);
    }
    lastD = 0;
  });
}
