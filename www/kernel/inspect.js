// A compact, node-like `inspect` for values shown in cell outputs. Bounded in depth and
// length so that printing a huge array or a cyclic object never stalls the kernel.

const MAX_ITEMS = 30;
const MAX_STRING = 10_000;

function typedArray(v) {
  // The engine hands shapes out as Uint32Array; they read as Keras prints shapes.
  if (v instanceof Uint32Array && v.length <= 8) return `(${Array.from(v, formatNumber).join(', ')}${v.length === 1 ? ',' : ''})`;
  const items = Array.from(v.subarray(0, MAX_ITEMS), formatNumber);
  const more = v.length > MAX_ITEMS ? `, … ${v.length - MAX_ITEMS} more` : '';
  return `${v.constructor.name}(${v.length}) [${items.join(', ')}${more}]`;
}

export function formatNumber(x) {
  if (typeof x === 'bigint') return `${x}n`;
  if (Object.is(x, -0)) return '-0';
  return String(x);
}

function key(k) {
  return /^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k);
}

export function inspect(value, { depth = 2, quoteStrings = true } = {}, seen = new Set()) {
  switch (typeof value) {
    case 'string': {
      const s = value.length > MAX_STRING ? value.slice(0, MAX_STRING) + '…' : value;
      return quoteStrings ? JSON.stringify(s) : s;
    }
    case 'number':
    case 'bigint':
      return formatNumber(value);
    case 'undefined':
      return 'undefined';
    case 'boolean':
      return String(value);
    case 'symbol':
      return value.toString();
    case 'function':
      return value.toString().startsWith('class') ? `[class ${value.name || '(anonymous)'}]` : `[Function ${value.name || '(anonymous)'}]`;
  }
  if (value === null) return 'null';
  if (seen.has(value)) return '[Circular]';
  if (value instanceof Error) return value.stack || `${value.name}: ${value.message}`;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof RegExp) return String(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return typedArray(value);
  if (value instanceof ArrayBuffer) return `ArrayBuffer { byteLength: ${value.byteLength} }`;
  if (typeof value.then === 'function') return 'Promise { … }';
  // Objects that describe themselves (wasm-bindgen classes such as Tensor do).
  if (typeof value.toString === 'function' && value.toString !== Object.prototype.toString && !Array.isArray(value)) {
    const own = value.toString();
    if (typeof own === 'string' && !own.startsWith('[object')) return own;
  }
  if (depth < 0) return Array.isArray(value) ? '[Array]' : '[Object]';
  seen.add(value);
  const inner = (v) => inspect(v, { depth: depth - 1, quoteStrings: true }, seen);
  let parts;
  let open;
  let close;
  if (Array.isArray(value)) {
    parts = value.slice(0, MAX_ITEMS).map(inner);
    if (value.length > MAX_ITEMS) parts.push(`… ${value.length - MAX_ITEMS} more`);
    [open, close] = ['[', ']'];
  } else if (value instanceof Map) {
    parts = [...value].slice(0, MAX_ITEMS).map(([k, v]) => `${inner(k)} => ${inner(v)}`);
    [open, close] = [`Map(${value.size}) {`, '}'];
  } else if (value instanceof Set) {
    parts = [...value].slice(0, MAX_ITEMS).map(inner);
    [open, close] = [`Set(${value.size}) {`, '}'];
  } else {
    const entries = Object.entries(value);
    parts = entries.slice(0, MAX_ITEMS).map(([k, v]) => `${key(k)}: ${inner(v)}`);
    if (entries.length > MAX_ITEMS) parts.push(`… ${entries.length - MAX_ITEMS} more`);
    const name = value.constructor && value.constructor !== Object ? value.constructor.name + ' ' : '';
    [open, close] = [`${name}{`, '}'];
  }
  seen.delete(value);
  if (parts.length === 0) return open + close;
  const oneLine = `${open}${open.endsWith('{') ? ' ' : ''}${parts.join(', ')}${close === '}' ? ' ' : ''}${close}`;
  if (oneLine.length <= 72 && !oneLine.includes('\n')) return oneLine;
  return `${open}\n${parts.map((p) => '  ' + p.replace(/\n/g, '\n  ')).join(',\n')}\n${close}`;
}

/** console.log semantics: strings as they are, everything else inspected. */
export function formatArgs(args) {
  return args.map((a) => (typeof a === 'string' ? a : inspect(a))).join(' ');
}
