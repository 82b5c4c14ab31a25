// Markdown to sanitized HTML. Chapter prose is ours, but imported notebooks and
// display.markdown() are not, so everything goes through DOMPurify.

import { marked } from 'marked';
import DOMPurify from 'dompurify';
import { h } from './dom.js';

export function markdownToFragment(text) {
  const template = document.createElement('template');
  template.innerHTML = DOMPurify.sanitize(marked.parse(text, { async: false }));
  return template.content;
}

export function renderMarkdown(output) {
  const element = h('div', { class: 'out-markdown prose' });
  element.append(markdownToFragment(output.text));
  return { element };
}
