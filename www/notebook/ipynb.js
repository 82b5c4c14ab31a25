// Jupyter notebooks (nbformat 4) in and out, so authors can move work between tools.
// Code cells are JavaScript (metadata.kernelspec names it); prose cells are Markdown.
// Outputs go out as `stream`, `display_data` and `error` where Jupyter can show them
// (text/plain, text/markdown, text/html tables, image/png), each display_data carrying
// the notebook's own record under CONVBOOK_MIME so a round trip keeps charts and tables
// exactly; "coming soon" notes become Markdown cells tagged `soon`.

const CONVBOOK_MIME = 'application/vnd.convbook.output+json';

const lines = (text) => text.split(/(?<=\n)/);
const joined = (source) => (Array.isArray(source) ? source.join('') : (source ?? ''));

const escapeHtml = (text) => String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function tableHtml(record) {
  const columns = record.columns ?? [];
  const rows = record.rows ?? [];
  const cell = (v) => escapeHtml(typeof v === 'object' && v !== null ? JSON.stringify(v) : v);
  return `<table><thead><tr>${columns.map((c) => `<th>${cell(c)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${(Array.isArray(r) ? r : columns.map((c) => r[c])).map((v) => `<td>${cell(v)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function toJupyterOutput(record, count) {
  if (record.kind === 'stream') return { output_type: 'stream', name: record.name === 'stderr' ? 'stderr' : 'stdout', text: lines(record.text) };
  if (record.kind === 'error') return { output_type: 'error', ename: record.name ?? 'Error', evalue: record.message ?? '', traceback: [`${record.name ?? 'Error'}: ${record.message ?? ''}`] };
  const data = { [CONVBOOK_MIME]: record };
  if (record.kind === 'value') data['text/plain'] = lines(record.text ?? '');
  else if (record.kind === 'markdown') data['text/markdown'] = lines(record.text ?? '');
  else if (record.kind === 'image' && record.png) data['image/png'] = record.png.replace(/^data:image\/png;base64,/, '');
  else if (record.kind === 'table') data['text/html'] = lines(tableHtml(record));
  else if (record.kind === 'download') data['text/plain'] = [`(downloaded ${record.name}, ${record.size} bytes)`];
  else data['text/plain'] = [`(${record.kind}${record.title ? `: ${record.title}` : record.label ? `: ${record.label}` : ''})`];
  const out = { output_type: 'display_data', data, metadata: {} };
  if (record.kind === 'value' && count != null) return { output_type: 'execute_result', execution_count: count, data, metadata: {} };
  return out;
}

function fromJupyterOutput(out) {
  if (out.output_type === 'stream') return { kind: 'stream', name: out.name === 'stderr' ? 'stderr' : 'stdout', text: joined(out.text) };
  if (out.output_type === 'error') return { kind: 'error', name: out.ename, message: out.evalue };
  const data = out.data ?? {};
  if (data[CONVBOOK_MIME]?.kind) return data[CONVBOOK_MIME];
  if (data['image/png']) return { kind: 'image', png: `data:image/png;base64,${joined(data['image/png']).replace(/\s+/g, '')}`, width: out.metadata?.['image/png']?.width ?? 256, height: out.metadata?.['image/png']?.height ?? 256, scale: 1 };
  if (data['text/markdown']) return { kind: 'markdown', text: joined(data['text/markdown']) };
  if (data['text/plain']) return { kind: 'value', text: joined(data['text/plain']) };
  return null;
}

/** {meta, cells} (as snapshot() gives it) -> the .ipynb JSON text. */
export function toIpynb({ meta, cells }) {
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'javascript', display_name: 'JavaScript (convbook)', language: 'javascript' },
      language_info: { name: 'javascript', file_extension: '.js', mimetype: 'text/javascript' },
      convbook: { meta },
    },
    cells: cells.map((c, i) => {
      const id = `cell-${i + 1}`;
      if (c.type === 'code') {
        const run = c.outputs;
        return {
          cell_type: 'code',
          id,
          metadata: c.parameters ? { tags: ['parameters'] } : {},
          execution_count: run?.count ?? null,
          source: lines(c.source),
          outputs: (run?.records ?? []).map((r) => toJupyterOutput(r, run.count)),
        };
      }
      return { cell_type: 'markdown', id, metadata: c.type === 'soon' ? { tags: ['soon'], convbook: { needs: c.needs ?? null } } : {}, source: lines(c.source) };
    }),
  };
  return `${JSON.stringify(nb, null, 1)}\n`;
}

/** The .ipynb JSON text -> {meta, cells}; throws with a plain reason when it is not one. */
export function fromIpynb(text, fallbackTitle = 'Imported notebook') {
  let nb;
  try {
    nb = JSON.parse(text);
  } catch (e) {
    throw new Error(`not a Jupyter notebook: the file is not JSON (${e.message})`);
  }
  if (!Array.isArray(nb?.cells) || nb.nbformat !== 4) throw new Error(`not a Jupyter notebook this page reads: it needs nbformat 4, the file has ${nb?.nbformat ?? 'none'}`);
  const meta = { ...(nb.metadata?.convbook?.meta ?? {}) };
  meta.title ??= nb.metadata?.title ?? fallbackTitle;
  const cells = nb.cells.map((c) => {
    const source = joined(c.source);
    const tags = c.metadata?.tags ?? [];
    if (c.cell_type === 'code') {
      const cell = { type: 'code', source };
      if (tags.includes('parameters')) cell.parameters = true;
      const records = (c.outputs ?? []).map(fromJupyterOutput).filter(Boolean);
      if (records.length || c.execution_count != null) cell.outputs = { count: c.execution_count ?? null, state: records.some((r) => r.kind === 'error') ? 'error' : 'done', status: 'ok', records };
      return cell;
    }
    if (tags.includes('soon')) return { type: 'soon', source, needs: c.metadata?.convbook?.needs ?? undefined };
    return { type: 'markdown', source };
  });
  return { meta, cells: cells.filter((c) => c.type !== 'markdown' || c.source.trim()) };
}
