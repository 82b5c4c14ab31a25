// The Keras-shaped API cells use: `keras.Input`, `layers.Conv2D(32, 3, {activation: "relu"})(x)`,
// `keras.Model(inputs, outputs)`, `model.summary()`, `await model.fit(x, y, {...})`.
// Layers and models are engine objects; this file only gives them Keras's calling
// conventions and connects fit's per-batch hook to progress bars, live curves and the
// Interrupt button.

import { checkInterrupt } from './interrupt.js';
import { readModelFiles, readsByRange, savesKerasArchive, writeModelFiles } from './model-files.js';
import { notePrinted } from './display.js';
import { fitDisplay } from './fit-curves.js';
import { applicationGlobals } from './applications.js';
import { createGradientTapes, withApplyGradients, zip } from './gradient-tape.js';

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
  /** The layer's weights as Variables (for tape.gradient and applyGradients). */
  Object.defineProperty(call, 'variables', { get: () => jsLayer.variables() });
  call.getWeights = () => jsLayer.getWeights();
  // The engine takes the tensors by value: pass handles, keep the caller's usable.
  call.setWeights = (values) => jsLayer.setWeights(values.map((t) => t.clone()));
  return call;
}

// Keras's layer.output and layer.input: symbolic tensors inside the model the layer was
// taken from, so `keras.Model(model.input, model.getLayer(name).output)` cuts the model
// there and `layers.Dense(2)(model.getLayer(name).output)` grafts a new head.
function withOutput(layer, jsModel, name) {
  if (layer.output === undefined && !('output' in layer)) {
    Object.defineProperty(layer, 'output', { get: () => jsModel.layerOutput(name) });
  }
  if (!('input' in layer)) {
    Object.defineProperty(layer, 'input', {
      get: () => {
        const inputs = jsModel.layerInputs(name);
        return inputs.length === 1 ? inputs[0] : inputs;
      },
    });
  }
  return layer;
}

// Keras's idiom `for layer in model.layers: layer.trainable = ...`, by name: `match` is
// a name, a RegExp, a predicate on the layer, or nothing (all). Nested models are
// searched too; a matching nested model is set as a whole. Returns the names set.
function setTrainableWhere(model, match, on) {
  const test = match === undefined ? () => true : match instanceof RegExp ? (l) => match.test(l.name) : typeof match === 'function' ? match : (l) => l.name === match;
  const changed = [];
  const walk = (m) => {
    for (const l of m.layers) {
      if (test(l)) {
        l.trainable = on;
        changed.push(l.name);
      } else if (l.engineModel) walk(l);
    }
  };
  walk(model);
  if (match !== undefined && !changed.length) throw new Error(`model "${model.name}": no layer matches ${match}`);
  return changed;
}

