// Trains the chapter 8.1 convnet through the notebook's Keras-shaped API (www/kernel/keras.js)
// on real digits from www/data, on WebGPU, and publishes the history on window.kerasResults.

import init, { Engine, Tensor } from '../pkg/convbook.js';
import { kerasGlobals } from '../kernel/keras.js';
import { readModelFiles } from '../kernel/model-files.js';

const log = (line) => {
  document.getElementById('log').textContent += `${line}\n`;
};

// The notebook's display API, reduced to what fit uses.
const display = {
  progress: () => ({ update() {}, done() {} }),
  chart: () => ({ push() {} }),
};

async function digits(count) {
  const response = await fetch('../data/mnist_5k.csv.gz');
  const text = await new Response(response.body.pipeThrough(new DecompressionStream('gzip'))).text();
  const rows = text.trim().split('\n');
  // The file is ordered by class: take an even spread.
  const step = Math.floor(rows.length / count);
  const images = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const values = rows[i * step + (i % step)].split(',').map(Number);
    images.set(values.slice(0, 784), i * 784);
    labels[i] = values[784];
  }
  return { images, labels };
}

const errorOf = (f) => {
  try {
    f();
    return 'accepted';
  } catch (e) {
    return String(e?.message ?? e);
  }
};

// Layer arguments as Python Keras takes them: positional in Keras's order (from the
// engine's registry), aliases, and errors for too many, twice-given or misspelled ones.
function layerArgumentChecks(keras, layers) {
  const x = keras.Input([6, 6, 2]);
  const dense = layers.Dense(3, 'relu', false);
  dense(layers.Flatten()(x));
  const pooled = layers.GlobalMaxPool2D(undefined, true)(x);
  return {
    dense: [dense.className, dense.countParams()],
    relu: errorOf(() => layers.Dense(3, 'relu')(layers.Flatten()(x))),
    alias: [layers.GlobalMaxPool2D === undefined, Array.from(pooled.shape)],
    tooMany: errorOf(() => layers.Dense(3, 'relu', true, 'extra')),
    twice: errorOf(() => layers.Dense(3, { units: 4 })),
    typo: errorOf(() => layers.Dense(3, { activaton: 'relu' })),
    frozen: layers.Dense(3, { trainable: false }).trainable,
  };
}

