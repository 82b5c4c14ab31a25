// The bench page. Without `?case=` it is the runner: it opens each case (one engine on
// one backend) in a fresh frame, one after the other (in the full mode, two rounds of
// all of them, their timed calls pooled), gathers their results, checks the
// first-step losses and shows the table; `?run` starts at once (`?mode=full` for the
// full sizes, `?cases=convbook-webgpu,tfjs-webgpu` for some cases only, `?rounds=N` to override the mode's rounds; `?wasm=simd128` keeps convbook on its plain SIMD128 build where relaxed SIMD would run). With `?case=<id>` it is one case, reporting to the frame that opened it.

import { benchModels, ITERATIONS } from './models.js';
import { CASES, lossAgreement, markdown } from './report.js';
import { median, runCase } from './measure.js';
import { loadConvbook } from './convbook-engine.js';
import { loadTfjs } from './tfjs-engine.js';

const params = new URLSearchParams(location.search);
const mode = params.get('mode') === 'full' ? 'full' : 'quick';
const status = document.getElementById('status');
const report = document.getElementById('report');
const say = (text) => {
  status.textContent = text;
};

async function runOneCase(id) {
  const spec = CASES.find((c) => c.id === id);
  const post = (msg) => (window.parent !== window ? window.parent.postMessage({ caseId: id, ...msg }, location.origin) : null);
  const progress = (text) => {
    say(`${id}: ${text}`);
    post({ type: 'progress', text });
  };
  let result;
  try {
    if (!spec) throw new Error(`unknown case '${id}' (known: ${CASES.map((c) => c.id).join(', ')})`);
    progress('loading the engine');
    const engine = spec.engine === 'convbook' ? await loadConvbook(spec.backend, params.get('wasm') ?? 'auto') : await loadTfjs(spec.backend);
    result = await runCase(engine, benchModels(mode), mode, progress);
  } catch (e) {
    result = { engine: spec?.engine, backend: spec?.backend, error: e instanceof Error ? e.message : String(e) };
  }
  report.textContent = JSON.stringify(result, null, 2);
  say(`${id}: done`);
  post({ type: 'result', result });
}

function runInFrame(id) {
  return new Promise((resolve) => {
    const frame = document.createElement('iframe');
    const onMessage = (event) => {
      if (event.source !== frame.contentWindow || event.data?.caseId !== id) return;
      if (event.data.type === 'progress') say(`${id}: ${event.data.text}`);
      if (event.data.type === 'result') {
        window.removeEventListener('message', onMessage);
        frame.remove();
        resolve(event.data.result);
      }
    };
    window.addEventListener('message', onMessage);
    const wasm = params.get('wasm') ? `&wasm=${encodeURIComponent(params.get('wasm'))}` : '';
    frame.src = `?case=${encodeURIComponent(id)}&mode=${mode}${wasm}`;
    document.body.append(frame);
  });
}

async function adapterName() {
  try {
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) return 'none (no WebGPU)';
    const i = adapter.info ?? {};
    return [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' / ') || 'unnamed';
  } catch (e) {
    return `unknown (${e.message})`;
  }
}

const TIMED = [
  ['predictMs', 'predictTimesMs'],
  ['trainMs', 'trainTimesMs'],
];

/** A case's first round: its per-round medians start their lists. */
function startPooling(result) {
  for (const entry of Object.values(result.models ?? {})) {
    entry.roundMediansMs = Object.fromEntries(TIMED.filter(([m]) => entry[m] != null).map(([m]) => [m, [entry[m]]]));
  }
  return result;
}

/**
 * A later round of the same case: its timed calls join the first round's and the medians
 * are taken over all of them. Cold start, bytes and memory stay the first round's (a
 * later frame finds the browser's caches warm).
 */
function pool(first, later) {
  if (later.error) {
    first.laterRoundError = later.error;
    return first;
  }
  for (const [id, entry] of Object.entries(first.models ?? {})) {
    const next = later.models?.[id];
    for (const [medianKey, timesKey] of TIMED) {
      if (!entry[timesKey] || !next?.[timesKey]) continue;
      entry[timesKey] = [...entry[timesKey], ...next[timesKey]];
      entry[medianKey] = median(entry[timesKey]);
      entry.roundMediansMs[medianKey].push(next[medianKey]);
    }
  }
  return first;
}

async function runAll() {
  document.getElementById('run').disabled = true;
  document.documentElement.dataset.bench = 'running';
  const results = {
    mode,
    iterations: ITERATIONS[mode],
    models: benchModels(mode).map(({ id, title, side, batch }) => ({ id, title, side, batch })),
    machine: { browser: navigator.userAgent, adapter: await adapterName() },
    startedAt: new Date().toISOString(),
    cases: {},
  };
  // `?cases=a,b` runs only those (by hand, or while working on one engine).
  const only = params.get('cases')?.split(',');
  results.caseIds = CASES.map((c) => c.id).filter((id) => !only || only.includes(id));
  // Rounds alternate the engines (A B … A B …), so a burst of load on the machine lands on
  // both rather than on whichever ran during it; each case's timed calls are pooled.
  results.rounds = Number(params.get('rounds')) || ITERATIONS[mode].rounds || 1;
  for (let round = 0; round < results.rounds; round++) {
    for (const id of results.caseIds) {
      if (results.rounds > 1) say(`round ${round + 1} of ${results.rounds}: ${id}`);
      const result = await runInFrame(id);
      results.cases[id] = round === 0 ? startPooling(result) : pool(results.cases[id], result);
    }
  }
  results.tfjsVersion = Object.values(results.cases).find((r) => r.version)?.version ?? null;
  results.lossAgreement = lossAgreement(results);
  report.textContent = markdown(results);
  say(`done (${mode} run)`);
  window.benchResults = results;
  document.documentElement.dataset.bench = 'done';
}

const caseId = params.get('case');
if (caseId) {
  runOneCase(caseId);
} else {
  const select = document.getElementById('mode');
  select.value = mode;
  select.onchange = () => {
    location.search = `?mode=${select.value}`;
  };
  document.getElementById('run').onclick = runAll;
  if (params.has('run')) runAll();
  else say('ready: choose the sizes and press Run');
}