export function kerasGlobals(loaded, display) {
  if (!loaded) return {};
  const { engine } = loaded;

  // Compile ahead: a model just built, loaded or compiled has the engine create (on a
  // GPU) the pipelines its first batch needs, while the reader is still reading; with
  // `training`, those of the backward pass too. Not awaited: a failure here is left for
  // the real call to report.
  const warmUp = (m, training) => {
    m.warmUp(engine, training).catch(() => {});
    return m;
  };

  // Concrete tensors (data) as opposed to symbolic ones (KerasTensor, for building models).
  const isData = (t) => !!loaded.Tensor && t instanceof loaded.Tensor;
  const tapes = createGradientTapes(loaded);

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
        notePrinted(text);
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
      /** Keras's model.trainable_weights: Variables gradient descent updates (frozen layers left out). */
      get trainableWeights() {
        return m.trainableVariables();
      },
      get trainableVariables() {
        return m.trainableVariables();
      },
      /** Every weight as a Variable, trainable or not. */
      get variables() {
        return m.variables();
      },
      /** Freeze layers by name, RegExp or predicate (all without one); returns the names frozen. */
      freeze: (match) => setTrainableWhere(model, match, false),
      /** Unfreeze layers by name, RegExp or predicate (all without one); returns their names. */
      unfreeze: (match) => setTrainableWhere(model, match, true),
      /** Keras's model.get_weights(): every weight's value, layer by layer in Keras order. */
      getWeights: () => m.getWeights(),
      /** Keras's model.set_weights(list): as many tensors as getWeights() gives, same shapes; nothing changes unless all fit. */
      setWeights: (values) => m.setWeights(values.map((t) => t.clone())),
      /**
       * Keras's model.save(path): a name ("model.keras"), or "indexeddb://name" to keep it
       * across reloads. A name ending in .keras holds a Keras 3 archive (with the optimizer's
       * state when compiled) that Keras's load_model opens; other names hold TF.js files.
       */
      async save(path) {
        await writeModelFiles(path, savesKerasArchive(path) ? { bytes: await m.toKeras() } : await m.toFiles());
      },
      /** The model as a Keras 3 .keras archive (Uint8Array), as Keras's load_model reads it. */
      toKeras: () => m.toKeras(),
      /** Keras's model.load_weights(src): a .keras, .weights.h5 or legacy .h5, by name, URL, bytes or File. */
      async loadWeights(src) {
        // An HDF5 file in a Blob or File is read by ranges, never whole into memory.
        if (await readsByRange(src)) return m.loadWeightsBlob(src, src.name || 'blob');
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
        warmUp(m, true);
      },
      /** The compiled optimizer, {class_name, config} with every hyperparameter (null before compile). */
      optimizerConfig: () => m.optimizerConfig(),
      async fit(x, y, opts = {}) {
        // The engine reads everything else (epochs, batchSize, callbacks, ...); these hold
        // arrays and functions, and verbose is for this page's progress bars.
        const { validationData, validation_data, onBatchEnd, onEpochEnd, ...engineOpts } = opts;
        const [vx, vy] = validationData ?? validation_data ?? [];
        const verbose = opts.verbose ?? 1;
        // With several outputs the log names come from the outputs: let the first batch's
        // logs name the curves.
        const series = outputCount > 1 ? null : ['loss', ...(compiled.metrics.length ? ['accuracy'] : [])];
        if (series && vx) series.push(...series.map((k) => `val_${k}`));
        const samples = (Array.isArray(x) ? x[0] : isOptions(x) ? Object.values(x)[0] : x)?.shape?.[0];
        const batchSize = engineOpts.batchSize ?? engineOpts.batch_size ?? 32;
        const shown = verbose ? fitDisplay(display, { series, validation: !!vx, samples, batchSize }) : null;
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
            shown?.batch(logs);
            // A callback that returns a promise (it saves, draws, sleeps) is waited for.
            await onBatchEnd?.(logs);
            // Yields to the event loop, so the page stays live and Interrupt is seen.
            await checkInterrupt();
          }),
          guarded(async (epoch, logs) => {
            shown?.epoch(epoch, logs);
            for (const c of checkpoints) await c.epochEnd(epoch, logs);
            onEpochEnd?.(epoch, logs);
            await checkInterrupt();
          }),
        ).catch((e) => {
          shown?.done(false);
          throw callbackError ?? e;
        });
        shown?.done(true);
        return history;
      },
      evaluate: (x, y, opts) => m.evaluate(engine, xs(x, 'evaluate x'), ys(y, 'evaluate y'), opts),
      predict: async (x, opts) => unwrap(await m.predict(engine, xs(x, 'predict x'), opts, 'predict')),
      /** One optimization step on x, y as one batch: the loss, or [loss, ...metrics] (Keras/TF.js trainOnBatch). */
      trainOnBatch: (x, y) => m.trainOnBatch(engine, xs(x, 'trainOnBatch x'), ys(y, 'trainOnBatch y')),
      /** The loss, or [loss, ...metrics], on x, y as one batch; nothing is updated. */
      testOnBatch: (x, y) => m.testOnBatch(engine, xs(x, 'testOnBatch x'), ys(y, 'testOnBatch y')),
      /** The outputs for x as one batch, left on the engine's device. */
      predictOnBatch: async (x) => unwrap(await m.predictOnBatch(engine, xs(x, 'predictOnBatch x'))),
      /**
       * Keras's `model(x, training=True)`: the forward pass of fit (augmentation, dropout)
       * on x. While a GradientTape records, the call is recorded on it.
       */
      call: async (x, opts = {}) => {
        if (tapes.recording()) return unwrap(await tapes.callModel(m, xs(x, 'model(x)'), opts.training));
        return unwrap(await m.predict(engine, xs(x, 'model(x)'), opts, 'model(x)'));
      },
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
    const eager = new Set(['summary', 'summaryData', 'countParams', 'countTrainableParams', 'layers', 'getLayer', 'fit', 'predict', 'evaluate', 'compile', 'layer', 'trainOnBatch', 'testOnBatch', 'predictOnBatch', 'getWeights', 'setWeights']);
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
      return wrapModel(warmUp(engine.model(list(inputs), list(outputs), opts.name), false));
    },
    Sequential(list, opts = {}) {
      const [first, ...rest] = list;
      const startsWithInput = first && !first.layer && Array.isArray(first.shape);
      const shape = opts.inputShape ?? (startsWithInput ? first.shape.slice(1) : null);
      const layersOnly = startsWithInput ? rest : list;
      // Entries are layers or models (a model in the list becomes one layer).
      const build = (inputShape) => wrapModel(warmUp(engine.sequential(inputShape, layersOnly.map((l) => l.layer), opts.name), false));
      return shape ? build(shape) : deferredSequential(build, opts.name ?? 'sequential');
    },
    layers,
    callbacks,
    applications: applicationGlobals(loaded, display, wrapModel),
    models: {
      /**
       * A model saved with model.save (a name or "indexeddb://name"), a URL (a TF.js
       * model.json, a .keras or an .h5), bytes or a picked File; the format is told by its bytes.
       */
      async loadModel(path) {
        const files = await readModelFiles(path);
        if (files.bytes) return wrapModel(warmUp(engine.loadKerasModel(files.bytes, files.source), false));
        return wrapModel(warmUp(engine.loadModel(files.modelJson, files.shards, files.source), false));
      },
    },
    // {class_name, config} with Keras's defaults filled in by the engine; compile takes it.
    // Each also has applyGradients(zip(grads, vars)) for custom training steps.
    optimizers: {
      SGD: (o) => withApplyGradients(engine, engine.optimizer('SGD', o)),
      RMSprop: (o) => withApplyGradients(engine, engine.optimizer('RMSprop', o)),
      Adam: (o) => withApplyGradients(engine, engine.optimizer('Adam', o)),
    },
    /** Records tensor ops and model calls until gradient() (see gradient-tape.js). */
    GradientTape: tapes.GradientTape,
    ops: {
      image: {
        /** keras.ops.image.resize(images, [height, width], {interpolation, cropToAspectRatio, ...}) on data; layers.Resizing in a model. */
        resize(images, size, opts) {
          if (!isData(images)) throw new Error('keras.ops.image.resize: expects a tensor of images (in a model, use layers.Resizing)');
          return images.resize(size, opts);
        },
      },
    },
  };
  return { keras, layers, zip };
}
