// `cargo xtask bench --browser [--quick]`: serves www/, opens the bench page (built by
// `cargo xtask build` into www/dist/bench/) in headless chromium on SwiftShader WebGPU,
// waits for every case, and writes the results and the markdown table. Also imported by
// tests/browser/bench.test.mjs, which runs the quick sizes.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, launchBrowser, startServer } from '../../../tests/browser/helpers.mjs';
import { markdown, problems } from '../../../www/bench/report.js';

const PAGE = 'www/dist/bench/index.html';

/**
 * Runs the bench; resolves to {results, table, problems}. `log(text)` hears progress.
 * The page's own timings are untouched by the harness: it only polls the status line.
 */
export async function runBench({ quick = false, cases = null, wasm = null, rounds = null, timeoutMs = 3_600_000, log = () => {} } = {}) {
  if (!existsSync(join(ROOT, PAGE))) throw new Error(`${PAGE} is missing: run \`cargo xtask build\` first`);
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('crash', () => errors.push('the page crashed'));
    // `wasm: 'simd128'` keeps convbook on its plain build (see www/kernel/wasm-build.js).
    const only = (cases ? `&cases=${cases.join(',')}` : '') + (wasm ? `&wasm=${wasm}` : '') + (rounds ? `&rounds=${rounds}` : '');
    const loadBefore = loadavg()[0];
    await page.goto(`${server.url}/dist/bench/index.html?run&mode=${quick ? 'quick' : 'full'}${only}`);
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const [state, status] = await page.evaluate(() => [document.documentElement.dataset.bench, document.getElementById('status')?.textContent ?? '']);
      if (status !== last) log((last = status));
      if (state === 'done') break;
      if (errors.length) throw new Error(`the bench page failed: ${errors.join('; ')}`);
      if (Date.now() > deadline) throw new Error(`the bench did not finish in ${timeoutMs / 1000} s (last: ${last})`);
      await new Promise((ok) => setTimeout(ok, 1000));
    }
    const results = await page.evaluate(() => window.benchResults);
    const cpu = cpus();
    results.machine = {
      ...results.machine,
      browser: `headless Chromium ${browser.version()}`,
      host: `${cpu.length}-core ${cpu[0]?.model.trim() ?? 'unknown CPU'}; WebGPU on SwiftShader (software Vulkan), no GPU`,
      // Other work on the machine slows every case; the 1-minute load average says how much.
      loadAverage: { start: loadBefore, end: loadavg()[0] },
    };
    addGzipSizes(results);
    return { results, table: markdown(results), problems: problems(results) };
  } finally {
    await browser.close();
    await server.close();
  }
}

// The servers here send files as they are, so Resource Timing counts uncompressed
// bytes; a host would gzip them. Each engine file's gzip size, for the same comparison.
const ENGINE_DIRS = ['www/dist/pkg', 'www/dist/bench/tfjs'];

export function addGzipSizes(results) {
  for (const r of Object.values(results.cases)) {
    if (!r.bytes) continue;
    let total = 0;
    for (const f of r.bytes.files) {
      const dir = ENGINE_DIRS.find((d) => existsSync(join(ROOT, d, f.name)));
      f.gzipBytes = dir ? gzipSync(readFileSync(join(ROOT, dir, f.name)), { level: 9 }).length : null;
      total += f.gzipBytes ?? 0;
    }
    r.bytes.engineGzipBytes = total;
  }
}

async function main() {
  const quick = process.argv.includes('--quick');
  const { results, table, problems: found } = await runBench({ quick, log: (t) => console.error(`    ${t}`) });
  const dir = join(ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  // A quick run never overwrites the full run's record.
  const file = quick ? 'browser-quick.json' : 'browser.json';
  writeFileSync(join(dir, file), JSON.stringify(results, null, 2) + '\n');
  console.log(table);
  console.error(`    wrote bench-results/${file}`);
  if (found.length) {
    console.error(`the bench found problems:\n  ${found.join('\n  ')}`);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e.message ?? e);
    process.exit(1);
  });
}
