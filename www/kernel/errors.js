// Turns whatever a cell threw into an error output that names the line in the cell.
// Cells are compiled with `//# sourceURL=convbook-cell-<n>.js`, so V8 stack frames
// carry the execution number; the line offset added by the AsyncFunction wrapper is
// measured once instead of assumed.

import { InterruptedError } from './interrupt.js';

// A call into the engine nests many wasm and glue frames; with V8's default of 10 frames
// an engine error's stack stops before the cell's own frame and loses its line.
Error.stackTraceLimit = Math.max(Error.stackTraceLimit ?? 10, 200);

const AsyncFunction = (async () => {}).constructor;
const FRAME = /convbook-cell-(\d+)\.js:(\d+):(\d+)/g;

export const cellUrl = (n) => `convbook-cell-${n}.js`;

let headerLines = null;

async function measureHeader() {
  try {
    await new AsyncFunction(`throw new Error();\n//# sourceURL=${cellUrl(0)}`)();
  } catch (e) {
    const m = [...String(e.stack).matchAll(FRAME)][0];
    return m ? Number(m[2]) - 1 : 2;
  }
  return 2;
}

export async function compile(code, n) {
  headerLines ??= await measureHeader();
  return new AsyncFunction(...code.params, `${code.body}\n//# sourceURL=${cellUrl(n)}`);
}

/**
 * `cells` maps an execution number to {source, prefixLength} so frames from functions a
 * cell defined, called from a later cell, still name the right cell and line.
 */
export function errorOutput(error, { exec, cells }) {
  if (error instanceof InterruptedError) {
    return { kind: 'error', name: 'InterruptedError', message: error.message, interrupted: true };
  }
  if (error instanceof SyntaxError && error.loc) {
    // acorn's message ends with "(line:column)"; the location is shown separately.
    const message = error.message.replace(/ \(\d+:\d+\)$/, '');
    return withSnippet({ kind: 'error', name: 'SyntaxError', message, line: error.loc.line, column: error.loc.column + 1, cell: exec }, cells.get(exec));
  }
  const isError = error instanceof Error || (error && typeof error.stack === 'string');
  const out = {
    kind: 'error',
    name: isError ? error.name || 'Error' : 'Uncaught',
    message: isError ? String(error.message) : String(error),
    stack: isError ? cleanStack(String(error.stack ?? '')) : undefined,
  };
  const frames = isError ? [...String(error.stack ?? '').matchAll(FRAME)] : [];
  // The innermost frame in any cell: a function defined in an earlier cell and called
  // from this one fails in the earlier cell's code, and that is the line to show.
  const frame = frames[0];
  if (frame && headerLines !== null) {
    const n = Number(frame[1]);
    const line = Number(frame[2]) - headerLines;
    const info = cells.get(n);
    let column = Number(frame[3]);
    if (line === 1 && info) column = Math.max(1, column - info.prefixLength);
    Object.assign(out, { line, column, cell: n });
    return withSnippet(out, info);
  }
  // No cell frame: a promise from the engine rejected after the call had returned. The
  // await that received it says where in the cell (see transform.js).
  const at = isError ? error.awaitedAt : null;
  if (at?.line && cells.has(at.cell)) {
    Object.assign(out, { line: at.line, column: at.column, cell: at.cell });
    return withSnippet(out, cells.get(at.cell));
  }
  return out;
}

function withSnippet(out, info) {
  if (!info || !out.line) return out;
  const lines = info.source.split('\n');
  const from = Math.max(1, out.line - 2);
  const to = Math.min(lines.length, out.line + 1);
  out.snippet = [];
  for (let l = from; l <= to; l++) out.snippet.push({ line: l, text: lines[l - 1], here: l === out.line });
  return out;
}

// Frames inside the kernel itself are noise to the reader.
function cleanStack(stack) {
  return stack
    .split('\n')
    .filter((l) => !/\/kernel\/|\/assets\/worker|at async Promise/.test(l))
    .join('\n');
}
