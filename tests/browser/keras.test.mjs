// The Keras-shaped API (www/kernel/keras.js) trains the chapter 8.1 convnet on real
// digits in headless chromium on WebGPU: summary totals, falling loss, evaluate, predict.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openPage, requirePkg, startServer } from './helpers.mjs';

describe('Keras API training in the browser (www/tests/keras.html)', { timeout: 900_000 }, () => {
  let server;
  let browser;
  let r;

  before(async () => {
    requirePkg();
    server = await startServer();
    browser = await launchBrowser();
    const opened = await openPage(browser, server.url, '/tests/keras.html');
    await opened.page.waitForFunction(() => window.kerasResults?.done === true, null, { timeout: 840_000, polling: 500 });
    r = await opened.page.evaluate(() => window.kerasResults);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('trains without errors on WebGPU', () => {
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.backend, 'webgpu');
    assert.equal(r.total, 104202);
    assert.equal(r.batches, 18);
  });

  test('getWeights / setWeights: Keras order and shapes, all-or-nothing, errors name the layer', () => {
    const w = r.weights;
    assert.deepEqual(w.shapes, [[3, 3, 1, 32], [32]]);
    assert.ok(w.trainedDistinct > 100, 'the trained kernel came back');
    assert.deepEqual(w.setValues, [0.5, 1]);
    assert.match(w.refusals[0], /layer "conv2d" \(Conv2D\): setWeights got 1 tensors, expected 2 \(conv2d\/kernel \(3, 3, 1, 32\), conv2d\/bias \(32\)\)/);
    assert.match(w.refusals[1], /layer "conv2d" \(Conv2D\): setWeights: conv2d\/kernel is float32 \(3, 3, 1, 32\), got float32 \(32\)/);
    assert.deepEqual(w.afterRefusal, [0.5], 'a refused list changes nothing');
    assert.equal(w.halvesUsable, 4, "the caller's tensors stay usable");
  });

  test('layer arguments: Keras positional order from the engine, aliases, refusals naming the layer', () => {
    const a = r.layerArgs;
    assert.deepEqual(a.dense, ['Dense', 72 * 3]);
    assert.equal(a.relu, 'accepted');
    assert.deepEqual(a.alias, [false, [null, 1, 1, 2]]);
    assert.equal(a.tooMany, 'Dense: takes at most 3 positional arguments (units, activation, use_bias), got 4');
    assert.equal(a.twice, 'Dense: got multiple values for argument "units"');
    assert.equal(a.typo, 'Dense: unrecognized keyword argument "activaton" (did you mean "activation"?)');
    assert.equal(a.frozen, false);
  });

  test('the loss falls and accuracy rises', () => {
    const { loss, accuracy } = r.history;
    assert.equal(loss.length, 3);
    assert.ok(loss[2] < loss[0], `loss did not fall: ${loss}`);
    assert.ok(accuracy[2] > accuracy[0], `accuracy did not rise: ${accuracy}`);
    assert.ok(r.evaluation.loss < loss[0], `evaluate: ${JSON.stringify(r.evaluation)}`);
    assert.deepEqual(r.predictShape, [4, 10]);
  });

  test('a model inside a model is one layer: summary row, freezing, eager call', () => {
    const n = r.structure.nested;
    assert.deepEqual(n.rows[1], ['augment', 'Sequential', '(None, 28, 28, 1)', 0]);
    assert.equal(n.rows[2][1], 'Rescaling');
    assert.deepEqual(n.rows[3], ['base', 'Functional', '(None, 13, 13, 8)', 80]);
    assert.equal(n.total, 80 + 13 * 13 * 8 * 10 + 10);
    assert.equal(n.trainable, 13 * 13 * 8 * 10 + 10, 'the frozen base adds no trainable weights');
    assert.ok(n.innerFrozen, "base.trainable = false reaches the base's layers");
    assert.ok(n.getLayerIsModel, 'getLayer returns the nested model');
    assert.ok(n.frozenUnchanged, 'fit left the frozen base untouched');
    assert.ok(n.loss.every(Number.isFinite));
    assert.deepEqual(n.eager, [64, 13, 13, 8], 'base(x) on data runs the model');
  });

  test('several inputs and outputs: losses, weights and metrics per output, Keras log names', () => {
    const m = r.structure.multi;
    assert.match(m.flatMetrics, /2 outputs \(digit, is_even\): give metrics per output/);
    assert.match(m.badLossName, /loss names "ages", which is not an output \(outputs: digit, is_even\)/);
    assert.deepEqual(m.keys, [
      'digit_accuracy', 'digit_loss', 'is_even_accuracy', 'is_even_loss', 'loss',
      'val_digit_accuracy', 'val_digit_loss', 'val_is_even_accuracy', 'val_is_even_loss', 'val_loss',
    ]);
    assert.ok(m.loss.at(-1) < m.loss[0] * 0.7, `loss did not fall: ${m.loss}`);
    const e = m.evaluation;
    assert.ok(Math.abs(e.loss - (e.digit_loss + 0.5 * e.is_even_loss)) < 1e-4, JSON.stringify(e));
    assert.ok(e.is_even_accuracy > 0.8, JSON.stringify(e));
    assert.deepEqual(m.predictShapes, [[128, 3], [128, 1]]);
    assert.match(m.missingInput, /predict x: no array for "meta"/);
  });

  test('model.save / keras.models.loadModel / ModelCheckpoint(filepath) / a Keras file by URL', () => {
    const f = r.files;
    assert.deepEqual(f.memory, { same: true, total: 104202, names: true });
    assert.equal(f.indexeddb, true);
    assert.match(f.missing, /no model saved as "nothing.keras" \(saved: convnet.keras\)/);
    assert.match(f.toUrl, /cannot write to a URL/);
    assert.equal(f.jsonName, true, 'a name ending in .json saves and loads');
    const c = f.checkpoint;
    assert.equal(c.epochs, 4);
    assert.ok(Math.abs(c.bestLoss - Math.min(...c.valLoss)) < 1e-4, `the checkpoint is the best epoch: ${JSON.stringify(c)}`);
    assert.equal(c.fourth, 28 * 28 * 10 + 10, 'every epoch saved under its own name');
    assert.deepEqual(f.url.rows, [
      'photo (InputLayer) (None, 8, 8, 3)',
      'conv_base (Sequential) (None, 3, 3, 4)',
      'gap (GlobalAveragePooling2D) (None, 4)',
      'out (Dense) (None, 2)',
    ]);
    assert.equal(f.url.trainable, 10);
    assert.ok(f.url.baseFrozen);
    assert.deepEqual(f.url.predictShape, [2, 2]);
    assert.match(f.badUrl, /no-such\/model.json: HTTP 404/);
  });

  test('Keras files: .keras and .h5 by URL or bytes, weights-only .h5, a .keras written here: all predict as Keras', () => {
    const k = r.files.kerasFiles;
    for (const key of ['keras', 'h5', 'bytes', 'legacyWeights', 'written']) {
      assert.ok(typeof k[key] === 'number' && k[key] < 1e-4, `${key}: ${JSON.stringify(k)}`);
    }
    assert.match(k.notKeras, /reference\.npz: not a \.keras archive: it has no config\.json/);
  });

  test('model.save("x.keras") writes a Keras archive with the optimizer state: the next step is Keras\'s', () => {
    const s = r.files.kerasFiles.savedState;
    assert.equal(s.zip, true, 'the saved entry is a .keras (zip) archive');
    assert.ok(s.worst < 1e-4, `after one more step, max |ours - keras| = ${s.worst}`);
    assert.ok(s.freshWorst > 1e-3, `a fresh optimizer should land elsewhere: ${s.freshWorst}`);
  });
  test('Keras arguments: defaults from the engine, every optimizer option reaches it, typos name the closest key', () => {
    const a = r.args;
    assert.deepEqual(a.sgd, { class_name: 'SGD', config: { learning_rate: 0.01, momentum: 0.9, nesterov: false } });
    assert.deepEqual(a.rmsprop.config, { learning_rate: 0.001, rho: 0.8, momentum: 0, epsilon: 1e-7, centered: true });
    assert.deepEqual(a.adam.config, { learning_rate: 0.01, beta_1: 0.8, beta_2: 0.999, epsilon: 1e-7, amsgrad: true });
    assert.deepEqual(a.earlyStopping, {
      class_name: 'EarlyStopping',
      config: { monitor: 'val_loss', patience: 2, min_delta: 0, restore_best_weights: false },
    });
    assert.deepEqual(a.compiled, { class_name: 'SGD', config: { learning_rate: 0.1, momentum: 0.9, nesterov: false } });
    assert.ok(Math.abs(a.weightAfterMomentum - 0.938) < 1e-5, `three SGD steps with momentum 0.9: ${a.weightAfterMomentum}`);
    assert.equal(a.badFit, 'fit: unrecognized keyword argument "batchSise" (did you mean "batchSize"?)');
    assert.equal(a.badCompile, 'compile: unrecognized keyword argument "los" (did you mean "loss"?)');
    assert.equal(a.badOptimizer, 'SGD: unrecognized keyword argument "momentun" (did you mean "momentum"?)');
    assert.equal(a.badCallback, 'EarlyStopping: unrecognized keyword argument "patiense" (did you mean "patience"?)');
    assert.equal(a.badEvaluate, 'evaluate: unrecognized keyword argument "batchSise" (did you mean "batchSize"?)');
    assert.equal(a.badPredict, 'predict: unrecognized keyword argument "batch_sise" (did you mean "batch_size"?)');
    assert.equal(a.clipnorm, 'Adam: clipnorm=1 is not supported (leave it out)');
  });
});

