// A progress bar for loops: step/total, rate, ETA and the latest metrics (loss, ...).
// Timing comes from the kernel (elapsed since the bar was made), so batching of
// messages does not skew the rate. The ETA leaves out the first step seen: it carries
// one-off costs (compiling GPU pipelines, the first allocation) that later steps do not,
// and would make the early estimates far too long.

import { h } from './dom.js';
import { formatBytes as bytes } from './bytes.js';

function clock(seconds) {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}` : `${m}:${String(s % 60).padStart(2, '0')}`;
}

function metric(v) {
  return typeof v === 'number' ? (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toFixed(4)) : String(v);
}

// Counting steps, or bytes of a download ({unit: 'bytes'}).
const FORMATS = {
  steps: { count: (step, total) => (total ? `${step}/${total}` : `${step}`), rate: (r) => (r >= 1 ? `${r.toFixed(1)} it/s` : `${(1 / r).toFixed(2)} s/it`) },
  bytes: { count: (step, total) => (total ? `${bytes(step)} / ${bytes(total)}` : bytes(step)), rate: (r) => `${bytes(r)}/s` },
};

export function renderProgress(output) {
  const format = FORMATS[output.unit] ?? FORMATS.steps;
  const fill = h('div', { class: 'progress-fill' });
  const bar = h('div', { class: 'progress-track', role: 'progressbar', 'aria-valuemin': '0', 'aria-label': output.label || 'progress' }, fill);
  const text = h('span', { class: 'progress-text', text: output.total ? format.count(0, output.total) : 'starting…' });
  const element = h('div', { class: 'out-progress', 'data-state': 'running' }, output.label ? h('span', { class: 'progress-label', text: output.label }) : null, bar, text);
  let last = { step: 0, total: output.total };
  let first = null;
  if (output.total) bar.setAttribute('aria-valuemax', String(output.total));

  function update(u) {
    // An update without metrics (a plain step, done()) keeps the last ones on show.
    last = { ...last, ...u, metrics: u.metrics ?? last.metrics };
    if (element.dataset.state === 'stopped') return;
    const { step, total, elapsed, metrics } = last;
    const done = last.done || (total && step >= total);
    const parts = [format.count(step, total)];
    if (elapsed > 0 && step > 0) {
      first ??= { step, elapsed };
      const steady = step > first.step && elapsed > first.elapsed ? (step - first.step) / (elapsed - first.elapsed) : null;
      const rate = steady ?? step / elapsed;
      parts.push(format.rate(rate));
      if (done) parts.push(`${clock(elapsed)} total`);
      else if (total && !last.stopped) parts.push(`ETA ${clock((total - step) / rate)}`);
    }
    for (const [k, v] of Object.entries(metrics ?? {})) parts.push(`${k} ${metric(v)}`);
    text.textContent = parts.join(' · ');
    if (total) {
      fill.style.width = `${Math.min(100, (100 * step) / total)}%`;
      bar.setAttribute('aria-valuenow', String(step));
    }
    if (done) element.dataset.state = 'done';
  }

  // The cell ended (error, interrupt, restart) before the loop finished.
  function finish(status) {
    if (element.dataset.state !== 'running') return;
    if (status === 'ok') {
      element.dataset.state = 'done';
      return;
    }
    last.stopped = true;
    update({});
    element.dataset.state = 'stopped';
    text.textContent += status === 'interrupted' ? ' · interrupted' : ' · stopped';
  }

  return { element, update, finish };
}
