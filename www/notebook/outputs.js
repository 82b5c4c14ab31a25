// A cell's output area: turns kernel output messages into rendered elements (via
// render/) and applies later updates to live widgets (progress bars, charts).

import { renderStream, renderValue } from '../render/text.js';
import { renderTable } from '../render/table.js';
import { renderImage } from '../render/image.js';
import { renderChart } from '../render/chart.js';
import { renderProgress } from '../render/progress.js';
import { renderError } from '../render/error.js';
import { renderMarkdown } from '../render/markdown.js';

const RENDERERS = {
  value: renderValue,
  table: renderTable,
  image: renderImage,
  chart: renderChart,
  progress: renderProgress,
  error: renderError,
  markdown: renderMarkdown,
};

export class OutputArea {
  constructor(element) {
    this.element = element;
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
        ? render(output, { count: this.count })
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
