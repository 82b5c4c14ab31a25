// The Keras-shaped API cells use: `keras.Input`, `layers.Conv2D(32, 3, {activation: "relu"})(x)`,
// `keras.Model(inputs, outputs)`, `model.summary()`, `await model.fit(x, y, {...})`.
// Layers and models are engine objects; this file only gives them Keras's calling
// conventions and connects fit's per-batch hook to progress bars, live curves and the
// Interrupt button.

import { checkInterrupt } from './interrupt.js';
import { readModelFiles, writeModelFiles } from './model-files.js';

const isOptions = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v?.__wbg_ptr > 0);

const snakeCase = (k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

// Positional arguments in Keras's order (the engine's registry gives `names`), then an
// options object, as Python Keras: `layers.Dense(10, "relu")` sets `activation`.
function configFrom(cls, names, args) {
  const list = [...args];
  while (list.length && list[list.length - 1] === undefined) list.pop();
  const options = isOptions(list[list.length - 1]) ? list.pop() : {};
  if (list.length > names.length) {
    const takes = names.length ? `at most ${names.length} positional argument${names.length > 1 ? 's' : ''} (${names.join(', ')})` : 'no positional arguments';
    throw new Error(`${cls}: takes ${takes}, got ${list.length}`);
  }
  const config = {};
  list.forEach((v, i) => {
    if (v !== undefined) config[names[i]] = v;
  });
  for (const [key, value] of Object.entries(options)) {
    if (snakeCase(key) in config) throw new Error(`${cls}: got multiple values for argument "${snakeCase(key)}"`);
    config[key] = value;
  }
  return config;
}

// A layer callable on symbolic tensors (one, or a list for Add/Concatenate). A model
// used as a layer (getLayer("conv_base")) comes back as the model.
function callable(jsLayer, wrapModel) {
  const nested = wrapModel && jsLayer.asModel();
  if (nested) return wrapModel(nested);
  const call = (x) => {
    const list = Array.isArray(x) ? x : [x];
    // The engine takes handles by value; pass copies so the caller's stay usable.
    return jsLayer.apply(list.map((t) => t.clone()));
  };
  Object.defineProperty(call, 'name', { value: jsLayer.name });
  Object.defineProperties(call, {
    layer: { value: jsLayer },
    className: { get: () => jsLayer.className },
    trainable: { get: () => jsLayer.trainable, set: (v) => (jsLayer.trainable = v) },
  });
  call.countParams = () => jsLayer.countParams();
  call.weights = () => jsLayer.weights();
  call.getWeights = () => jsLayer.getWeights();
  // The engine takes the tensors by value: pass handles, keep the caller's usable.
  call.setWeights = (values) => jsLayer.setWeights(values.map((t) => t.clone()));
  return call;
}

// Keras's layer.output: the layer's symbolic output inside the model it was taken from,
// so `keras.Model(model.input, model.getLayer(name).output)` cuts the model there.
function withOutput(layer, jsModel, name) {
  if (layer.output === undefined && !('output' in layer)) {
    Object.defineProperty(layer, 'output', { get: () => jsModel.layerOutput(name) });
  }
  return layer;
}

export function kerasGlobals(loaded, display) {
  if (!loaded) return {};
  const { engine } = loaded;

  // Concrete tensors (data) as opposed to symbolic ones (KerasTensor, for building models).
  const isData = (t) => !!loaded.Tensor && t instanceof loaded.Tensor;

  // Layer classes and their positional arguments come from the engine's registry.
  const layers = {};
  for (const [cls, names] of Object.entries(engine.layerSignatures())) {
    layers[cls] = (...args) => callable(engine.layer(cls, configFrom(cls, names, args)));
  }
  layers.add = (inputs, opts) => layers.Add(opts)(inputs);
  layers.concatenate = (inputs, opts) => layers.Concatenate(opts)(inputs);

  // The engine reads the options (Keras's defaults, unknown keys refused) and returns
  // {class_name, config} with every setting filled in, as fit and compile take them.
  const callbacks = {
    EarlyStopping: (o) => engine.callback('EarlyStopping', o),
    /** With a filepath, the model is saved there (see model.save); "{epoch}" or "{epoch:02d}" in it is replaced. */
    ModelCheckpoint: (o) => engine.callback('ModelCheckpoint', o),
  };

  // Keras takes one array, a list (input/output order) or an object by layer name.
  function arrays(v, names, what) {
    if (v === undefined || v === null) return [];
    if (Array.isArray(v)) return v.map((t) => t.clone());
    if (isOptions(v)) {
      const unknown = Object.keys(v).filter((k) => !names.includes(k));
      if (unknown.length) throw new Error(`${what}: ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not among the model's names (${names.join(', ')})`);
      return names.map((n) => {
        if (!(n in v)) throw new Error(`${what}: no array for "${n}" (the model's names: ${names.join(', ')})`);
        return v[n].clone();
      });
    }
    return [v.clone()];
  }

  function wrapModel(m) {
    const inputNames = m.inputNames();
    const outputNames = m.outputNames();
    const outputCount = outputNames.length;
    const xs = (v, what) => arrays(v, inputNames, what);
    const ys = (v, what) => arrays(v, outputNames, what);
    // Keras returns one array for one output, a list for several.
    const unwrap = (list) => (outputCount === 1 ? list[0] : list);
    // Called on symbolic tensors, a model is a layer of the model being built; called on
    // data, it is Keras's `model(x)` (a promise here).
    const model = (x, opts = {}) => {
      const list = Array.isArray(x) ? x : [x];
      if (list.some(isData)) return model.call(x, opts);
      return m.asLayer().apply(list.map((t) => t.clone()));
    };
    const compiled = { metrics: [] };
    Object.defineProperty(model, 'name', { value: m.name });
    // Descriptors, not Object.assign: the getters must stay getters.
    Object.defineProperties(model, Object.getOwnPropertyDescriptors({
      engineModel: m,
      get layer() {
        return m.asLayer();
      },
      get trainable() {
        return m.trainable;
      },
      set trainable(on) {
        m.trainable = on;
      },
      get className() {
        return m.asLayer().className;
      },
      summary() {
        const text = m.summary();
        console.log(text);
        return text;
      },
      summaryData: () => m.summaryData(),
      countParams: () => m.countParams(),
      countTrainableParams: () => m.countTrainableParams(),
      inputNames,
      outputNames,
      getLayer: (name) => withOutput(callable(m.getLayer(name), wrapModel), m, name),
      get layers() {
        return m.layers().map((l) => withOutput(callable(l, wrapModel), m, l.name));
      },
      /** Gradient of a class score (default: the top one) w.r.t. the image: {classIndex, gradient}. */
      inputGradient: (image, classIndex) => m.inputGradient(image, classIndex),
      /** Grad-CAM at a conv layer: {classIndex, activations, gradients, heatmap (h, w) in [0, 1]}. */
      gradCam: (layerName, image, classIndex) => m.gradCam(layerName, image, classIndex),
      getWeights: () => m.asLayer().getWeights(),
      /** Keras's model.save(path): a name ("model.keras"), or "indexeddb://name" to keep it across reloads. */
      async save(path) {
        await writeModelFiles(path, await m.toFiles());
      },
      /** The model as a Keras 3 .keras archive (Uint8Array), as Keras's load_model reads it. */
      toKeras: () => m.toKeras(),
      /** Keras's model.load_weights(src): a .keras, .weights.h5 or legacy .h5, by name, URL, bytes or File. */
      async loadWeights(src) {
        const files = await readModelFiles(src);
        if (!files.bytes) throw new Error(`loadWeights(${files.source}): a TF.js model.json; load it with keras.models.loadModel`);
        m.loadWeights(files.bytes, files.source);
      },
      weights: () => m.asLayer().weights(),
      get inputs() {
        return m.inputs();
      },
      get outputs() {
        return m.outputs();
      },
      get input() {
        return m.inputs()[0];
      },
      get output() {
        return m.outputs()[0];
      },
      /** loss and metrics: one for all outputs, a list in output order, or {outputName: ...}. */
      compile(opts = {}) {
        m.compile(opts);
        compiled.metrics = opts.metrics ?? [];
      },
      /** The compiled optimizer, {class_name, config} with every hyperparameter (null before compile). */
      optimizerConfig: () => m.optimizerConfig(),
      async fit(x, y, opts = {}) {
        // The engine reads everything else (epochs, batchSize, callbacks, ...); these hold
        // arrays and functions, and verbose is for this page's progress bars.
        const { validationData, validation_data, onBatchEnd, onEpochEnd, ...engineOpts } = opts;
        const [vx, vy] = validationData ?? validation_data ?? [];
        const verbose = opts.verbose ?? 1;
        // With several outputs the log names come from the outputs: let the first epoch's
        // logs name the curves.
        const series = outputCount > 1 ? null : ['loss', ...(compiled.metrics.length ? ['accuracy'] : [])];
        if (series && vx) series.push(...series.map((k) => `val_${k}`));
        const curves = verbose ? display.chart({ title: 'training curves', x: 'epoch', xLabel: 'epoch', ...(series ? { series } : {}) }) : null;
        let bar = null;
        let barEpoch = -1;
        // An epoch's bar appears with its first batch (an early stop leaves no empty bar)
        // but counts time from the epoch's start, so the rate and ETA include that batch.
        let epochStarted = performance.now();
        const startBar = (epoch, epochs, steps) => {
          bar?.done();
          bar = display.progress({ total: steps, label: `epoch ${epoch + 1}/${epochs}`, started: epochStarted });
          barEpoch = epoch;
        };
        const checkpoints = (opts.callbacks ?? []).filter((c) => c?.class_name === 'ModelCheckpoint' && c.config?.filepath).map((c) => checkpointWriter(model, c.config));
        // An error thrown by a callback (InterruptedError, a user's onBatchEnd) crosses the
        // engine as a plain Error; keep the original so the cell reports what happened.
        let callbackError = null;
        const guarded = (fn) => async (...args) => {
          try {
            return await fn(...args);
          } catch (e) {
            callbackError = e;
            throw e;
          }
        };
        const history = await m.fit(
          engine,
          xs(x, 'fit x'),
          ys(y, 'fit y'),
          engineOpts,
          xs(vx, 'fit validationData x'),
          ys(vy, 'fit validationData y'),
          guarded(async (logs) => {
            if (verbose && logs.epoch !== barEpoch) startBar(logs.epoch, logs.epochs, logs.steps);
            bar?.update(logs.step, logs.logs);
            onBatchEnd?.(logs);
            // Yields to the event loop, so the page stays live and Interrupt is seen.
            await checkInterrupt();
          }),
          guarded(async (epoch, logs) => {
            curves?.push({ epoch: epoch + 1, ...logs });
            for (const c of checkpoints) await c.epochEnd(epoch, logs);
            epochStarted = performance.now();
            onEpochEnd?.(epoch, logs);
            await checkInterrupt();
          }),
        ).catch((e) => {
          throw callbackError ?? e;
        });
        bar?.done();
        return history;
      },
      evaluate: (x, y, opts) => m.evaluate(engine, xs(x, 'evaluate x'), ys(y, 'evaluate y'), opts),
      predict: async (x, opts) => unwrap(await m.predict(engine, xs(x, 'predict x'), opts, 'predict')),
      /** Keras's `model(x, training=True)`: the forward pass of fit (augmentation, dropout) on x. */
      call: async (x, opts) => unwrap(await m.predict(engine, xs(x, 'model(x)'), opts, 'model(x)')),
    }));
    return model;
  }

  // ModelCheckpoint(filepath): save after an epoch whose monitored value improved (or
  // after every epoch without saveBestOnly), as Keras does.
  function checkpointWriter(model, c) {
    let best = null;
    const higherIsBetter = /acc/.test(c.monitor);
    return {
      async epochEnd(epoch, logs) {
        const value = logs[c.monitor];
        if (value === undefined) throw new Error(`ModelCheckpoint monitors "${c.monitor}", which is not among the logs (${Object.keys(logs).join(', ')})`);
        const better = best === null || (higherIsBetter ? value > best : value < best);
        if (better) best = value;
        if (better || !c.save_best_only) {
          const path = c.filepath.replace(/\{epoch(?::0?(\d+)d)?\}/g, (_, width) => String(epoch + 1).padStart(Number(width ?? 0), '0'));
          await model.save(path);
        }
      },
    };
  }

  // Keras's Sequential without an input shape: built by its first call, on symbolic
  // tensors or on data, with that input's shape (the book's data_augmentation).
  function deferredSequential(build, name) {
    let model = null;
    const notBuilt = () => {
      throw new Error(
        `Sequential "${name}" is not built yet: call it on an input first, or give it a shape (keras.Input({shape}) first in the list, or {inputShape})`,
      );
    };
    const call = (x, opts) => {
      const first = Array.isArray(x) ? x[0] : x;
      const shape = Array.from(first?.shape ?? []).slice(1);
      if (!shape.length || shape.some((d) => d === null)) throw new Error(`Sequential "${name}": cannot build from an input of shape ${JSON.stringify(first?.shape)}`);
      model ??= build(shape);
      return model(x, opts);
    };
    const eager = new Set(['summary', 'summaryData', 'countParams', 'countTrainableParams', 'layers', 'getLayer', 'fit', 'predict', 'evaluate', 'compile', 'layer']);
    return new Proxy(call, {
      get(target, prop) {
        if (model) return prop === 'built' ? true : Reflect.get(model, prop);
        if (prop === 'name') return name;
        if (prop === 'built') return false;
        if (prop === 'build') return (shape) => void (model ??= build(Array.from(shape).slice(shape[0] === null ? 1 : 0)));
        if (eager.has(prop)) notBuilt();
        return undefined;
      },
      set(target, prop, value) {
        if (!model) notBuilt();
        return Reflect.set(model, prop, value);
      },
    });
  }

  const keras = {
    Input(arg = {}) {
      const { shape, name } = Array.isArray(arg) ? { shape: arg } : arg;
      if (!Array.isArray(shape)) throw new Error('keras.Input: pass {shape: [...]} (without the batch axis)');
      return engine.input(shape, name);
    },
    Model(inputs, outputs, opts = {}) {
      if (isOptions(inputs) && outputs === undefined) ({ inputs, outputs, ...opts } = inputs);
      const list = (v) => (Array.isArray(v) ? v : [v]).map((t) => t.clone());
      return wrapModel(engine.model(list(inputs), list(outputs), opts.name));
    },
    Sequential(list, opts = {}) {
      const [first, ...rest] = list;
      const startsWithInput = first && !first.layer && Array.isArray(first.shape);
      const shape = opts.inputShape ?? (startsWithInput ? first.shape.slice(1) : null);
      const layersOnly = startsWithInput ? rest : list;
      // Entries are layers or models (a model in the list becomes one layer).
      const build = (inputShape) => wrapModel(engine.sequential(inputShape, layersOnly.map((l) => l.layer), opts.name));
      return shape ? build(shape) : deferredSequential(build, opts.name ?? 'sequential');
    },
    layers,
    callbacks,
    models: {
      /**
       * A model saved with model.save (a name or "indexeddb://name"), a URL (a TF.js
       * model.json, a .keras or an .h5), bytes or a picked File; the format is told by its bytes.
       */
      async loadModel(path) {
        const files = await readModelFiles(path);
        if (files.bytes) return wrapModel(engine.loadKerasModel(files.bytes, files.source));
        return wrapModel(engine.loadModel(files.modelJson, files.shards, files.source));
      },
    },
    // {class_name, config} with Keras's defaults filled in by the engine; compile takes it.
    optimizers: {
      SGD: (o) => engine.optimizer('SGD', o),
      RMSprop: (o) => engine.optimizer('RMSprop', o),
      Adam: (o) => engine.optimizer('Adam', o),
    },
  };
  return { keras, layers };
}
