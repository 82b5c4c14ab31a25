// A cell's output area: turns kernel output messages into rendered elements (via
// render/) and applies later updates to live widgets (progress bars, charts).

import { renderStream, renderValue } from '../render/text.js';
import { renderTable } from '../render/table.js';
import { renderImage } from '../render/image.js';
import { renderChart } from '../render/chart.js';
import { renderProgress } from '../render/progress.js';
import { renderError } from '../render/error.js';
import { renderMarkdown } from '../render/markdown.js';
import { renderFilePicker } from '../render/file-picker.js';

const RENDERERS = {
  value: renderValue,
  table: renderTable,
  image: renderImage,
  chart: renderChart,
  progress: renderProgress,
  error: renderError,
  markdown: renderMarkdown,
  filePicker: renderFilePicker,
};

export class OutputArea {
  /**
   * send(handle, payload): replies to a widget waiting in the kernel (a file picker);
   * renderers get it bound to their output's handle as `context.send(payload)`.
   */
  constructor(element, { send = null } = {}) {
    this.element = element;
    this.send = send;
    this.clear();
  }

  clear() {
    this.element.replaceChildren();
    this.last = null;
    this.widgets = new Map();
    this.all = [];
    this.count = undefined;
  }

  add(output) {
    let rendered;
    if (output.kind === 'stream') {
      rendered = renderStream(output, this.last);
      if (!rendered) return;
    } else {
      const render = RENDERERS[output.kind];
      rendered = render
        ? render(output, { count: this.count, send: output.handle && this.send ? (payload) => this.send(output.handle, payload) : null })
        : renderValue({ text: `(output of unknown kind '${output.kind}')` });
    }
    this.element.append(rendered.element);
    this.last = rendered;
    this.all.push(rendered);
    if (output.handle) this.widgets.set(output.handle, rendered);
  }

  update(handle, update) {
    this.widgets.get(handle)?.update?.(update);
  }

  finish(status) {
    for (const r of this.all) r.finish?.(status);
  }

  get empty() {
    return this.all.length === 0;
  }
}
