// The chapter file format: Markdown with a small front matter block. Fenced ```js
// blocks are code cells; ```soon blocks are "coming soon" notes (the rest of the info
// string names the API they wait for); ```js parameters marks the one cell holding a
// chapter's training sizes (see parameters.js); a ```output block right after a code cell
// holds that cell's saved outputs as JSON (exported notebooks keep what they showed);
// everything else is prose. marked's lexer finds
// the fences, so fences inside lists or indented code are handled as Markdown does.
//
//   ---
//   id: 8.1
//   title: Introduction to convnets
//   ---
//   Some prose.
//
//   ```js
//   const x = tensor([[1, 2], [3, 4]]);
//   ```

import { Lexer } from 'marked';

const CODE_LANGS = new Set(['js', 'javascript', 'mjs']);

function frontMatter(text) {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(text);
  if (!m) return { meta: {}, body: text };
  const meta = {};
  for (const line of m[1].split(/\r?\n/)) {
    const kv = /^([\w-]+):\s*(.*)$/.exec(line);
    if (kv) meta[kv[1]] = kv[2].trim();
  }
  return { meta, body: text.slice(m[0].length) };
}

/** -> {meta, cells: [{type: "markdown" | "code" | "soon", source, needs?, parameters?, outputs?}]} */
export function parseChapter(text) {
  const { meta, body } = frontMatter(text);
  const cells = [];
  let prose = '';
  const flushProse = () => {
    if (prose.trim()) cells.push({ type: 'markdown', source: prose.trim() });
    prose = '';
  };
  for (const token of Lexer.lex(body)) {
    const [lang, ...rest] = (token.type === 'code' && token.lang ? token.lang : '').split(/\s+/);
    if (token.type === 'code' && CODE_LANGS.has(lang) && !rest.includes('static')) {
      flushProse();
      cells.push(rest.includes('parameters') ? { type: 'code', source: token.text, parameters: true } : { type: 'code', source: token.text });
    } else if (token.type === 'code' && lang === 'output' && !prose.trim() && cells.at(-1)?.type === 'code' && parseOutputs(token.text)) {
      prose = '';
      cells.at(-1).outputs = parseOutputs(token.text);
    } else if (token.type === 'code' && lang === 'soon') {
      flushProse();
      cells.push({ type: 'soon', source: token.text, needs: rest.join(' ') || undefined });
    } else {
      prose += token.raw;
    }
  }
  flushProse();
  return { meta, cells };
}

function parseOutputs(text) {
  try {
    const outputs = JSON.parse(text);
    return Array.isArray(outputs?.records) ? outputs : null;
  } catch {
    return null;
  }
}

function fence(info, text) {
  const longest = Math.max(2, ...(text.match(/`{3,}/g) ?? []).map((f) => f.length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${info}\n${text}\n${ticks}`;
}

export function serializeChapter({ meta, cells }) {
  const head = Object.keys(meta).length ? `---\n${Object.entries(meta).map(([k, v]) => `${k}: ${v}`).join('\n')}\n---\n\n` : '';
  const parts = cells.map((c) => {
    if (c.type === 'code') {
      const code = fence(c.parameters ? 'js parameters' : 'js', c.source);
      return c.outputs ? `${code}\n\n${fence('output', JSON.stringify(c.outputs))}` : code;
    }
    if (c.type === 'soon') return fence(c.needs ? `soon ${c.needs}` : 'soon', c.source);
    return c.source;
  });
  return head + parts.join('\n\n') + '\n';
}
