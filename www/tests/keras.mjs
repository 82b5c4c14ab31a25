// Trains the chapter 8.1 convnet through the notebook's Keras-shaped API (www/kernel/keras.js)
// on real digits from www/data, on WebGPU, and publishes the history on window.kerasResults.

import init, { Engine } from '../pkg/convbook.js';
import { kerasGlobals } from '../kernel/keras.js';

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

try {
  await init();
  const engine = await Engine.create('webgpu');
  const { keras, layers } = kerasGlobals({ engine }, display);
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
  window.kerasResults = {
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
