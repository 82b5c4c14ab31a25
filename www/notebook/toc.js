// The table of contents: books, chapters, sections (links to #/<id>), the imported
// notebook when there is one, and the headings of the open section.

import { h } from '../render/dom.js';
import { BOOKS } from '../chapters/index.js';

export function renderToc(nav, { current, imported, headings = [] }) {
  const link = (id, label, title) => {
    const a = h('a', { href: `#/${id}`, class: 'toc-link' }, h('span', { class: 'toc-num', text: label }), ` ${title}`);
    if (id === current) a.setAttribute('aria-current', 'page');
    const item = h('li', {}, a);
    if (id === current && headings.length) {
      item.append(
        h(
          'ul',
          { class: 'toc-headings' },
          headings.map((el) =>
            h('li', {}, h('a', { href: `#/${id}`, class: 'toc-sub', onclick: (e) => (e.preventDefault(), el.scrollIntoView({ block: 'start' }), el.focus({ preventScroll: true })) }, el.textContent)),
          ),
        ),
      );
    }
    return item;
  };
  const books = BOOKS.map((book) =>
    h(
      'section',
      { class: 'toc-book' },
      h('h2', { text: book.title }),
      book.chapters.map((ch) =>
        h('div', { class: 'toc-chapter' }, h('h3', { text: `${ch.number}. ${ch.title}` }), h('ol', {}, ch.sections.map((s) => link(s.id, s.label ?? s.id, s.title)))),
      ),
    ),
  );
  const mine = imported?.length
    ? h('section', { class: 'toc-book' }, h('h2', { text: 'Your notebooks' }), h('ol', {}, imported.map((n) => link(n.id, '↥', n.title))))
    : null;
  nav.replaceChildren(...books, ...(mine ? [mine] : []));
}