// Models inside models, and several inputs and outputs, as chapter cells write them.
async function structureChecks(engine, keras, layers, images) {
  const out = {};
  // An augmentation Sequential and a conv base are each one layer of the outer model.
  const augment = keras.Sequential([layers.RandomFlip('horizontal'), layers.RandomRotation(0.1)], { inputShape: [28, 28, 1], name: 'augment' });
  const baseIn = keras.Input({ shape: [28, 28, 1] });
  const base = keras.Model(baseIn, layers.MaxPooling2D(2)(layers.Conv2D(8, 3, { activation: 'relu' })(baseIn)), { name: 'base' });
  const inputs = keras.Input({ shape: [28, 28, 1] });
  let x = augment(inputs);
  x = layers.Rescaling(1 / 255)(x);
  x = base(x);
  x = layers.Flatten()(x);
  const model = keras.Model(inputs, layers.Dense(10, { activation: 'softmax' })(x));
  base.trainable = false;
  const rows = model.summaryData().rows.map((r) => [r.name, r.class_name, r.output_shape, r.params]);
  out.nested = {
    rows,
    trainable: model.countTrainableParams(),
    total: model.countParams(),
    innerFrozen: base.layers.every((l) => !l.trainable),
    getLayerIsModel: model.getLayer('base').name === 'base' && typeof model.getLayer('base').summary === 'function',
  };
  const [kernelBefore] = base.getLayer(base.layers[1].name).getWeights();
  const before = Array.from(await kernelBefore.data());
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const xs = engine.tensorUint8(images.subarray(0, 64 * 784), [64, 28, 28, 1]);
  const labels = engine.tensor(new Float32Array(64).map((_, i) => i % 10), [64]);
  const h = await model.fit(xs, labels, { epochs: 2, batchSize: 16, verbose: 0 });
  const after = Array.from(await base.getLayer(base.layers[1].name).getWeights()[0].data());
  out.nested.frozenUnchanged = before.every((v, i) => v === after[i]);
  out.nested.loss = h.history.loss;
  out.nested.eager = Array.from((await base(xs)).shape);

  // Two inputs, two outputs; x, y and losses given by name.
  const pixels = keras.Input({ shape: [4], name: 'pixels' });
  const meta = keras.Input({ shape: [3], name: 'meta' });
  let z = layers.concatenate([pixels, meta]);
  z = layers.Dense(16, { activation: 'relu' })(z);
  const digit = layers.Dense(3, { activation: 'softmax', name: 'digit' })(z);
  const even = layers.Dense(1, { activation: 'sigmoid', name: 'is_even' })(z);
  const two = keras.Model([pixels, meta], [digit, even]);
  out.multi = {
    flatMetrics: errorOf(() => two.compile({ loss: 'binary_crossentropy', metrics: ['accuracy'] })),
    badLossName: errorOf(() => two.compile({ loss: { digit: 'sparse_categorical_crossentropy', ages: 'mse' } })),
  };
  two.compile({
    optimizer: keras.optimizers.Adam({ learningRate: 0.02 }),
    loss: { digit: 'sparse_categorical_crossentropy', is_even: 'binary_crossentropy' },
    lossWeights: { is_even: 0.5 },
    metrics: { digit: ['accuracy'], is_even: ['accuracy'] },
  });
  const n = 128;
  const px = new Float32Array(n * 4).map((_, i) => Math.sin(i * 12.9898) * 0.9);
  const mt = new Float32Array(n * 3).map((_, i) => Math.cos(i * 78.233) * 0.9);
  const cls = new Float32Array(n).map((_, i) => [0, 1, 2].reduce((b, j) => (px[i * 4 + j] > px[i * 4 + b] ? j : b), 0));
  const flag = new Float32Array(n).map((_, i) => (mt[i * 3] > 0 ? 1 : 0));
  const X = { pixels: engine.tensor(px, [n, 4]), meta: engine.tensor(mt, [n, 3]) };
  const Y = [engine.tensor(cls, [n]), engine.tensor(flag, [n, 1])];
  const hist = await two.fit(X, Y, { epochs: 25, batchSize: 32, validationData: [X, { digit: Y[0], is_even: Y[1] }], verbose: 0 });
  out.multi.keys = Object.keys(hist.history).sort();
  out.multi.loss = hist.history.loss;
  out.multi.evaluation = await two.evaluate([X.pixels, X.meta], Y);
  out.multi.predictShapes = (await two.predict(X)).map((t) => Array.from(t.shape));
  out.multi.missingInput = await two.predict({ pixels: X.pixels }).then(() => 'accepted', (e) => String(e?.message ?? e));
  return out;
}

