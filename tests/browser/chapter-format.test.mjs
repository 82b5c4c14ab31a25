// The chapter file format (www/notebook/format.js): which fences become cells, and that
// serializing a parsed chapter gives back an equivalent chapter.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChapter, serializeChapter } from '../../www/notebook/format.js';

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
