// Completion in code cells: the notebook's globals and their members (keras., layers.,
// datasets., display., kernel.), tensor methods after any other `name.`, and the
// variables, functions and classes the notebook's cells declare. Layers show their
// signature as the engine's registry gives it (the kernel sends it when it starts), so
// `layers.Conv2D` reads `(filters, kernel_size, {…})`, Keras's positional order.

import { KERNEL_NAMES } from './kernel-names.js';

const DECLARED = /\b(?:const|let|var|function\*?|class)\s+([A-Za-z_$][\w$]*)|\b(?:const|let|var)\s*[{[]([^}\]=]*)[}\]]/g;

/** Names the cells declare, destructuring included. */
export function declaredNames(sources) {
  const names = new Set();
  for (const source of sources) {
    for (const m of source.matchAll(DECLARED)) {
      if (m[1]) names.add(m[1]);
      else for (const part of m[2].split(',')) {
        const name = /([A-Za-z_$][\w$]*)\s*$/.exec(part.split(':').pop().trim())?.[1];
        if (name) names.add(name);
      }
    }
  }
  return [...names];
}

// keras.* calls are the notebook's own (kernel/keras.js), not the engine's registry.
const KERAS_SIGNATURES = {
  Input: '({shape, name})',
  Model: '(inputs, outputs, {name})',
  Sequential: '(layers, {name, inputShape})',
};

/** "(filters, kernel_size, {…})" for a layer class, or undefined when unknown. */
export function signatureOf(object, label, signatures) {
  if (object === 'keras') return KERAS_SIGNATURES[label];
  if (object !== 'layers') return undefined;
  if (label === 'add' || label === 'concatenate') return '(inputs, {…})';
  const names = signatures?.[label];
  return names ? `(${[...names, '{…}'].join(', ')})` : undefined;
}

/**
 * A CodeMirror completion source over `sources()` (the notebook's code, read when asked)
 * and `signatures()` (the engine's layer signatures, once the kernel has sent them).
 */
export function completionSource(sources, signatures = () => null) {
  return (context) => {
    const word = context.matchBefore(/(?:[A-Za-z_$][\w$]*\.)?[A-Za-z_$]?[\w$]*/);
    if (!word || (word.from === word.to && !context.explicit)) return null;
    const dot = word.text.lastIndexOf('.');
    if (dot >= 0) {
      const object = word.text.slice(0, dot);
      const members = KERNEL_NAMES.members[object] ?? KERNEL_NAMES.tensorMethods;
      const known = signatures();
      const options = members.map((label) => {
        const detail = signatureOf(object, label, known);
        return { label, type: /^[A-Z]/.test(label) ? 'class' : 'method', ...(detail ? { detail, info: `${object}.${label}${detail}` } : {}) };
      });
      return { from: word.from + dot + 1, options, validFor: /^[\w$]*$/ };
    }
    const options = [
      ...declaredNames(sources()).map((label) => ({ label, type: 'variable', boost: 1 })),
      ...Object.keys(KERNEL_NAMES.members).map((label) => ({ label, type: 'namespace' })),
      ...KERNEL_NAMES.globals.map((label) => ({ label, type: 'function' })),
    ];
    return { from: word.from, options, validFor: /^[\w$]*$/ };
  };
}
