// "Coming soon" notes: they stand where code will go once the engine has the API a
// section needs. (Prose cells are editable: prose-cell.js.)

import { h } from '../render/dom.js';
import { markdownToFragment } from '../render/markdown.js';

export function soonCell(source, needs) {
  const body = h('div', { class: 'soon-body prose' });
  body.append(markdownToFragment(source));
  const element = h(
    'aside',
    { class: 'cell soon-cell', 'aria-label': 'Coming soon' },
    h('div', { class: 'soon-head' }, h('span', { class: 'soon-tag', text: 'Coming soon' }), needs ? h('span', { class: 'soon-needs', text: `needs ${needs}` }) : null),
    body,
  );
  return { element };
}