// model.save / keras.models.loadModel / ModelCheckpoint(filepath), and a Keras model
// file (TF.js layers format, a frozen nested base) fetched by URL.
async function fileChecks(engine, keras, layers, model, images) {
  const out = {};
  const x = engine.tensorUint8(images.subarray(0, 8 * 784), [8, 28, 28, 1]);
  const want = Array.from(await (await model.predict(x)).data());
  const same = async (m) => {
    const got = Array.from(await (await m.predict(x)).data());
    return got.length === want.length && got.every((v, i) => Math.abs(v - want[i]) <= 1e-5 * Math.max(1, Math.abs(want[i])));
  };
  await model.save('convnet.keras');
  const fromMemory = await keras.models.loadModel('convnet.keras');
  out.memory = { same: await same(fromMemory), total: fromMemory.countParams(), names: fromMemory.layers.map((l) => l.name).join(',') === model.layers.map((l) => l.name).join(',') };
  await model.save('indexeddb://convnet');
  out.indexeddb = await same(await keras.models.loadModel('indexeddb://convnet'));
  out.missing = await keras.models.loadModel('nothing.keras').then(() => 'accepted', (e) => String(e?.message ?? e));
  out.toUrl = await model.save('https://example.com/model.json').then(() => 'accepted', (e) => String(e?.message ?? e));
  // A saved name that looks like a file name is still a saved name.
  await model.save('my_model.json');
  out.jsonName = await same(await keras.models.loadModel('my_model.json'));

  // A checkpoint keeps the best epoch by val_loss; loading it gives that epoch's model.
  const inputs = keras.Input({ shape: [28, 28, 1] });
  const small = keras.Model(inputs, layers.Dense(10, { activation: 'softmax' })(layers.Flatten()(layers.Rescaling(1 / 255)(inputs))));
  small.compile({ optimizer: keras.optimizers.SGD({ learningRate: 0.5 }), loss: 'sparse_categorical_crossentropy' });
  const labels = engine.tensor(new Float32Array(8).map((_, i) => i % 10), [8]);
  let saved = 0;
  const h = await small.fit(x, labels, {
    epochs: 4, batchSize: 4, verbose: 0, validationData: [x, labels],
    callbacks: [keras.callbacks.ModelCheckpoint({ filepath: 'best.keras', monitor: 'val_loss', saveBestOnly: true }),
      keras.callbacks.ModelCheckpoint({ filepath: 'epoch_{epoch:02d}.keras' })],
    onEpochEnd: () => saved++,
  });
  const best = await keras.models.loadModel('best.keras');
  best.compile({ loss: 'sparse_categorical_crossentropy' });
  const bestLoss = (await best.evaluate(x, labels)).loss;
  out.checkpoint = { valLoss: h.history.val_loss, bestLoss, epochs: saved, fourth: (await keras.models.loadModel('epoch_04.keras')).countParams() };

  const url = '/test-fixtures/io/keras3/nested/model.json';
  const transfer = await keras.models.loadModel(url);
  out.url = {
    rows: transfer.summaryData().rows.map((r) => `${r.name} (${r.class_name}) ${r.output_shape}`),
    trainable: transfer.countTrainableParams(),
    baseFrozen: transfer.getLayer('conv_base').trainable === false,
    predictShape: Array.from((await transfer.predict(engine.tensor(new Float32Array(2 * 8 * 8 * 3).fill(0.5), [2, 8, 8, 3]))).shape),
  };
  out.badUrl = await keras.models.loadModel('/test-fixtures/io/keras3/no-such/model.json').then(() => 'accepted', (e) => String(e?.message ?? e));
  out.kerasFiles = await kerasFileChecks(engine, keras);
  return out;
}

// Keras's own files (tests/fixtures/keras_files): .keras and .h5 by URL and as bytes,
// weights-only .h5 into an architecture, a .keras written here read back; each model's
// largest difference from Keras's prediction for an image of 0.5s.
async function kerasFileChecks(engine, keras) {
  const dir = '/test-fixtures/keras_files';
  const want = await (await fetch(`${dir}/small_fill05.json`)).json();
  const image = engine.tensor(new Float32Array(8 * 8 * 3).fill(want.fill), want.shape);
  const worst = async (m) => {
    const got = Array.from(await (await m.predict(image)).data());
    return got.length === want.y.length ? Math.max(...got.map((v, i) => Math.abs(v - want.y[i]))) : `length ${got.length}`;
  };
  const out = {};
  const byUrl = await keras.models.loadModel(`${dir}/small.keras`);
  out.keras = await worst(byUrl);
  out.h5 = await worst(await keras.models.loadModel(`${dir}/small.h5`));
  out.bytes = await worst(await keras.models.loadModel(new Uint8Array(await (await fetch(`${dir}/small.keras`)).arrayBuffer())));
  const architecture = await keras.models.loadModel(`${dir}/small.keras`);
  await architecture.loadWeights(`${dir}/small_legacy.weights.h5`);
  out.legacyWeights = await worst(architecture);
  out.written = await worst(await keras.models.loadModel(await byUrl.toKeras()));
  out.savedState = await savedStateCheck(engine, keras, dir);
  out.notKeras = await keras.models.loadModel(`${dir}/reference.npz`).then(() => 'accepted', (e) => String(e?.message ?? e));
  return out;
}

