// Printed text and returned values. Consecutive prints to one stream share one block,
// as in Jupyter, so a loop's lines read as one log.

import { h } from './dom.js';

export function renderStream(output, previous) {
  if (previous?.kind === 'stream' && previous.name === output.name) {
    previous.element.textContent += output.text;
    return null;
  }
  const element = h('pre', { class: `out-stream out-${output.name}`, text: output.text });
  return { element, kind: 'stream', name: output.name };
}

export function renderValue(output) {
  return { element: h('pre', { class: 'out-value', text: output.text }) };
}
