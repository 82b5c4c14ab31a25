// Printed text and returned values. Consecutive prints to one stream share one block,
// as in Jupyter, so a loop's lines read as one log.

import { h } from './dom.js';

// Box-drawing text (a model summary) needs lines that touch and no wrapping to join up.
const BOXED = /[\u2500-\u257f]/;
const boxed = (element) => element.classList.toggle('out-boxed', BOXED.test(element.textContent));

export function renderStream(output, previous) {
  if (previous?.kind === 'stream' && previous.name === output.name) {
    previous.element.textContent += output.text;
    boxed(previous.element);
    return null;
  }
  const element = h('pre', { class: `out-stream out-${output.name}`, text: output.text });
  boxed(element);
  return { element, kind: 'stream', name: output.name };
}

export function renderValue(output) {
  const element = h('pre', { class: 'out-value', text: output.text });
  boxed(element);
  return { element };
}