// model.save("x.keras") writes a Keras archive with the optimizer's state: a model Keras
// trained (trained_adam.keras), saved here and loaded back, takes the next training step
// Keras takes; the saved entry is the archive itself.
async function savedStateCheck(engine, keras, dir) {
  const step = await (await fetch(`${dir}/trained_adam_step.json`)).json();
  const trained = await keras.models.loadModel(`${dir}/trained_adam.keras`);
  await trained.save('trained.keras');
  const saved = await readModelFiles('trained.keras');
  const zip = saved.bytes && saved.bytes[0] === 0x50 && saved.bytes[1] === 0x4b;
  const reloaded = await keras.models.loadModel('trained.keras');
  const x = engine.tensor(Float32Array.from(step.x), step.x_shape);
  const y = engine.tensor(Float32Array.from(step.y), step.y_shape);
  await reloaded.fit(x, y, { epochs: 1, batchSize: step.x_shape[0], shuffle: false, verbose: 0 });
  const image = engine.tensor(new Float32Array(8 * 8 * 3).fill(step.fill), [1, 8, 8, 3]);
  const got = Array.from(await (await reloaded.predict(image)).data());
  const worst = Math.max(...got.map((v, i) => Math.abs(v - step.prediction[i])));
  // Without the state (a fresh Adam at the same rate) the step lands elsewhere.
  const fresh = await keras.models.loadModel(`${dir}/trained_adam.keras`);
  fresh.compile({ optimizer: keras.optimizers.Adam({ learningRate: 0.01 }), loss: 'categorical_crossentropy' });
  await fresh.fit(x, y, { epochs: 1, batchSize: step.x_shape[0], shuffle: false, verbose: 0 });
  const freshGot = Array.from(await (await fresh.predict(image)).data());
  const freshWorst = Math.max(...freshGot.map((v, i) => Math.abs(v - step.prediction[i])));
  return { zip, worst, freshWorst };
}

// Keras arguments: the engine fills in Keras's defaults and refuses unknown keys, naming
// the closest valid one; every optimizer option reaches the update.
async function argumentChecks(engine, keras, layers) {
  const refused = async (f) => {
    try {
      await f();
      return 'accepted';
    } catch (e) {
      return String(e?.message ?? e);
    }
  };
  const out = {};
  out.sgd = keras.optimizers.SGD({ momentum: 0.9 });
  out.rmsprop = keras.optimizers.RMSprop({ rho: 0.8, centered: true });
  out.adam = keras.optimizers.Adam({ beta_1: 0.8, amsgrad: true, learningRate: 0.01 });
  out.earlyStopping = keras.callbacks.EarlyStopping({ patience: 2 });

  // One weight w, x = 1, y = 1, mean squared error: g = 2 (w - 1). Three SGD steps with
  // momentum 0.9 from w = 0 at learning rate 0.1 give 0.2, 0.54, 0.938 (0.488 without momentum).
  const input = keras.Input({ shape: [1] });
  const model = keras.Model(input, layers.Dense(1, { useBias: false, name: 'w' })(input));
  model.getLayer('w').setWeights([engine.tensor(new Float32Array([0]), [1, 1])]);
  model.compile({ optimizer: keras.optimizers.SGD({ learningRate: 0.1, momentum: 0.9 }), loss: 'mse' });
  out.compiled = model.optimizerConfig();
  const one = engine.tensor(new Float32Array([1]), [1, 1]);
  await model.fit(one, one, { epochs: 3, batchSize: 1, shuffle: false, verbose: 0 });
  out.weightAfterMomentum = (await model.getLayer('w').getWeights()[0].data())[0];

  out.badFit = await refused(() => model.fit(one, one, { epochs: 1, batchSise: 4, verbose: 0 }));
  out.badCompile = await refused(() => model.compile({ optimizer: 'sgd', los: 'mse' }));
  out.badOptimizer = await refused(() => keras.optimizers.SGD({ momentun: 0.9 }));
  out.badCallback = await refused(() => keras.callbacks.EarlyStopping({ patiense: 3 }));
  out.badEvaluate = await refused(() => model.evaluate(one, one, { batchSise: 1 }));
  out.badPredict = await refused(() => model.predict(one, { batch_sise: 1 }));
  out.clipnorm = await refused(() => keras.optimizers.Adam({ clipnorm: 1 }));
  return out;
}

