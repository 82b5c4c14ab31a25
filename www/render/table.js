// HTML tables for display.table and, later, model.summary(): caption, header, rows,
// optional footer lines (totals) and a note when rows were cut.

import { h } from './dom.js';

function formatCell(v) {
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  // One precision for every number: five significant digits, exponent only where
  // JavaScript itself would use one.
  return String(Number(v.toPrecision(5)));
}

export function renderTable(output) {
  const { columns = [], rows = [], caption, footer, truncated } = output;
  const numeric = columns.map((_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number' || r[c] === ''));
  const table = h(
    'table',
    { class: 'out-table' },
    caption ? h('caption', { text: caption }) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', text: c })))),
    h(
      'tbody',
      {},
      rows.map((r) => h('tr', {}, r.map((v, c) => h('td', { class: numeric[c] ? 'num' : null, text: formatCell(v) })))),
    ),
  );
  const notes = [...(footer ?? []), ...(truncated ? [`… ${truncated} more rows not shown`] : [])];
  const element = h('div', { class: 'out-table-wrap', tabindex: '0', role: 'region', 'aria-label': caption ?? 'table' }, table);
  if (notes.length) element.append(h('div', { class: 'out-table-footer' }, notes.map((n) => h('div', { text: n }))));
  return { element };
}
