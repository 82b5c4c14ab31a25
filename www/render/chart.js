// Line charts on uPlot (small, fast, made for streaming data): training curves grow a
// point at a time through handle.push(), redrawn at most once per frame.

import uPlot from 'uplot';
import { h } from './dom.js';

// uPlot's default tick labels are clipped for very large or small values (log scales).
function tick(v) {
  if (v === null || v === undefined) return '';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-2)) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}
const ticks = (_, splits) => splits.map(tick);

const INTEGER_STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 1e4, 2e4, 5e4, 1e5, 1e6, 1e7];

const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#4b5563'];

export function renderChart(output) {
  const xKey = output.x ?? 'x';
  let series = output.series ?? null;
  let columns = null;
  let plot = null;
  let frame = null;
  const holder = h('div', { class: 'chart-holder' });
  const element = h('figure', { class: 'out-chart', role: 'img', 'aria-label': `chart${output.title ? `: ${output.title}` : ''}` }, holder);
  const height = output.height ?? 220;

  function ensure(points) {
    if (!series) series = points[0] ? Object.keys(points[0]).filter((k) => k !== xKey) : null;
    if (!series || plot) return;
    columns = [[], ...series.map(() => [])];
    const width = Math.max(240, Math.min(760, holder.clientWidth || 640));
    plot = new uPlot(
      {
        width,
        height,
        title: output.title,
        scales: { x: { time: false }, y: output.logY ? { distr: 3 } : {} },
        axes: [
          // Steps and epochs are whole numbers: no ticks at 2.5.
          { label: output.xLabel ?? xKey, values: ticks, ...(output.integerX || points.every((p) => Number.isInteger(p[xKey])) ? { incrs: INTEGER_STEPS } : {}) },
          { label: output.yLabel, values: ticks, size: 56 },
        ],
        // Series with gaps (validation values once per epoch among per-batch points) are
        // drawn through them and show their points.
        series: [{ label: xKey }, ...series.map((s, i) => ({ label: s, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: !!output.spanGaps, ...(output.spanGaps ? {} : { points: { show: false } }) }))],
        legend: { live: true },
      },
      columns,
      holder,
    );
    new ResizeObserver(() => {
      const w = Math.max(240, Math.min(760, element.clientWidth));
      if (w && Math.abs(w - plot.width) > 4) plot.setSize({ width: w, height });
    }).observe(element);
  }

  // Points wait here until the next frame; uPlot also needs the figure placed in the
  // page before it can measure its width.
  let pending = [...(output.points ?? [])];
  function draw() {
    frame = null;
    ensure(pending);
    if (!plot) return;
    for (const p of pending) {
      columns[0].push(p[xKey]);
      series.forEach((s, i) => columns[i + 1].push(typeof p[s] === 'number' && Number.isFinite(p[s]) ? p[s] : null));
    }
    pending = [];
    plot.setData(columns);
  }
  const schedule = () => (frame ??= requestAnimationFrame(draw));
  schedule();

  return {
    element,
    update(u) {
      pending.push(...(u.points ?? []));
      schedule();
    },
  };
}