try {
  await init();
  const engine = await Engine.create('webgpu');
  const { keras, layers } = kerasGlobals({ engine, Tensor }, display);
  const inputs = keras.Input({ shape: [28, 28, 1] });
  let x = layers.Rescaling(1 / 255)(inputs);
  x = layers.Conv2D(32, 3, { activation: 'relu' })(x);
  x = layers.MaxPooling2D(2)(x);
  x = layers.Conv2D(64, 3, { activation: 'relu' })(x);
  x = layers.MaxPooling2D(2)(x);
  x = layers.Conv2D(128, 3, { activation: 'relu' })(x);
  x = layers.Flatten()(x);
  const outputs = layers.Dense(10, { activation: 'softmax' })(x);
  const model = keras.Model(inputs, outputs);
  const summary = model.summaryData();
  log(model.summary());
  model.compile({ optimizer: 'rmsprop', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });

  const { images, labels } = await digits(192);
  const xs = engine.tensorUint8(images, [192, 28, 28, 1]);
  const ys = engine.tensorUint8(labels, [192]);
  let batches = 0;
  const history = await model.fit(xs, ys, {
    epochs: 3,
    batchSize: 32,
    seed: 3,
    onBatchEnd: (l) => {
      batches += 1;
      log(`epoch ${l.epoch + 1} step ${l.step}/${l.steps}: ${JSON.stringify(l.logs)}`);
    },
  });
  const evaluation = await model.evaluate(xs, ys);
  const probs = await model.predict(engine.tensorUint8(images.subarray(0, 4 * 784), [4, 28, 28, 1]));
  // get_weights / set_weights: read the trained kernel, write known values, refuse bad lists.
  const conv = model.getLayer('conv2d');
  const [kernel, bias] = conv.getWeights();
  const trainedKernel = Array.from(await kernel.data());
  const halves = engine.tensor(new Float32Array(kernel.size).fill(0.5), kernel.shape);
  const ones = engine.tensor(new Float32Array(bias.size).fill(1), bias.shape);
  conv.setWeights([halves, ones]);
  const [k2, b2] = conv.getWeights();
  const setValues = [...new Set(await k2.data())].concat([...new Set(await b2.data())]);
  const refusals = [];
  for (const bad of [[halves], [ones, halves]]) {
    try {
      conv.setWeights(bad);
      refusals.push('accepted');
    } catch (e) {
      refusals.push(String(e?.message ?? e));
    }
  }
  const afterRefusal = [...new Set(await conv.getWeights()[0].data())];
  const structure = await structureChecks(engine, keras, layers, images);
  const files = await fileChecks(engine, keras, layers, model, images);
  const layerArgs = layerArgumentChecks(keras, layers);
  const args = await argumentChecks(engine, keras, layers);
  window.kerasResults = {
    structure,
    layerArgs,
    files,
    args,
    done: true,
    weights: {
      shapes: [kernel.shape, bias.shape].map((s) => Array.from(s)),
      trainedDistinct: new Set(trainedKernel).size,
      setValues,
      refusals,
      afterRefusal,
      halvesUsable: halves.shape.length,
    },
    backend: engine.backend().kind,
    total: summary.total_params,
    history: history.history,
    batches,
    evaluation,
    predictShape: Array.from(probs.shape),
  };
} catch (e) {
  window.kerasResults = { done: true, error: String(e?.message ?? e) };
}
log(JSON.stringify(window.kerasResults));
