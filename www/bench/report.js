// What a bench run means: which cases run, whether the engines' first-step losses
// agree, and the markdown table. Pure functions over the results object, shared by the
// page and by `cargo xtask bench --browser` (which runs under Node).

/** Every case, in the order they run; each TF.js case is compared with `against`. */
export const CASES = [
  { id: 'convbook-webgpu', engine: 'convbook', backend: 'webgpu' },
  { id: 'convbook-cpu', engine: 'convbook', backend: 'cpu' },
  { id: 'tfjs-webgpu', engine: 'tfjs', backend: 'webgpu', against: 'convbook-webgpu' },
  { id: 'tfjs-wasm', engine: 'tfjs', backend: 'wasm', against: 'convbook-cpu' },
  { id: 'tfjs-cpu', engine: 'tfjs', backend: 'cpu', against: 'convbook-cpu' },
];

/** Relative first-step loss difference above which the engines disagree. */
export const LOSS_TOLERANCE = 1e-4;

/**
 * Per model: every case's first-step loss, each one's relative difference from the
 * reference (convbook on the CPU, the engine's reference kernels, else the first
 * convbook loss), and `ok`: at least one loss of each engine, all within tolerance.
 */
export function lossAgreement(results) {
  const out = {};
  for (const model of results.models) {
    const losses = {};
    for (const c of CASES) {
      const l = results.cases[c.id]?.models?.[model.id]?.firstLoss;
      if (Number.isFinite(l)) losses[c.id] = l;
    }
    const reference = losses['convbook-cpu'] ?? losses['convbook-webgpu'];
    const relative = {};
    for (const [id, l] of Object.entries(losses)) relative[id] = reference === undefined ? null : Math.abs(l - reference) / Math.max(Math.abs(reference), 1e-12);
    const diffs = Object.values(relative).filter((d) => d !== null);
    const maxRelative = diffs.length ? Math.max(...diffs) : null;
    const both = Object.keys(losses).some((id) => id.startsWith('convbook')) && Object.keys(losses).some((id) => id.startsWith('tfjs'));
    out[model.id] = { losses, relative, maxRelative, ok: both && maxRelative <= LOSS_TOLERANCE };
  }
  return out;
}

