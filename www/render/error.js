// Errors as a reader needs them: what went wrong, where in the cell (with the line
// shown), and the full stack folded away. Interrupts are not failures and look calmer.

import { h } from './dom.js';

export function renderError(output, { count } = {}) {
  const { name, message, line, column, cell, snippet, stack, interrupted } = output;
  const where =
    line !== undefined
      ? `line ${line}${column ? `, column ${column}` : ''}${cell !== undefined && count !== undefined && cell !== count ? ` of the cell run as [${cell}]` : ''}`
      : null;
  const element = h(
    'div',
    { class: `out-error${interrupted ? ' out-interrupted' : ''}`, role: 'alert' },
    h('div', { class: 'error-head' }, h('strong', { text: name }), h('span', { text: `: ${message}` })),
    where ? h('div', { class: 'error-where', text: `at ${where}` }) : null,
    snippet
      ? h(
          'pre',
          { class: 'error-snippet' },
          snippet.map((s) => h('span', { class: s.here ? 'here' : null, text: `${String(s.line).padStart(3)} ${s.here ? '▶' : ' '} ${s.text}\n` })),
        )
      : null,
    stack && !interrupted ? h('details', { class: 'error-stack' }, h('summary', { text: 'stack trace' }), h('pre', { text: stack })) : null,
  );
  return { element };
}
