// Every chapter's code cells run without an error (Run all), on the CPU engine so the
// whole book stays quick to check; the WebGPU path is covered by notebook.test.mjs.
// Chapters that train for minutes have their own test on WebGPU instead (DEDICATED).
// Chapters with a parameters cell run at QUICK sizes (the cell's declarations are
// overridden, see www/notebook/parameters.js); `cargo xtask test --full` runs them at
// the chapter's own sizes (CONVBOOK_FULL=1).
// Also checks the table of contents against the chapter files. Screenshots of each
// chapter's top go to test-results/.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import { join } from 'node:path';
import { fatalLogs, openNotebookPage, RESULTS_DIR, startNotebook } from './helpers.mjs';
import { SECTIONS } from '../../www/chapters/index.js';

const DEDICATED = { '8.1': 'chapter-8.1.test.mjs' };
// Chapters whose demo training takes longer than the default two minutes on the CPU engine.
const RUN_ALL_TIMEOUT = { '8.2': 900_000, 'hocv-4.3': 420_000 };
const FULL = process.env.CONVBOOK_FULL === '1';
const QUICK = {
  '9.1': { classifierEpochs: 1, classifierImages: 1500, segmentationImages: 300, segmentationEpochs: 3, segmentationWidths: [8, 16, 32] },
  '9.3': { epochs: 2, trainPerClass: 100, xceptionSizes: [8, 16, 32, 64, 64] },
  '9.2': { widths: [16, 32, 64], epochs: 3, batchSize: 8, limit: 300, validationCount: 50 },
  'hocv-4.3': { sourceEpochs: 3, sourcePerClass: 150, testPerClass: 40, targetPerClass: 20, targetEpochs: 6, fineTuneEpochs: 3 },
  '9.4': { trainEpochs: 1, trainPerClass: 100, ascentSteps: 5 },
};
// A number captured by `pattern` in the outputs.
const figure = (outputs, pattern) => {
  const m = pattern.exec(outputs);
  assert.ok(m, `no match for ${pattern}`);
  return m.slice(1).map(Number);
};
// What a --full run records per chapter (CONVBOOK_RESULTS): name → pattern capturing a number.
const FIGURES = {
  '8.2': {
    'test accuracy without augmentation, %': /test accuracy without augmentation: ([\d.]+) %/,
    'test accuracy with augmentation and dropout, %': /augmentation \+ dropout\s+\d+\s+[\d.]+\s+([\d.]+) %/,
  },
  '9.1': { 'classifier test accuracy, %': /classifier test accuracy on \d+ held-out photos: ([\d.]+) %/ },
  '9.2': {
    'first epoch training loss': /training loss: ([\d.]+) →/,
    'last epoch training loss': /training loss: [\d.]+ → ([\d.]+)/,
    'held-out pixel accuracy, %': /pixel accuracy on \d+ held-out images: ([\d.]+) %/,
    'all-background baseline, %': /all-background baseline: ([\d.]+) %/,
  },
  'hocv-4.3': {
    'source task test accuracy, %': /source task test accuracy: ([\d.]+) %/,
    'from scratch, target test accuracy, %': /from scratch\s+[\d,]+\s+\d+\s+\d+\s+([\d.]+) %/,
    'frozen base + new head, target test accuracy, %': /frozen base \+ new head\s+[\d,]+\s+\d+\s+\d+\s+([\d.]+) %/,
    'fine-tuned top block, target test accuracy, %': /\+ fine-tuned top block\s+[\d,]+\s+\d+\s+\d+\s+([\d.]+) %/,
  },
  '9.3': {
    'plain convnet test accuracy, %': /plain convnet \+ augmentation \(8\.2\)\s+[\d,]+\s+\S+\s+\S+\s+([\d.]+) %/,
    'mini-Xception test accuracy, %': /mini-Xception test accuracy: ([\d.]+) %/,
  },
};
const measured = {};
// Figures a chapter's outputs must show (from the book, or facts of the embedded data).
const EXPECT = {
  'hocv-4.2': [
    // keras.applications summaries (Keras 3.15, weights=None).
    /fc1 \(Dense\)\s+\(None, 4096\)\s+102,764,544[\s\S]*Total params: 138,357,544/,
    /includeTop: false, pooling: "avg"\s+64×64×3\s+512 features\s+14,714,688/,
    /vgg16_weights_tf_dim_ordering_tf_kernels_notop\.h5/,
    // GoogLeNet's module 3a: four branches concatenated to 256 channels.
    /inception_3a \(Concatenate\)\s+\(None, 28, 28, 256\)\s+0[\s\S]*Total params: 163,696/,
    /InceptionV3: 313 layers, 23,851,784 parameters \(23,817,352 trainable\)/,
    /mixed10\s+\(None, 8, 8, 2048\)/,
    /resnet18: \d+ layers, 11,\d{3},\d{3} parameters, 8 shortcuts/,
    /ResNet50: 177 layers, 25,636,712 parameters/,
    /conv5_block3_out\s+\(None, 7, 7, 2048\)/,
    /resnet50_weights_tf_dim_ordering_tf_kernels\.h5/,
    /decodePredictions names 1000 classes, from tench \(n01440764\) to toilet_tissue \(n15075141\); the cat is class 285, Egyptian_cat/,
  ],
  'hocv-4.3': [
    /source\s+T-shirt\/top, Trouser, Pullover, Dress, Coat\s+[\d,]+\s+[\d,]+/,
    /source task test accuracy: [\d.]+ %/,
    /new_predictions \(Dense\)\s+\(None, 5\)\s+1,445/,
    // Frozen: only the new head trains; fine-tuning adds block3_conv's 9,248.
    /frozen base \+ new head\s+1,445\s+\d+\s+\d+\s+[\d.]+ %/,
    /\+ fine-tuned top block\s+10,693\s+\d+\s+\d+\s+[\d.]+ %/,
    // Transfer beats guessing among five classes by far.
    (out) => {
      const [frozen] = figure(out, /frozen base \+ new head\s+[\d,]+\s+\d+\s+\d+\s+([\d.]+) %/);
      const [fine] = figure(out, /\+ fine-tuned top block\s+[\d,]+\s+\d+\s+\d+\s+([\d.]+) %/);
      assert.ok(Math.max(frozen, fine) > 40, `frozen ${frozen} %, fine-tuned ${fine} %`);
    },
    /mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0\.35_96_no_top\.h5/,
  ],
  '8.2': [
    /classes: 0 = ankle_boot, 1 = sneaker/,
    /train\s+2,000\s+28×28×1\s+uint8/,
    /test\s+2,000/,
    /991,041[\s\S]*991,041/,
    // The augmentation Sequential, built by its first call, is one row of the summary.
    /data_augmentation \(Sequential\)\s+\(None, 180, 180, 3\)\s+0\b/,
    /test accuracy without augmentation: (9\d|100)\.\d %/,
    /augmentation \+ dropout\s+\d+\s+[\d.]+\s+(8[5-9]|9\d|100)\.\d %/,
  ],
  '9.1': [
    // A trained classifier: well above the 10 % of guessing among ten classes.
    (out) => {
      const [accuracy] = figure(out, /classifier test accuracy on 1000 held-out photos: ([\d.]+) %/);
      assert.ok(accuracy > 40, `classifier accuracy ${accuracy} %`);
    },
    /top-5 classes for this photo[\s\S]*rank\s+class\s+probability\s+1\s/,
    /output 4×32×32×3 \(a distribution per pixel\) → masks 4×32×32/,
    /box \(x, y, width, height\)[\s\S]*\t\d+, \d+, \d+, \d+/,
  ],
  '9.2': [
    /Found 800 image\/trimap pairs/,
    /conv2d_transpose_5 \(Conv2DTranspose\)\s+\(None, 200, 200, 64\)\s+36,928/,
    /2,880,643/,
    // Training lowers the loss.
    (out) => {
      const [first, last] = figure(out, /training loss: ([\d.]+) → ([\d.]+)/);
      assert.ok(last < 0.8 * first, `training loss ${first} → ${last}`);
    },
    // Held-out masks beat calling every pixel background.
    (out) => {
      const [accuracy, baseline] = figure(out, /pixel accuracy on \d+ held-out images: ([\d.]+) % \(all-background baseline: ([\d.]+) %\)/);
      assert.ok(accuracy > baseline + 5, `pixel accuracy ${accuracy} % vs baseline ${baseline} %`);
    },
    /item = blue, background = orange, outline = green/,
    /saved as indexeddb:\/\/segmentation-9\.2/,
  ],
  '9.3': [
    // Listings 9-2 and 9-3: a 1×1 projection, then a strided one after pooling.
    /add \(Add\)\s+\(None, 30, 30, 64\)\s+0\s+conv2d_\d+\[0\]\[0\], conv2d_\d+\[0\]\[0\]/,
    /add_1 \(Add\)\s+\(None, 15, 15, 64\)\s+0\s+max_pooling2d\[0\]\[0\], conv2d_\d+\[0\]\[0\]/,
    // The residual convnet, with Keras's "Connected to" column.
    /Connected to[\s\S]*add_4 \(Add\)\s+\(None, 8, 8, 128\)\s+0\s+conv2d_\d+\[0\]\[0\], conv2d_\d+\[0\]\[0\][\s\S]*Total params: 297,697/,
    /Conv2D\(no bias\) → BN → ReLU\s+992\s+928/,
    // A frozen BN layer keeps its moving mean through fine-tuning; a trainable one does not.
    (out) => {
      const row = (name) => new RegExp(`${name}\\t([^\\t]+)\\t([^\\t]+)\\t`).exec(out)?.slice(1);
      const [frozenBefore, frozenAfter] = row('frozen') ?? [];
      const [trainableBefore, trainableAfter] = row('trainable') ?? [];
      assert.ok(frozenBefore && trainableBefore, 'the BN fine-tuning table is missing');
      assert.equal(frozenAfter, frozenBefore);
      assert.notEqual(trainableAfter, trainableBefore);
    },
    /Conv2D\s+36,928\s+16×32×32×64\s+\d+ ms\s+SeparableConv2D\s+4,736\s+16×32×32×64\s+\d+ ms/,
    /Total params: 721,857[\s\S]*Trainable params: 718,849/,
    /mini-Xception test accuracy: [\d.]+ %/,
    /plain convnet \+ augmentation \(8\.2\)\s+[\d,]+\s+(\d+|—)\s+([\d.]+|—)\s+[\d.]+ %/,
    /mini-Xception \+ augmentation\s+[\d,]+\s+\d+\s+[\d.]+\s+[\d.]+ %\s+\d+ s\s+this chapter/,
  ],
  '9.4': [
    /the model: (loaded from indexeddb:\/\/(convnet-8\.2|mini-xception-9\.3)|trained here for \d+ epochs)/,
    /the test picture at the model's input size/,
    // Listing 9-11: one channel grid per conv/pool layer.
    /conv2d\w*: \d+ channels of \d+×\d+[\s\S]*max_pooling2d\w*: \d+ channels of \d+×\d+/,
    /gradient ascent on 64 filters of \w+/,
    /what each of the 64 filters of \w+ responds to most/,
    /gradient w\.r\.t\. \w+: \[1, \d+, \d+, \d+\]/,
    /Grad-CAM at \w+: \d+×\d+/,
    /where the model looked for class [01]/,
    // The Xception section without its weights download (useXception = false): Keras's shapes at 71×71.
    /Xception at 71×71, block3_sepconv1: output 17×17×256/,
    /Xception at 71×71, block14_sepconv2_act: output 3×3×2048/,
    /with useXception = true and network access/,
  ],
};
// Pictures a chapter must draw (canvases in its outputs), with the overlay's size.
const PICTURES = {
  '9.4': async (page) => {
    const sizes = await page.$$eval('.code-cell:not(.scratch-cell) canvas.out-image', (els) => els.map((c) => [c.width, c.height, c.getAttribute('aria-label')]));
    // cat, one channel, 5+ layer grids, the filter grid, the heatmap, the overlay.
    assert.ok(sizes.length >= 10, `only ${sizes.length} pictures`);
    const overlay = sizes.find((s) => /where the model looked/.test(s[2]));
    assert.deepEqual(overlay?.slice(0, 2), [451, 300], 'the heatmap is laid over the full-size photo');
    // The overlay is not a blank canvas: its pixels vary.
    const spread = await page.$eval('.code-cell:not(.scratch-cell) canvas.out-image[aria-label^="where the model looked"]', (c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let lo = 255, hi = 0;
      for (let i = 0; i < d.length; i += 4) (lo = Math.min(lo, d[i])), (hi = Math.max(hi, d[i]));
      return hi - lo;
    });
    assert.ok(spread > 100, `overlay red channel spread ${spread}`);
  },
};

