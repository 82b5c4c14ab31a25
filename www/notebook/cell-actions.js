// The small toolbar each cell carries (shown on hover, focus or selection): move up and
// down, duplicate, add a code or text cell below, turn into code or text, delete.

import { h } from '../render/dom.js';

const ACTIONS = [
  ['up', '↑', 'Move the cell up'],
  ['down', '↓', 'Move the cell down'],
  ['duplicate', 'Dup', 'Duplicate the cell'],
  ['add-code', '+ Code', 'Add a code cell below (B in command mode)'],
  ['add-text', '+ Text', 'Add a text cell below'],
  ['to-markdown', 'M↓', 'Turn into a text (Markdown) cell (M)'],
  ['to-code', '{ }', 'Turn into a code cell (Y)'],
  ['delete', '✕', 'Delete the cell (D D)'],
];

/** A toolbar for one cell; `on(action)` gets one of the names above. */
export function cellActions(type, on) {
  const buttons = ACTIONS.filter(([name]) => !(type === 'code' && name === 'to-code') && !(type === 'markdown' && name === 'to-markdown') && !(type === 'soon' && name.startsWith('to-'))).map(([name, text, label]) =>
    h('button', { type: 'button', class: 'cell-action', 'data-cell-action': name, 'aria-label': label, title: label, onclick: (e) => (e.stopPropagation(), on(name)) }, text),
  );
  return h('div', { class: 'cell-actions', role: 'toolbar', 'aria-label': 'Cell actions' }, ...buttons);
}
