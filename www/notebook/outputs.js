// A cell's output area: turns kernel output messages into rendered elements (via
// render/) and applies later updates to live widgets (progress bars, charts). It also
// keeps each output as plain data (images as PNG data URLs, charts with their points,
// progress bars with their last state) so the notebook can save and show it again.

import { renderStream, renderValue } from '../render/text.js';
import { renderTable } from '../render/table.js';
import { renderImage } from '../render/image.js';
import { renderChart } from '../render/chart.js';
import { renderProgress } from '../render/progress.js';
import { renderError } from '../render/error.js';
import { renderMarkdown } from '../render/markdown.js';
import { renderFilePicker } from '../render/file-picker.js';
import { renderDownload } from '../render/download.js';

const RENDERERS = {
  value: renderValue,
  table: renderTable,
  image: renderImage,
  chart: renderChart,
  progress: renderProgress,
  error: renderError,
  markdown: renderMarkdown,
  filePicker: renderFilePicker,
  download: renderDownload,
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
    this.records = [];
    this.status = null;
    this.count = undefined;
  }

  add(output) {
    const rendered = this.render(output);
    if (!rendered) {
      // A print joined the block before it: so does its record.
      const last = this.records.at(-1);
      if (output.kind === 'stream' && last?.kind === 'stream') last.text += output.text;
      return;
    }
    this.records.push(recordOf(output, rendered));
    if (output.handle) this.widgets.get(output.handle).record = this.records.at(-1);
  }

  /** The outputs as plain data: {records, status}. */
  persisted() {
    return { records: this.records, status: this.status };
  }

  /** Shows saved outputs again (widgets come back finished, not live). */
  restore({ records = [], status = 'ok' } = {}) {
    this.clear();
    for (const record of records) {
      const rendered = this.render(record);
      if (!rendered) continue;
      this.records.push(record);
      if (record.kind === 'progress' && record.last) rendered.update?.(record.last);
    }
    this.widgets = new Map();
    this.finish(status);
  }

  render(output) {
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
    return rendered;
  }

  update(handle, update) {
    const widget = this.widgets.get(handle);
    widget?.update?.(update);
    if (widget?.record) applyToRecord(widget.record, update);
  }

  finish(status) {
    this.status = status;
    for (const r of this.all) r.finish?.(status);
  }

  get empty() {
    return this.all.length === 0;
  }
}

// Live parts (a file picker's callback, a widget's handle) do not outlive the kernel.
function recordOf(output, rendered) {
  const { handle, ...data } = output;
  if (output.kind === 'image') {
    const { pixels, ...rest } = data;
    return { ...rest, png: rendered.element.querySelector('canvas')?.toDataURL('image/png') ?? output.png };
  }
  if (output.kind === 'chart') return { ...data, points: [...(output.points ?? [])] };
  if (output.kind === 'download') return { kind: 'download', name: output.name, size: output.bytes?.byteLength ?? output.size };
  if (output.kind === 'filePicker') return { kind: 'value', text: `(a file picker${output.label ? `: ${output.label}` : ''}; run the cell to choose files)` };
  return data;
}

function applyToRecord(record, update) {
  if (record.kind === 'chart') record.points.push(...(update.points ?? []));
  else if (record.kind === 'progress') record.last = { ...record.last, ...update, metrics: update.metrics ?? record.last?.metrics };
}