let notebook;
let page;
let logs;

before(async () => {
  notebook = await startNotebook();
  // The first chapter's kernel is not awaited: each test waits for its own chapter.
  // At full settings the notebook picks its backend ("auto": WebGPU on a GPU adapter; on a
  // software one, whichever a short probe finds faster).
  const backend = FULL ? '' : 'backend=cpu';
  ({ page, logs } = await openNotebookPage(notebook.browser, notebook.base, `notebook.html?${backend}#/${SECTIONS[0].id}`, { idle: false }));
});

after(async () => {
  if (FULL && process.env.CONVBOOK_RESULTS && Object.keys(measured).length) {
    const backend = await page.evaluate(() => window.convbook.kernel?.backend).catch(() => null);
    const results = {
      about: 'Figures measured by `cargo xtask test --full`: each chapter run top to bottom at its own parameters. Chapter text cites them.',
      date: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, os: `${platform()} ${release()}`, browser: notebook.browser.version(), backend },
      chapters: measured,
    };
    writeFileSync(process.env.CONVBOOK_RESULTS, JSON.stringify(results, null, 2) + '\n');
  }
  await notebook?.close();
});

describe('chapters', () => {
  test('the contents list the seed sections: 8.1, 8.2, 9.1–9.4, Hands-on CV 4.2–4.3', async () => {
    // The contents are drawn once the chapter index has loaded.
    await page.waitForFunction(() => document.querySelectorAll('.toc-link .toc-num').length >= 8, null, { timeout: 30_000 }).catch(() => {});
    const labels = await page.$$eval('.toc-link .toc-num', (els) => els.map((e) => e.textContent));
    assert.deepEqual(labels, ['8.1', '8.2', '9.1', '9.2', '9.3', '9.4', '4.2', '4.3']);
    assert.match(await page.textContent('#toc'), /Hands-on Computer Vision/);
  });

  for (const section of SECTIONS) {
    const skip = DEDICATED[section.id] ? `trains for minutes: run by ${DEDICATED[section.id]}` : false;
    // At full settings the chapters train for as long as their text says: hours without a GPU.
    const timeout = FULL ? 6 * 3600_000 : (RUN_ALL_TIMEOUT[section.id] ?? 120_000);
    test(`${section.id} ${section.title}: every code cell runs`, { skip, timeout: timeout + 60_000 }, async () => {
      await page.evaluate((id) => (location.hash = `#/${id}`), section.id);
      await page.waitForFunction(
        (id) => window.convbook.chapter === id && window.convbook.kernel.state === 'idle',
        section.id,
        { timeout: 60_000 },
      );
      assert.match(await page.textContent('h1'), new RegExp(section.title));
      const cells = await page.locator('.code-cell:not(.scratch-cell)').count();
      assert.ok(cells >= 2, `${section.id} has only ${cells} code cells`);
      const quick = FULL ? {} : (QUICK[section.id] ?? {});
      await page.evaluate((values) => (window.convbook.parameters = values), quick);
      const started = Date.now();
      await page.click('[data-action="run-all"]');
      await page.waitForFunction(() => !window.convbook.scheduler.busy, null, { timeout, polling: 500 });
      const errors = await page.$$eval('.out-error', (els) => els.map((e) => e.innerText));
      assert.deepEqual(errors, []);
      const states = await page.$$eval('.code-cell:not(.scratch-cell)', (els) => els.map((e) => e.dataset.state));
      assert.deepEqual(states, Array(cells).fill('done'));
      const outputs = await page.$$eval('.code-cell:not(.scratch-cell) .cell-outputs', (els) => els.map((e) => e.innerText).join('\n'));
      const seconds = (Date.now() - started) / 1000;
      if (FIGURES[section.id]) {
        const figures = Object.fromEntries(Object.entries(FIGURES[section.id]).map(([name, p]) => [name, Number(p.exec(outputs)?.[1] ?? NaN)]));
        measured[section.id] = { seconds: Math.round(seconds), figures };
      }
      console.log(`# ${section.id}: Run all took ${((Date.now() - started) / 1000).toFixed(1)} s${Object.keys(quick).length ? ` with ${JSON.stringify(quick)}` : ''}`);
      if (Object.keys(quick).length) assert.match(outputs, /Parameters overridden/);
      for (const check of EXPECT[section.id] ?? []) {
        if (typeof check === 'function') check(outputs);
        else assert.match(outputs, check);
      }
      await PICTURES[section.id]?.(page);
      const images = page.locator('.code-cell:not(.scratch-cell) .out-image');
      if ((await images.count()) > 0) {
        await images.last().scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(RESULTS_DIR, `notebook-chapter-${section.id}-last-image.png`) });
      }
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(RESULTS_DIR, `notebook-chapter-${section.id}.png`) });
    });
  }

  // Chapters hand models over the way a reader expects: 9.2 (run above) saved its
  // segmentation model to IndexedDB, so 9.1's segmentation cell, run again in 9.1's
  // kernel, now loads it instead of training its own narrower one.
  test('9.1 loads the segmentation model 9.2 saved in IndexedDB', { skip: FULL && 'covered by the full runs', timeout: 180_000 }, async () => {
    await page.evaluate(() => (location.hash = '#/9.1'));
    await page.waitForFunction(() => window.convbook.chapter === '9.1' && window.convbook.kernel.state === 'idle', null, { timeout: 60_000 });
    await page.evaluate((values) => (window.convbook.parameters = values), QUICK['9.1']);
    const cells = page.locator('.code-cell:not(.scratch-cell)');
    const segmentation = cells.filter({ hasText: 'indexeddb://segmentation-9.2' });
    assert.equal(await segmentation.count(), 1, 'one 9.1 cell loads the 9.2 model');
    for (const cell of [cells.first(), segmentation]) {
      await cell.locator('.cell-run').click();
      await page.waitForFunction(() => !window.convbook.scheduler.busy, null, { timeout: 150_000, polling: 250 });
    }
    assert.deepEqual(await segmentation.locator('.out-error').allInnerTexts(), []);
    const text = await segmentation.locator('.cell-outputs').innerText();
    assert.match(text, /model loaded from indexeddb:\/\/segmentation-9\.2 \(trained in 9\.2\)/);
    // The book's model at 32×32 gives a mask per pixel like the narrower one did.
    assert.match(text, /output 4×32×32×3 \(a distribution per pixel\) → masks 4×32×32/);
    await segmentation.locator('.cell-outputs').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(RESULTS_DIR, 'notebook-chapter-9.1-from-9.2.png') });
  });

  test('no uncaught error in the page', () => {
    assert.deepEqual(fatalLogs(logs), []);
  });
});
