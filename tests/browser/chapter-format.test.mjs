// The chapter file format (www/notebook/format.js): which fences become cells, and that
// serializing a parsed chapter gives back an equivalent chapter.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChapter, serializeChapter } from '../../www/notebook/format.js';
import { applyParameters, overridesFromSearch } from '../../www/notebook/parameters.js';

const CHAPTER = `---
title: A test
---
Prose before.

\`\`\`js
const a = 1;
\`\`\`

\`\`\`js static
await keras.datasets.mnist.loadData();
\`\`\`

\`\`\`soon layers.Conv2D, model.fit
Later.
\`\`\`

\`\`\`javascript
a + 1
\`\`\`
`;

test('js fences are cells, js static fences stay in the prose, soon fences are notes', () => {
  const { meta, cells } = parseChapter(CHAPTER);
  assert.deepEqual(meta, { title: 'A test' });
  assert.deepEqual(cells.map((c) => c.type), ['markdown', 'code', 'markdown', 'soon', 'code']);
  assert.equal(cells[1].source, 'const a = 1;');
  assert.match(cells[2].source, /^```js static\nawait keras\.datasets\.mnist\.loadData\(\);\n```$/);
  assert.equal(cells[3].needs, 'layers.Conv2D, model.fit');
  assert.equal(cells[4].source, 'a + 1');
});

test('serialize then parse gives the same cells', () => {
  const parsed = parseChapter(CHAPTER);
  assert.deepEqual(parseChapter(serializeChapter(parsed)), parsed);
});

test('a js parameters fence is a code cell marked as parameters, and survives a round trip', () => {
  const text = '---\ntitle: P\n---\n\n```js parameters\nconst epochs = 8;\n```\n\n```js\nepochs\n```\n';
  const parsed = parseChapter(text);
  assert.deepEqual(parsed.cells.map((c) => [c.type, !!c.parameters]), [['code', true], ['code', false]]);
  assert.deepEqual(parseChapter(serializeChapter(parsed)), parsed);
});

test('parameter overrides replace the declared values and report the rest', () => {
  const source = 'const epochs = 30;   // the book\nlet imageSize = [200, 200]\nconst other = epochs * 2;\nvar useGpu = true;';
  const { source: out, applied, unknown } = applyParameters(source, { epochs: 1, imageSize: [32, 32], batch: 4 });
  assert.equal(out, 'const epochs = 1;   // the book\nlet imageSize = [32,32];\nconst other = epochs * 2;\nvar useGpu = true;');
  assert.deepEqual(applied.map((a) => [a.name, a.chapter, a.value]), [['epochs', '30', '1'], ['imageSize', '[200, 200]', '[32,32]']]);
  assert.deepEqual(unknown, ['batch']);
  assert.equal(applyParameters(source, {}).source, source);
});

test('?parameters= must be a JSON object', () => {
  assert.deepEqual(overridesFromSearch('?parameters=%7B%22epochs%22%3A2%7D'), { values: { epochs: 2 } });
  assert.deepEqual(overridesFromSearch('?backend=cpu'), { values: {} });
  assert.match(overridesFromSearch('?parameters=[1]').error, /JSON object/);
  assert.match(overridesFromSearch('?parameters={oops').error, /JSON object/);
});