const ms = (v) => (v == null ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v >= 100 ? 0 : 1)} ms`);
const kb = (v) => (v == null ? '–' : v >= 1e6 ? `${(v / 1e6).toFixed(2)} MB` : `${(v / 1e3).toFixed(0)} kB`);
const ratio = (tfjs, ours) => (tfjs == null || ours == null || ours === 0 ? '–' : `${(tfjs / ours).toFixed(2)}×`);
const row = (cells) => `| ${cells.join(' | ')} |`;

function header() {
  const cells = [''];
  for (const c of CASES) {
    cells.push(c.id.replace('-', ' '));
    if (c.against) cells.push(`ratio vs ${c.against.replace('-', ' ')}`);
  }
  return [row(cells), row(cells.map(() => '---'))];
}

/** One row across every case: `value(caseResult)` as text, ratios for TF.js cases. */
function line(label, results, value, format) {
  const cells = [label];
  for (const c of CASES) {
    const r = results.cases[c.id];
    const v = r ? value(r) : undefined;
    cells.push(r?.error ? 'failed' : typeof v === 'string' ? v : format(v));
    if (c.against) {
      const o = results.cases[c.against];
      cells.push(typeof v === 'number' && o ? ratio(v, value(o)) : '–');
    }
  }
  return row(cells);
}

/** A cell's error, shortened for a table (the JSON keeps it whole). */
const failed = (e) => `✗ ${e.split(/[.:\n]/)[0].slice(0, 40)}`;

/** The markdown report: machine, timings with ratios (TF.js time / convbook time), loss check. */
export function markdown(results) {
  const m = results.machine ?? {};
  const lines = [
    `### convbook vs TF.js ${results.tfjsVersion ?? ''} (${results.mode} run)`,
    '',
    `- browser: ${m.browser ?? navigatorText()}`,
    `- WebGPU adapter: ${m.adapter ?? 'unknown'}`,
    m.host ? `- host: ${m.host}` : null,
    m.loadAverage ? `- load average (1 min) at start and end: ${m.loadAverage.start.toFixed(1)}, ${m.loadAverage.end.toFixed(1)}` : null,
    m.note ? `- ${m.note}` : null,
    `- medians of up to ${results.iterations.timed} timed calls (as many as fit in ${results.iterations.budgetMs / 1000} s, at least one) after ${results.iterations.warmup} warm-up, each ending on a readback${(results.rounds ?? 1) > 1 ? `, pooled over ${results.rounds} rounds that alternate the engines` : ''}; ratio = TF.js time / convbook time (above 1: convbook faster)`,
    '',
    ...header(),
  ].filter((l) => l !== null);
  for (const model of results.models) {
    const label = `${model.title} ${model.side}×${model.side}, batch ${model.batch}`;
    for (const [op, key, err] of [['predict', 'predictMs', 'predictError'], ['train step', 'trainMs', 'trainError']]) {
      lines.push(line(`${label}: ${op}`, results, (r) => {
        const e = r.models?.[model.id];
        if (e?.error) return failed(e.error);
        if (e?.[err]) return failed(e[err]);
        return e?.[key];
      }, ms));
    }
  }
  lines.push(line('cold start → first predict', results, (r) => r.coldStart?.firstPredictMs, ms));
  lines.push(line('cold start → first train step', results, (r) => r.coldStart?.firstTrainMs, ms));
  lines.push(line('engine bytes over the wire (uncompressed)', results, (r) => r.bytes?.engineTransferBytes, kb));
  lines.push(line('the same files gzipped (level 9)', results, (r) => r.bytes?.engineGzipBytes, kb));
  lines.push('');
  lines.push('First-step loss (same weights, same batch):');
  lines.push('');
  lines.push(row(['model', ...CASES.map((c) => c.id), 'max relative difference', `within ${LOSS_TOLERANCE}`]));
  lines.push(row(Array(CASES.length + 3).fill('---')));
  for (const [id, a] of Object.entries(results.lossAgreement)) {
    lines.push(row([id, ...CASES.map((c) => (a.losses[c.id] === undefined ? '–' : a.losses[c.id].toPrecision(7))), a.maxRelative == null ? '–' : a.maxRelative.toExponential(1), a.ok ? 'yes' : '**no**']));
  }
  lines.push('');
  lines.push('Memory before → after the timed train steps (convbook: live GPU buffers / pool bytes, then host tensors / bytes; TF.js: tensors / bytes):');
  lines.push('');
  lines.push(row(['model', ...CASES.map((c) => c.id)]));
  lines.push(row(Array(CASES.length + 1).fill('---')));
  for (const model of results.models) {
    lines.push(row([model.id, ...CASES.map((c) => memoryText(results.cases[c.id]?.models?.[model.id]))]));
  }
  const compile = results.cases['convbook-webgpu']?.pipelineCompileMs;
  if (compile && Object.keys(compile).length) {
    lines.push('', 'convbook WebGPU pipeline compile times:', '', row(['pipeline', 'ms']), row(['---', '---']));
    for (const [label, t] of Object.entries(compile).sort((a, b) => b[1] - a[1])) lines.push(row([label, t.toFixed(1)]));
  }
  return lines.join('\n');
}

function memoryText(e) {
  if (!e?.memoryBefore || !e?.memoryAfter) return '–';
  const host = (s) => ('host_tensors' in s ? `, host ${s.host_tensors} / ${kb(s.host_bytes)}` : '');
  const pick = (s) => ('numTensors' in s ? `${s.numTensors} / ${kb(s.numBytes)}` : `${s.live_buffers ?? s.liveBuffers} / ${kb(s.pool_bytes ?? s.poolBytes)}${host(s)}`);
  return `${pick(e.memoryBefore)} → ${pick(e.memoryAfter)}`;
}

function navigatorText() {
  return typeof navigator === 'undefined' ? 'unknown' : navigator.userAgent;
}

/**
 * What makes a run fail: a convbook case or measurement that errored (TF.js's are
 * recorded, not failures: some of its backends lack gradients), or first-step losses
 * that disagree. Empty when the run is sound.
 */
export function problems(results) {
  const out = [];
  for (const c of CASES.filter((c) => results.caseIds.includes(c.id))) {
    const r = results.cases?.[c.id];
    if (!r) out.push(`${c.id}: no result`);
    else if (r.error && c.engine === 'convbook') out.push(`${c.id}: ${r.error}`);
    if (c.engine !== 'convbook' || !r || r.error) continue;
    for (const model of results.models) {
      const e = r.models?.[model.id];
      for (const key of ['error', 'predictError', 'trainError', 'disposeError']) if (e?.[key]) out.push(`${c.id} ${model.id}: ${e[key]}`);
    }
  }
  for (const [id, a] of Object.entries(results.lossAgreement ?? {})) {
    if (!a.ok) out.push(`${id}: first-step losses disagree (${JSON.stringify(a.losses)}, max relative difference ${a.maxRelative})`);
  }
  return out;
}
