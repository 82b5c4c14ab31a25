// TF.js 4.22's side of a bench case: its prebuilt scripts (copied next to the page by
// the build, see vite.config.mjs), the same layers through tf.layers, the same weights.

import { weightValues } from './seeded.js';

const FACTORY = {
  Conv2D: 'conv2d',
  Conv2DTranspose: 'conv2dTranspose',
  SeparableConv2D: 'separableConv2d',
  MaxPooling2D: 'maxPooling2d',
  Flatten: 'flatten',
  Dense: 'dense',
  BatchNormalization: 'batchNormalization',
  Activation: 'activation',
  Add: 'add',
  GlobalAveragePooling2D: 'globalAveragePooling2d',
};

const SCRIPTS = { webgpu: ['tf.min.js', 'tf-backend-webgpu.min.js'], wasm: ['tf.min.js', 'tf-backend-wasm.min.js'], cpu: ['tf.min.js'] };

// The page's folder holds tfjs/ in the build (dist/bench/tfjs/).
const TFJS = new URL('./tfjs/', document.baseURI).href;

function loadScript(src) {
  return new Promise((ok, fail) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = ok;
    s.onerror = () => fail(new Error(`cannot load ${src} (run \`cargo xtask build\`, which copies TF.js next to the bench page)`));
    document.head.append(s);
  });
}

export async function loadTfjs(backend) {
  for (const file of SCRIPTS[backend]) await loadScript(TFJS + file);
  const tf = window.tf;
  if (backend === 'wasm') tf.wasm.setWasmPaths(TFJS);
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js: the ${backend} backend did not initialise`);
  await tf.ready();
  let adapter = null;
  if (backend === 'webgpu') {
    const info = tf.backend().adapterInfo;
    adapter = info ? [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || null : null;
  }
  return {
    engine: 'tfjs',
    backend,
    version: tf.version.tfjs,
    adapter,
    compileTimes: () => null,
    memory: () => tf.memory(),
    build: (model) => build(tf, model),
  };
}

async function build(tf, model) {
  const input = tf.input({ shape: model.inputShape, name: 'input' });
  const outputs = new Map();
  let last = input;
  const layers = [];
  for (const spec of model.layers) {
    const layer = tf.layers[FACTORY[spec.className]]({ ...spec.config, name: spec.name });
    const inputs = spec.inputs ? spec.inputs.map((n) => outputs.get(n)) : [last];
    last = layer.apply(inputs.length === 1 ? inputs[0] : inputs);
    outputs.set(spec.name, last);
    layers.push(layer);
  }
  const net = tf.model({ inputs: input, outputs: last, name: model.id });
  for (const [i, spec] of model.layers.entries()) {
    const current = layers[i].getWeights();
    if (current.length === 0) continue;
    const values = current.map((w, k) => tf.tensor(weightValues(model.id, spec.name, spec.className, k, w.shape), w.shape));
    layers[i].setWeights(values);
    tf.dispose(values);
  }
  // RMSprop as Keras's defaults: rho 0.9, no momentum, epsilon 1e-7.
  const optimizer = tf.train.rmsprop(1e-3, 0.9, 0, 1e-7);
  const loss = model.labels === 'binary' ? 'binaryCrossentropy' : 'sparseCategoricalCrossentropy';
  net.compile({ optimizer, loss });
  return {
    tensors: (b) => ({ x: tf.tensor(b.x, b.xShape), y: tf.tensor(b.y, b.yShape) }),
    free: (t) => tf.dispose([t.x, t.y]),
    async predict(t) {
      const out = net.predict(t.x, { batchSize: model.batch });
      await out.data();
      out.dispose();
    },
    async train(t) {
      // trainOnBatch reads the loss back: the step ends on a sync.
      const loss = await net.trainOnBatch(t.x, t.y);
      return Array.isArray(loss) ? loss[0] : loss;
    },
    dispose() {
      net.dispose();
      optimizer.dispose();
    },
  };
}
