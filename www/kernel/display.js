// The `display` helper cells use to show more than text: tables, images, live charts,
// progress bars. Each call becomes an output message; charts and progress bars return
// handles whose later calls become updates of the same widget.

import { emitOutput, emitUpdate, getCurrentExec } from './outbox.js';
import { inspect } from './inspect.js';
import { plainSource, toRGBA } from './pixels.js';
import { legend, maskRGBA } from './masks.js';
import { overlayRGBA } from './overlay.js';
import { throwIfInterrupted } from './interrupt.js';
import { summaryOutput } from './summary.js';

let nextHandle = 1;
const newHandle = () => `w${nextHandle++}`;

// Text a call has already printed in this execution (model.summary() prints, as Keras
// does, and also returns the text): as the cell's value it would show a second time.
const printed = new Set();

/** Marks `text` as printed, so the cell's value does not show it again. */
export function notePrinted(text) {
  printed.add(text);
}

/** Called when an execution starts. */
export function forgetPrinted() {
  printed.clear();
}

/** The output for a cell's last expression: its value, unless that was printed already. */
export async function cellValueOutput(value, tensors) {
  if (typeof value === 'string' && printed.has(value)) return null;
  return valueOutput(value, tensors);
}

/**
 * `tensors` knows how to recognise and read engine tensors: {isTensor(v), read(t) ->
 * {values, shape, dtype}, describe(t, values) -> text}. Supplied by the worker, so this
 * file stays free of the engine.
 */
export function createDisplay(tensors) {
  async function display(value) {
    const output = await valueOutput(value, tensors);
    if (output) emitOutput(output);
  }

  display.text = (...parts) => {
    emitOutput({ kind: 'stream', name: 'stdout', text: parts.map((p) => (typeof p === 'string' ? p : inspect(p))).join(' ') + '\n' });
  };

  display.markdown = (text) => emitOutput({ kind: 'markdown', text: String(text) });

  /**
   * rows: array of objects (keys are columns) or arrays (with opts.columns).
   * opts: {columns, caption, footer: [lines], maxRows}.
   */
  display.table = (rows, opts = {}) => emitOutput(tableOutput(rows, opts));

  /** A model's summary as a table (also what a model shows as a cell's value). */
  display.summary = (model) => emitOutput(summaryOutput(model.summaryData()));

  /**
   * src: tensor, typed array + {width, height}, ImageData, nested arrays. With
   * opts.heatmap ([H, W], any size: scaled to the photo) it is coloured with
   * opts.colormap ("jet") and blended over the photo at opts.alpha (0.4). opts.download
   * (a file name) also offers the picture as a PNG download (keras.utils.saveImg).
   */
  display.image = async (src, opts = {}) => {
    const exec = getCurrentExec();
    const read = (v) => (tensors.isTensor(v) ? tensors.read(v) : plainSource(v, opts));
    const source = await read(src);
    const overlay = opts.heatmap != null;
    const { width, height, pixels, tiles } = overlay ? overlayRGBA(source, await read(opts.heatmap), opts) : toRGBA(source, opts);
    const what = overlay ? `, heatmap ${opts.colormap ?? 'jet'}` : `${tiles > 1 ? `, ${tiles} tiles` : ''}${opts.colormap ? `, ${opts.colormap}` : ''}`;
    emitOutput(
      {
        kind: 'image',
        width,
        height,
        pixels,
        scale: opts.scale,
        caption: opts.caption,
        label: opts.caption ?? `image ${source.shape.join('×')}${what}`,
        ...(opts.download ? { download: String(opts.download) } : {}),
      },
      { exec, transfer: [pixels.buffer] },
    );
  };

  /**
   * A segmentation mask (class ids, [H, W] or a batch [N, H, W(, 1)]) in a categorical
   * palette, or blended over `opts.image` (same height, width and batch). opts: {image,
   * alpha, labels (class names, added to the caption with their colours), scale,
   * columns, caption}.
   */
  display.mask = async (mask, opts = {}) => {
    const exec = getCurrentExec();
    const read = (src) => (tensors.isTensor(src) ? tensors.read(src) : plainSource(src, opts));
    const source = await read(mask);
    const image = opts.image == null ? null : await read(opts.image);
    const { width, height, pixels } = maskRGBA(source, image, opts);
    const caption = [opts.caption, opts.labels && legend(opts.labels)].filter(Boolean).join(' · ') || undefined;
    emitOutput(
      { kind: 'image', width, height, pixels, scale: opts.scale, caption, label: caption ?? `mask ${source.shape.join('×')}` },
      { exec, transfer: [pixels.buffer] },
    );
  };

  /**
   * A line chart. opts: {title, series: [names], x: name of the x key (default "x"),
   * xLabel, yLabel, logY, height, data: [points], spanGaps (a series without a value at
   * some x is drawn through), integerX (ticks at whole x only)}. A point is {x, name:
   * value, ...}; without x the point's index is used.
   */
  display.chart = (opts = {}) => {
    const handle = newHandle();
    const xKey = opts.x ?? 'x';
    let count = 0;
    const normalize = (p) => {
      count += 1;
      if (typeof p === 'number') return { [xKey]: count, y: p };
      return xKey in p ? p : { [xKey]: count, ...p };
    };
    const data = (opts.data ?? []).map(normalize);
    const series = opts.series ?? (data[0] ? Object.keys(data[0]).filter((k) => k !== xKey) : null);
    emitOutput({
      kind: 'chart',
      handle,
      title: opts.title,
      series,
      x: xKey,
      xLabel: opts.xLabel,
      yLabel: opts.yLabel,
      logY: !!opts.logY,
      height: opts.height,
      spanGaps: !!opts.spanGaps,
      integerX: !!opts.integerX,
      points: data,
    });
    const chart = {
      /** Appends one point (or a number for a single unnamed series). */
      push(point) {
        throwIfInterrupted();
        emitUpdate(handle, { points: [normalize(point)] }, (a, b) => ({ points: a.points.concat(b.points) }));
        return chart;
      },
    };
    return chart;
  };

  /**
   * opts: {total, label, unit: 'bytes' (steps are bytes: shown as MB, MB/s), started (a
   * performance.now() time the work began, when that was before the bar)} or the total.
   */
  display.progress = (opts = {}) => {
    const { total = null, label = '', unit, started = performance.now() } = typeof opts === 'number' ? { total: opts } : opts;
    const handle = newHandle();
    let step = 0;
    emitOutput({ kind: 'progress', handle, total, label, unit: unit === 'bytes' ? 'bytes' : undefined });
    const send = (extra) =>
      emitUpdate(handle, { step, total, elapsed: (performance.now() - started) / 1000, ...extra }, (a, b) => ({
        ...b,
        metrics: b.metrics ?? a.metrics,
      }));
    const bar = {
      /** Sets the absolute step; metrics is an object such as {loss: 0.3}. */
      update(value, metrics) {
        throwIfInterrupted();
        step = value;
        send({ metrics });
        return bar;
      },
      tick(metrics) {
        return bar.update(step + 1, metrics);
      },
      done(metrics) {
        send({ metrics, done: true });
        return bar;
      },
    };
    return bar;
  };

  return display;
}

