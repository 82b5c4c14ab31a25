// The weights and batches both engines get: pure functions of a name, so each engine
// can make them for itself and they are bit-identical (no copy across frames needed).

/** A 32-bit hash of a string (FNV-1a): the seed of one weight or batch. */
function hash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, and the same in every JS engine. Values in [0, 1). */
export function random(seedText) {
  let a = hash(seedText);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const size = (shape) => shape.reduce((a, b) => a * b, 1);

/**
 * The `index`-th weight of layer `layer` (class `className`) of model `model`. Kernels:
 * LeCun-uniform over their fan-in (every axis but the last), so activations keep their
 * scale through deep stacks; biases small but not zero, so a bias bug shows in the
 * loss; BatchNormalization's gamma near 1, moving variance above 0.
 */
export function weightValues(model, layer, className, index, shape) {
  const rnd = random(`${model}/${layer}/${index}`);
  const out = new Float32Array(size(shape));
  if (shape.length >= 2) {
    const fanIn = size(shape.slice(0, -1));
    const limit = Math.sqrt(3 / fanIn);
    for (let i = 0; i < out.length; i++) out[i] = (2 * rnd() - 1) * limit;
  } else if (className === 'BatchNormalization') {
    // gamma, beta, moving mean, moving variance (Keras's order, TF.js's too).
    const [base, spread] = [[1, 0.1], [0, 0.1], [0, 0.1], [1, 0.1]][index];
    for (let i = 0; i < out.length; i++) out[i] = base + (index === 3 ? rnd() : 2 * rnd() - 1) * spread;
  } else {
    for (let i = 0; i < out.length; i++) out[i] = (2 * rnd() - 1) * 0.05;
  }
  return out;
}

/** Batch `step` of `model` at its batch size: {x, xShape, y, yShape} as Float32Arrays. */
export function batch(model, step, labelShape) {
  const xShape = [model.batch, ...model.inputShape];
  const yShape = [model.batch, ...labelShape];
  const rx = random(`${model.id}/x/${step}`);
  const x = new Float32Array(size(xShape));
  for (let i = 0; i < x.length; i++) x[i] = rx();
  const ry = random(`${model.id}/y/${step}`);
  const y = new Float32Array(size(yShape));
  const classes = model.labels === 'binary' ? 2 : model.classes;
  for (let i = 0; i < y.length; i++) y[i] = Math.floor(ry() * classes);
  return { x, xShape, y, yShape };
}
