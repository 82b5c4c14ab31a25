// Export the open notebook as a Markdown file (the chapter format, so it can be read,
// diffed and imported again) and import one.

import { parseChapter, serializeChapter } from './format.js';

export function exportNotebook({ meta, cells }) {
  const text = serializeChapter({ meta, cells });
  const name = `${(meta.id ?? 'notebook').replace(/[^\w.-]+/g, '-')}.md`;
  const url = URL.createObjectURL(new Blob([text], { type: 'text/markdown' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  return { name, text };
}

/** Opens a file picker; resolves to {text, chapter} or null when nothing was chosen. */
export function pickNotebookFile() {
  return new Promise((resolve, reject) => {
    const input = Object.assign(document.createElement('input'), { type: 'file', accept: '.md,.markdown,.txt,text/markdown' });
    input.addEventListener('change', async () => {
      const file = input.files?.[0];
      if (!file) return resolve(null);
      try {
        const text = await file.text();
        resolve({ text, chapter: parseChapter(text), name: file.name });
      } catch (e) {
        reject(e);
      }
    });
    input.addEventListener('cancel', () => resolve(null));
    input.click();
  });
}
