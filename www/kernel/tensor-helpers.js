// Conveniences over Engine.tensor/fill for cell authors: nested arrays with inferred
// shapes, zeros/ones, seeded random tensors, ranges. Values are made in JavaScript and
// uploaded once.

function inferShape(nested) {
  const shape = [];
  for (let v = nested; Array.isArray(v); v = v[0]) shape.push(v.length);
  return shape;
}

// mulberry32: tiny, seedable, good enough for initial weights and demo data.
export function rng(seed = 1) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const size = (shape) => shape.reduce((a, b) => a * b, 1);

export function createTensorHelpers(engine) {
  let autoSeed = 1;
  const nextSeed = () => autoSeed++;

  /** tensor(values, shape?, dtype?) with values a typed array, flat or nested array. */
  function tensor(values, shape, dtype = 'float32') {
    if (typeof values === 'number') return engine.tensor(Float32Array.of(values), shape ?? []);
    const inferred = Array.isArray(values) ? inferShape(values) : [values.length];
    const flat = Array.isArray(values) ? values.flat(Infinity) : values;
    const s = shape ?? inferred;
    if (size(s) !== flat.length) throw new Error(`tensor: ${flat.length} values do not fill shape [${s.join(', ')}]`);
    if (dtype === 'int32') return engine.tensorInt32(Int32Array.from(flat), s);
    if (dtype === 'uint8') return engine.tensorUint8(Uint8Array.from(flat), s);
    if (dtype !== 'float32') throw new Error(`tensor: unknown dtype '${dtype}': use float32, int32 or uint8`);
    return engine.tensor(flat instanceof Float32Array ? flat : Float32Array.from(flat), s);
  }

  const rand = (shape, { seed = nextSeed(), min = 0, max = 1 } = {}) => {
    const r = rng(seed);
    return engine.tensor(Float32Array.from({ length: size(shape) }, () => min + (max - min) * r()), shape);
  };

  // Box-Muller on the seeded generator.
  const randn = (shape, { seed = nextSeed(), mean = 0, std = 1 } = {}) => {
    const r = rng(seed);
    const values = new Float32Array(size(shape));
    for (let i = 0; i < values.length; i += 2) {
      const u = 1 - r();
      const v = r();
      const m = Math.sqrt(-2 * Math.log(u));
      values[i] = mean + std * m * Math.cos(2 * Math.PI * v);
      if (i + 1 < values.length) values[i + 1] = mean + std * m * Math.sin(2 * Math.PI * v);
    }
    return engine.tensor(values, shape);
  };

  const arange = (start, stop, step = 1) => {
    if (stop === undefined) [start, stop] = [0, start];
    const n = Math.max(0, Math.ceil((stop - start) / step));
    return engine.tensor(Float32Array.from({ length: n }, (_, i) => start + i * step), [n]);
  };

  return {
    tensor,
    zeros: (shape) => engine.fill(shape, 0),
    ones: (shape) => engine.fill(shape, 1),
    fill: (shape, value) => engine.fill(shape, value),
    rand,
    randn,
    arange,
  };
}
