// Export the open notebook as a Markdown file (the chapter format, outputs kept, so it
// can be read, diffed and imported again) or as a Jupyter .ipynb, and import either
// (several files at once).

import { parseChapter, serializeChapter } from './format.js';
import { fromIpynb, toIpynb } from './ipynb.js';

function download(text, name, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** format: 'md' (the chapter format) or 'ipynb'. */
export function exportNotebook({ meta, cells }, format = 'md') {
  const stem = (meta.id ?? 'notebook').replace(/[^\w.-]+/g, '-');
  const text = format === 'ipynb' ? toIpynb({ meta, cells }) : serializeChapter({ meta, cells });
  const name = `${stem}.${format}`;
  download(text, name, format === 'ipynb' ? 'application/x-ipynb+json' : 'text/markdown');
  return { name, text };
}

/** A file's text as a notebook: {text (the chapter format), chapter, name} or {error, name}. */
export function readNotebookText(name, raw) {
  if (/\.ipynb$/i.test(name)) {
    try {
      const chapter = fromIpynb(raw, name.replace(/\.ipynb$/i, ''));
      return { text: serializeChapter(chapter), chapter, name };
    } catch (e) {
      return { error: `${name}: ${e.message}`, name };
    }
  }
  return { text: raw, chapter: parseChapter(raw), name };
}

/** Opens a file picker; resolves to [{text, chapter, name} | {error, name}] (empty when nothing was chosen). */
export function pickNotebookFiles() {
  return new Promise((resolve, reject) => {
    const input = Object.assign(document.createElement('input'), { type: 'file', multiple: true, accept: '.md,.markdown,.txt,.ipynb,text/markdown,application/x-ipynb+json' });
    input.addEventListener('change', async () => {
      try {
        resolve(await Promise.all([...(input.files ?? [])].map(async (file) => readNotebookText(file.name, await file.text()))));
      } catch (e) {
        reject(e);
      }
    });
    input.addEventListener('cancel', () => resolve([]));
    input.click();
  });
}
