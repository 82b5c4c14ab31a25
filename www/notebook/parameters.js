// Parameters cells, as papermill has them: a chapter keeps its training sizes (epochs,
// image size, subset sizes) in one cell fenced ```js parameters. Overrides replace the
// value of those top-level declarations when the cell runs, so a test (or a reader
// with a slow machine) can run a whole chapter quickly without editing it. The cell's
// text stays the chapter's; its output says which values were overridden.

let overrides = {};

/** The overrides in force: `?parameters={"epochs":1}` in the URL, or what set() gave. */
export function currentOverrides() {
  return overrides;
}

export function setOverrides(values) {
  if (values != null && (typeof values !== 'object' || Array.isArray(values))) {
    throw new Error(`parameters: expected an object such as {epochs: 1}, got ${JSON.stringify(values)}`);
  }
  overrides = { ...(values ?? {}) };
}

/** Reads `?parameters=<JSON object>`; a malformed value is reported, not thrown. */
export function overridesFromSearch(search) {
  const raw = new URLSearchParams(search).get('parameters');
  if (!raw) return { values: {} };
  try {
    const values = JSON.parse(raw);
    if (!values || typeof values !== 'object' || Array.isArray(values)) throw new Error('not an object');
    return { values };
  } catch (e) {
    return { values: {}, error: `?parameters= must be a JSON object such as {"epochs":1} (${e.message})` };
  }
}

// `const name = value;` (or let/var) alone on a line, with an optional trailing comment.
const DECLARATION = /^(\s*(?:const|let|var)\s+)([A-Za-z_$][\w$]*)(\s*=\s*)(.*?)(;?)(\s*\/\/.*)?$/;

/**
 * Rewrites the declarations of `source` named in `values`. Returns {source, applied:
 * [{name, chapter, value}], unknown: [names no declaration has]}.
 */
export function applyParameters(source, values) {
  const applied = [];
  const seen = new Set();
  const lines = source.split('\n').map((line) => {
    const m = DECLARATION.exec(line);
    if (!m || !Object.hasOwn(values, m[2])) return line;
    const [, head, name, eq, chapter, semi, comment = ''] = m;
    const value = JSON.stringify(values[name]);
    seen.add(name);
    applied.push({ name, chapter, value });
    return `${head}${name}${eq}${value}${semi || ';'}${comment}`;
  });
  const unknown = Object.keys(values).filter((k) => !seen.has(k));
  return { source: lines.join('\n'), applied, unknown };
}
