// Paints RGBA pixels from the kernel on a canvas. Small images (28×28 digits, 3×3
// filters) are scaled up with nearest-neighbour so individual pixels stay visible.

import { h } from './dom.js';

export function renderImage(output) {
  if (!output.pixels && /^data:image\/png;base64,[\w+/=]*$/.test(output.png ?? '')) return renderSavedImage(output);
  const { width, height, pixels, caption, label } = output;
  const canvas = h('canvas', { width, height, class: 'out-image', role: 'img', 'aria-label': label ?? 'image' });
  canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(pixels.buffer ?? pixels), width, height), 0, 0);
  const scale = output.scale ?? Math.max(1, Math.min(8, Math.floor(256 / Math.max(width, height))));
  canvas.style.width = `${width * scale}px`;
  canvas.style.height = `${height * scale}px`;
  const element = h('figure', { class: 'out-figure' }, canvas, caption ? h('figcaption', { text: caption }) : null);
  if (output.download) offerDownload(element, canvas.toDataURL('image/png'), output.download);
  return { element };
}

// keras.utils.saveImg: a link to the PNG under the picture, followed once when the
// kernel sends it (not when a saved notebook is shown again).
function offerDownload(figure, href, name) {
  const link = h('a', { href, download: name, class: 'out-download', text: `download ${name}` });
  figure.append(link);
  queueMicrotask(() => link.click());
}

/** An image saved with the notebook (a PNG data URL), at the size it was shown. */
function renderSavedImage(output) {
  const { width, height, png, caption, label } = output;
  const img = h('img', { src: png, width, height, class: 'out-image', alt: label ?? 'image' });
  const scale = output.scale ?? Math.max(1, Math.min(8, Math.floor(256 / Math.max(width, height))));
  img.style.width = `${width * scale}px`;
  img.style.height = `${height * scale}px`;
  return { element: h('figure', { class: 'out-figure' }, img, caption ? h('figcaption', { text: caption }) : null) };
}
