// The CPU backend in the browser runs the fast kernels (im2col + a blocked GEMM whose
// micro-kernel uses wasm SIMD128, and loops LLVM vectorizes for SIMD128), code the
// native tests never execute because the SIMD path compiles only for wasm. Here the same
// cells run twice on the CPU engine, once with the fast kernels and once with the
// reference loops (a test-hooks entry point), and every result must agree: convolutions
// forward (single-channel ones too), matmuls around the block edges,
// pooling, broadcast elementwise ops and reductions, and the gradients of a small conv /
// separable / transposed-conv model and of a grayscale conv / pooling model from a tape.
// It runs once per wasm build (see below).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openNotebookPage, runCode, startNotebook, waitDone } from './helpers.mjs';

let notebook;

before(async () => {
  notebook = await startNotebook();
});

after(async () => {
  await notebook?.close();
});

const SCRATCH = '.scratch-cell';

// Runs `body(fast)` with the fast kernels and then the reference ones; prints, per case,
// the largest difference relative to the largest reference value.
const COMPARE = `
async function both(name, compute) {
  engine.testReferenceKernels(false);
  const fast = await compute();
  engine.testReferenceKernels(true);
  const reference = await compute();
  engine.testReferenceKernels(false);
  let worst = 0;
  fast.forEach((f, i) => {
    const r = reference[i];
    const scale = r.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-6);
    for (let j = 0; j < r.length; j++) worst = Math.max(worst, Math.abs(f[j] - r[j]) / scale);
    if (f.length !== r.length) worst = Infinity;
  });
  results.push([name, worst]);
}
const results = [];
`;

const CASES = `
const convs = [
  [[2, 9, 11, 3], [3, 3, 3, 8], { padding: "same" }],
  [[1, 12, 10, 5], [3, 3, 5, 7], { strides: 2 }],
  [[3, 8, 8, 4], [1, 1, 4, 9], {}],
  [[1, 13, 9, 2], [5, 3, 2, 6], { padding: "same", dilationRate: 2 }],
  [[4, 28, 28, 1], [3, 3, 1, 32], {}],
];
for (const [sx, sk, opts] of convs) {
  const x = randn(sx, { seed: 1 }), k = randn(sk, { seed: 2 });
  await both(\`conv2d \${sx} * \${sk}\`, async () => [await x.conv2d(k, opts).data()]);
}
for (const [sa, sb] of [[[17, 33], [33, 65]], [[65, 63], [63, 129]], [[1, 200], [200, 1]], [[4, 17, 33], [4, 33, 9]], [[130, 70], [70, 3]]]) {
  const a = randn(sa, { seed: 3 }), b = randn(sb, { seed: 4 });
  await both(\`matmul \${sa} @ \${sb}\`, async () => [await a.matmul(b).data()]);
}
for (const [sx, opts] of [[[2, 9, 11, 5], { poolSize: 2 }], [[1, 10, 7, 3], { poolSize: 3, strides: 2, padding: "same" }]]) {
  const x = randn(sx, { seed: 6 });
  await both(\`pooling \${sx} \${JSON.stringify(opts)}\`, async () => [await x.maxPool2d(opts).data(), await x.averagePool2d(opts).data()]);
}
const p = randn([4, 5, 6], { seed: 7 }), q = randn([5, 1], { seed: 8 });
await both("broadcast add/mul/sub, relu, sum/mean/max", async () =>
  Promise.all([p.add(q), p.mul(q), q.sub(p), p.relu(), p.sum([0, 2]), p.mean([1]), p.max([2])].map((t) => t.data())));
const gray = keras.Input({ shape: [14, 14, 1] });
let g = layers.Conv2D(10, 3, { activation: "relu" })(gray);
g = layers.MaxPooling2D(2)(g);
g = layers.Conv2D(4, 3, { padding: "same" })(g);
g = layers.AveragePooling2D(2, { padding: "same" })(g);
const grayModel = keras.Model(gray, layers.Dense(3)(layers.Flatten()(g)));
const xg = randn([5, 14, 14, 1], { seed: 9 });
await both("gradients of a grayscale conv / max-pool / average-pool / dense model", async () => {
  const tape = keras.GradientTape();
  const y = await grayModel(xg);
  const grads = await tape.gradient(y.square().mean(), grayModel.trainableWeights);
  return Promise.all(grads.map((t) => t.data()));
});
const inputs = keras.Input({ shape: [12, 12, 3] });
let h = layers.Conv2D(8, 3, { activation: "relu" })(inputs);
h = layers.SeparableConv2D(6, 3, { padding: "same" })(h);
h = layers.Conv2DTranspose(4, 3, { strides: 2 })(h);
h = layers.Conv2D(5, 1)(h);
const model = keras.Model(inputs, layers.Dense(3)(layers.GlobalAveragePooling2D()(h)));
const x = randn([3, 12, 12, 3], { seed: 5 });
await both("gradients of conv/separable/transpose/1×1/dense weights", async () => {
  const tape = keras.GradientTape();
  const y = await model(x);
  const grads = await tape.gradient(y.square().mean(), model.trainableWeights);
  return Promise.all(grads.map((g) => g.data()));
});
print(JSON.stringify(results));
`;

// The page loads one of the package's two wasm builds (www/kernel/wasm-build.js): the
// relaxed-SIMD one where the browser has relaxed SIMD (this chromium does), and the plain
// SIMD128 one otherwise, which `?wasm=simd128` forces. The fast kernels differ between
// them (fused multiply-adds in the GEMM), so both are held against the reference.
for (const [param, build] of [['', 'relaxed-simd'], ['&wasm=simd128', 'simd128']]) {
  test(`the wasm CPU fast kernels agree with the reference loops (${build} build)`, { timeout: 240_000 }, async () => {
    const { page, context } = await openNotebookPage(notebook.browser, notebook.base, `notebook.html?backend=cpu${param}#/9.1`);
    assert.equal(await page.evaluate(() => window.convbook.kernel.backend.simd), build, 'the page loaded another wasm build');
    await runCode(page, SCRATCH, COMPARE + CASES);
    const state = await waitDone(page, SCRATCH, 180_000);
    const text = await page.innerText(`${SCRATCH} .cell-outputs`);
    assert.equal(state, 'done', text);
    const results = JSON.parse(text.trim().split('\n').pop());
    assert.equal(results.length, 15, text);
    console.log(`# ${build} build`);
    console.log(results.map(([name, worst]) => `# ${name}: ${worst.toExponential(1)}`).join('\n'));
    // Both paths ran: summation orders differ, so some results differ in the last bits.
    assert.ok(results.some(([, worst]) => worst > 0), 'fast and reference gave identical bits everywhere: did the switch take effect?');
    for (const [name, worst] of results) assert.ok(worst < 1e-4, `${name}: fast differs from the reference by ${worst} (relative to its largest value)`);
    await context.close();
  });
}