function tableOutput(rows, { columns, caption, footer, maxRows = 200 } = {}) {
  if (!Array.isArray(rows)) throw new Error('display.table: expected an array of rows');
  const objects = rows.length > 0 && !Array.isArray(rows[0]);
  const cols = columns ?? (objects ? [...new Set(rows.flatMap((r) => Object.keys(r ?? {})))] : (rows[0] ?? []).map((_, i) => String(i)));
  const cell = (v) => (typeof v === 'number' || typeof v === 'string' || v == null ? v ?? '' : inspect(v));
  const body = rows.slice(0, maxRows).map((r) => (objects ? cols.map((c) => cell(r?.[c])) : r.map(cell)));
  return {
    kind: 'table',
    columns: cols,
    rows: body,
    caption,
    footer,
    truncated: Math.max(0, rows.length - maxRows),
  };
}

/** The output for a cell's final value (or display(value)); null shows nothing. */
export async function valueOutput(value, tensors) {
  if (value === undefined) return null;
  if (value && typeof value.toDisplay === 'function') return value.toDisplay();
  if (value && typeof value.summaryData === 'function') return summaryOutput(value.summaryData());
  // Multi-line text (a printed summary, a report) reads better as it is than quoted.
  if (typeof value === 'string' && value.includes('\n')) return { kind: 'value', text: value };
  if (tensors.isTensor(value)) {
    const read = await tensors.read(value);
    return { kind: 'value', text: tensors.describe(value, read) };
  }
  return { kind: 'value', text: inspect(value) };
}
