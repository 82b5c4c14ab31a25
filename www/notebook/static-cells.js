// The cells that do not run: chapter prose (Markdown) and "coming soon" notes that
// stand where code will go once the engine has the API a section needs.

import { h } from '../render/dom.js';
import { markdownToFragment } from '../render/markdown.js';

export function markdownCell(source) {
  const element = h('div', { class: 'cell md-cell prose' });
  element.append(markdownToFragment(source));
  return { element };
}

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
