// A file the kernel hands to the reader (model.save("downloads://x.keras")): a link to
// it, followed once when the kernel sends it. A saved notebook keeps only the name and
// size, not the bytes, so the link is not there when the notebook is shown again.

import { h } from './dom.js';
import { formatBytes } from './bytes.js';

export function renderDownload(output) {
  const { name, size, bytes, mime } = output;
  const what = `${name} (${formatBytes(size ?? bytes?.byteLength ?? 0)})`;
  if (!bytes) return { element: h('div', { class: 'out-download', text: `${what}: downloaded when the cell ran` }) };
  const href = URL.createObjectURL(new Blob([bytes], { type: mime ?? 'application/octet-stream' }));
  const link = h('a', { href, download: name, class: 'out-download', text: `download ${what}` });
  queueMicrotask(() => link.click());
  return { element: h('div', {}, link) };
}
