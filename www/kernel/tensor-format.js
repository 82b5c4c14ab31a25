// numpy-style printing of tensor values: nested brackets, aligned columns, and the
// middle elided ("…") once a tensor is too big to read anyway.

const EDGE = 3;
const FULL_LIMIT = 1000;

function numberFormatter(values, dtype) {
  if (dtype !== 'float32' && dtype !== 'float64') return (v) => String(v);
  let maxAbs = 0;
  let allInts = true;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    maxAbs = Math.max(maxAbs, Math.abs(v));
    if (allInts && !Number.isInteger(v)) allInts = false;
  }
  if (allInts && maxAbs < 1e6) return (v) => (Number.isFinite(v) ? `${v}.` : String(v));
  if (maxAbs >= 1e5 || (maxAbs > 0 && maxAbs < 1e-3)) return (v) => (Number.isFinite(v) ? v.toExponential(3) : String(v));
  const decimals = maxAbs >= 100 ? 2 : 4;
  return (v) => (Number.isFinite(v) ? v.toFixed(decimals) : String(v));
}

// Indices kept along an axis of length n: all of them, or the edges around an ellipsis.
function kept(n, summarize) {
  if (!summarize || n <= 2 * EDGE) return [...Array(n).keys()];
  return [0, 1, 2, null, n - 3, n - 2, n - 1];
}

export function formatTensorValues(values, shape, dtype) {
  if (shape.length === 0) return numberFormatter(values, dtype)(values[0]);
  const summarize = values.length > FULL_LIMIT;
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const fmt = numberFormatter(values, dtype);
  const shown = [];
  const collect = (axis, offset) => {
    if (axis === shape.length) return shown.push(fmt(values[offset]));
    for (const i of kept(shape[axis], summarize)) if (i !== null) collect(axis + 1, offset + i * strides[axis]);
  };
  collect(0, 0);
  const width = Math.max(...shown.map((s) => s.length));
  let k = 0;
  const render = (axis, offset, indent) => {
    if (axis === shape.length - 1) {
      const items = kept(shape[axis], summarize).map((i) => (i === null ? '…'.padStart(width) : shown[k++].padStart(width)));
      return `[${items.join(', ')}]`;
    }
    const rows = kept(shape[axis], summarize).map((i) =>
      i === null ? ' '.repeat(indent) + '…' : render(axis + 1, offset + i * strides[axis], indent + 1),
    );
    const sep = ',' + '\n'.repeat(shape.length - axis - 1);
    return '[' + rows.map((r, j) => (j === 0 ? r : ' '.repeat(indent) + r.trimStart())).join(sep + ' '.repeat(0)) + ']';
  };
  return render(0, 0, 1);
}
