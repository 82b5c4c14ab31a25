// The four seed models of the bench, written once as engine-neutral layer lists that
// both engines build (convbook through engine.layer, TF.js through tf.layers). Configs
// use the camelCase keys both accept. Sizes (`full`) are far below the book's (8.1:
// batch 64; 8.2: 180×180, batch 32; 9.2: 200×200, batch 64; 9.3: 180×180, batch 32):
// on a shared software adapter TF.js's CPU backend takes minutes per book-sized step.
// `quick` sizes are tiny, for the CI run.
//
// Left out on purpose, in both engines alike: Rescaling (the batches are already in
// [0, 1)), data augmentation and Dropout (random in training, so the two engines'
// first-step losses could not agree).

/** A chain of layers, each fed by the one before (the first by the model input). */
function chain(specs) {
  return specs.map(([name, className, config]) => ({ name, className, config }));
}

function mnist() {
  return chain([
    ['conv1', 'Conv2D', { filters: 32, kernelSize: 3, activation: 'relu' }],
    ['pool1', 'MaxPooling2D', { poolSize: 2 }],
    ['conv2', 'Conv2D', { filters: 64, kernelSize: 3, activation: 'relu' }],
    ['pool2', 'MaxPooling2D', { poolSize: 2 }],
    ['conv3', 'Conv2D', { filters: 128, kernelSize: 3, activation: 'relu' }],
    ['flatten', 'Flatten', {}],
    ['dense', 'Dense', { units: 10, activation: 'softmax' }],
  ]);
}

function catsVsDogs() {
  const layers = [];
  [32, 64, 128, 256, 256].forEach((filters, i) => {
    if (i > 0) layers.push([`pool${i}`, 'MaxPooling2D', { poolSize: 2 }]);
    layers.push([`conv${i + 1}`, 'Conv2D', { filters, kernelSize: 3, activation: 'relu' }]);
  });
  layers.push(['flatten', 'Flatten', {}], ['dense', 'Dense', { units: 1, activation: 'sigmoid' }]);
  return chain(layers);
}

function segmentation() {
  const conv = (filters, strides) => ({ filters, kernelSize: 3, strides, activation: 'relu', padding: 'same' });
  return chain([
    ['conv1', 'Conv2D', conv(64, 2)],
    ['conv2', 'Conv2D', conv(64, 1)],
    ['conv3', 'Conv2D', conv(128, 2)],
    ['conv4', 'Conv2D', conv(128, 1)],
    ['conv5', 'Conv2D', conv(256, 2)],
    ['conv6', 'Conv2D', conv(256, 1)],
    ['up1', 'Conv2DTranspose', conv(256, 1)],
    ['up2', 'Conv2DTranspose', conv(256, 2)],
    ['up3', 'Conv2DTranspose', conv(128, 1)],
    ['up4', 'Conv2DTranspose', conv(128, 2)],
    ['up5', 'Conv2DTranspose', conv(64, 1)],
    ['up6', 'Conv2DTranspose', conv(64, 2)],
    ['classes', 'Conv2D', { filters: 3, kernelSize: 3, activation: 'softmax', padding: 'same' }],
  ]);
}

function miniXception() {
  const layers = [{ name: 'stem', className: 'Conv2D', config: { filters: 32, kernelSize: 5, useBias: false } }];
  let x = 'stem';
  const add = (name, className, config, inputs) => {
    layers.push({ name, className, config, inputs });
    return name;
  };
  for (const size of [32, 64, 128, 256, 512]) {
    const residual = x;
    const b = `block${size}`;
    x = add(`${b}_bn1`, 'BatchNormalization', {}, [x]);
    x = add(`${b}_relu1`, 'Activation', { activation: 'relu' }, [x]);
    x = add(`${b}_sep1`, 'SeparableConv2D', { filters: size, kernelSize: 3, padding: 'same', useBias: false }, [x]);
    x = add(`${b}_bn2`, 'BatchNormalization', {}, [x]);
    x = add(`${b}_relu2`, 'Activation', { activation: 'relu' }, [x]);
    x = add(`${b}_sep2`, 'SeparableConv2D', { filters: size, kernelSize: 3, padding: 'same', useBias: false }, [x]);
    x = add(`${b}_pool`, 'MaxPooling2D', { poolSize: 3, strides: 2, padding: 'same' }, [x]);
    const r = add(`${b}_residual`, 'Conv2D', { filters: size, kernelSize: 1, strides: 2, padding: 'same', useBias: false }, [residual]);
    x = add(`${b}_add`, 'Add', {}, [x, r]);
  }
  add('gap', 'GlobalAveragePooling2D', {}, [x]);
  add('dense', 'Dense', { units: 1, activation: 'sigmoid' }, ['gap']);
  return layers;
}

/**
 * `labels`: 'sparse' (integer classes, sparse categorical crossentropy, one label per
 * output position) or 'binary' (0/1, binary crossentropy).
 */
const MODELS = [
  {
    id: 'convnet-8.1',
    title: '8.1 MNIST convnet',
    layers: mnist,
    input: () => [28, 28, 1],
    labels: 'sparse',
    classes: 10,
    sizes: { full: { side: 28, batch: 16 }, quick: { side: 28, batch: 2 } },
  },
  {
    id: 'convnet-8.2',
    title: '8.2 cats vs dogs convnet',
    layers: catsVsDogs,
    input: (side) => [side, side, 3],
    labels: 'binary',
    // 78 is the smallest side this stack of valid convs and pools accepts.
    sizes: { full: { side: 90, batch: 1 }, quick: { side: 78, batch: 1 } },
  },
  {
    id: 'segmentation-9.2',
    title: '9.2 segmentation',
    layers: segmentation,
    input: (side) => [side, side, 3],
    labels: 'sparse',
    classes: 3,
    sizes: { full: { side: 24, batch: 1 }, quick: { side: 8, batch: 1 } },
  },
  {
    id: 'mini-xception-9.3',
    title: '9.3 mini-Xception',
    layers: miniXception,
    input: (side) => [side, side, 3],
    labels: 'binary',
    sizes: { full: { side: 48, batch: 1 }, quick: { side: 24, batch: 1 } },
  },
];

/**
 * Calls per measurement: `warmup` untimed, then up to `timed` timed ones, stopping
 * early once they have taken `budgetMs` (at least one always runs): on a software
 * adapter one train step of a slow backend can take a minute. Three warm-ups let V8 tier the
 * wasm up before timing (its first calls run 1.5–2.5× slower than steady state), and nine
 * timed calls keep a software adapter's run-to-run swings (±20 % per step) out of the median.
 * `rounds` runs every case that many times, alternating the engines (www/bench/main.js).
 */
export const ITERATIONS = { full: { warmup: 3, timed: 9, budgetMs: 30_000, rounds: 2 }, quick: { warmup: 1, timed: 1, budgetMs: 0, rounds: 1 } };

/** The models at `mode` ('full' or 'quick'): {id, title, inputShape, batch, layers, ...}. */
export function benchModels(mode) {
  return MODELS.map((m) => {
    const { side, batch } = m.sizes[mode];
    return { id: m.id, title: m.title, side, batch, inputShape: m.input(side), layers: m.layers(), labels: m.labels, classes: m.classes };
  });
}

/** The output shape of a model without its batch axis, for the labels: the last layer's. */
export function outputPositions(model) {
  const [h, w] = model.inputShape;
  // Only the segmentation model has a spatial output (same size as its input).
  return model.id.startsWith('segmentation') ? [h, w, 1] : [1];
}
