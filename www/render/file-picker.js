// The page side of `files.pick` (kernel/file-picker.js): a button that opens the file
// dialog and a drop zone, which send the chosen files back to the kernel with
// `send({files: [{file, path}]})`. `path` is the file's path inside a picked or dropped
// folder ("shoes/boots/001.jpg"), '' for a plain file. Dropped folders are walked with
// webkitGetAsEntry. Cancelling the dialog keeps the picker armed; once files are sent it
// shows what was chosen and disables itself.

import { h } from './dom.js';
import { formatBytes as size } from './bytes.js';

/** Whether `file` matches an <input accept> list (".zip", "image/*", "text/csv"). */
export function accepts(accept, file) {
  const tokens = (accept ?? '').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
  if (tokens.length === 0) return true;
  const name = file.name.toLowerCase();
  const type = (file.type || '').toLowerCase();
  return tokens.some((t) => (t.startsWith('.') ? name.endsWith(t) : t.endsWith('/*') ? type.startsWith(t.slice(0, -1)) : type === t));
}

// webkitGetAsEntry's callback APIs, as promises.
const entryFile = (entry) => new Promise((resolve, reject) => entry.file(resolve, reject));
async function readAll(dir) {
  const reader = dir.createReader();
  const entries = [];
  // readEntries hands out at most ~100 entries per call; an empty batch ends the list.
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return entries;
    entries.push(...batch);
  }
}

async function walk(entry, out) {
  if (entry.isFile) {
    out.push({ file: await entryFile(entry), path: entry.fullPath.replace(/^\/+/, '') });
  } else if (entry.isDirectory) {
    const children = await readAll(entry);
    children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const child of children) await walk(child, out);
  }
}

/** A drop's files as {file, path, folder}; folders are walked (path from the dropped folder). */
async function droppedFiles(dataTransfer) {
  const items = [...(dataTransfer.items ?? [])].filter((i) => i.kind === 'file');
  // Entries must be taken before the first await: the DataTransfer empties afterwards.
  const picked = items.map((i) => ({ entry: i.webkitGetAsEntry?.() ?? null, file: i.getAsFile() }));
  if (picked.length === 0) return [...(dataTransfer.files ?? [])].map((file) => ({ file, path: '', folder: false }));
  const out = [];
  for (const { entry, file } of picked) {
    if (entry?.isDirectory) {
      const inside = [];
      await walk(entry, inside);
      out.push(...inside.map((f) => ({ ...f, folder: true })));
    } else if (file) {
      out.push({ file, path: '', folder: false });
    }
  }
  return out;
}

function summary(chosen, directory) {
  const total = chosen.reduce((n, c) => n + c.file.size, 0);
  if (chosen.length === 1 && !directory) return `${chosen[0].file.name} · ${size(total)}`;
  const roots = [...new Set(chosen.map((c) => (c.path ? c.path.split('/')[0] : c.file.name)))];
  const what = `${chosen.length} file${chosen.length === 1 ? '' : 's'} · ${size(total)}`;
  if (directory && roots.length === 1) return `${roots[0]}/ · ${what}`;
  const names = chosen.slice(0, 3).map((c) => c.path || c.file.name);
  return `${what}: ${names.join(', ')}${chosen.length > 3 ? ', …' : ''}`;
}

/** output: {handle, label, accept, multiple, directory}; context.send(payload) replies. */
export function renderFilePicker(output, { send } = {}) {
  const { label = 'Choose a file', accept, multiple = false, directory = false } = output;
  const input = h('input', { type: 'file', class: 'filepicker-input', accept: accept || undefined, multiple: multiple || undefined, tabindex: '-1', 'aria-hidden': 'true' });
  if (directory) input.webkitdirectory = true;
  const button = h('button', { type: 'button', class: 'filepicker-button', text: label, onclick: () => input.click() });
  const what = directory ? 'a folder' : multiple ? 'files' : 'a file';
  const hint = h('span', { class: 'filepicker-hint', text: `or drop ${what} here${accept ? ` (${accept})` : ''}` });
  const status = h('span', { class: 'filepicker-status', role: 'status', 'aria-live': 'polite' });
  const zone = h('div', { class: 'filepicker-zone' }, button, hint, status);
  const element = h('div', { class: 'out-filepicker', 'data-state': 'waiting', role: 'group', 'aria-label': label }, zone, input);

  const armed = () => element.dataset.state === 'waiting';
  const setState = (state, text) => {
    element.dataset.state = state;
    status.textContent = text;
    if (state !== 'waiting') {
      button.disabled = true;
      input.disabled = true;
      element.classList.remove('is-over');
    }
  };

  function choose(chosen) {
    if (!armed() || chosen.length === 0) return;
    if (!send) return setState('stopped', 'cannot reply: this output is not connected to a kernel');
    send({ files: chosen.map(({ file, path }) => ({ file, path })) });
    setState('chosen', summary(chosen, directory));
  }

  input.addEventListener('change', () => {
    const files = [...(input.files ?? [])];
    // An empty change is a cancelled dialog in some browsers: stay armed.
    if (files.length === 0) return;
    choose(files.map((file) => ({ file, path: file.webkitRelativePath || '' })));
  });

  let depth = 0;
  zone.addEventListener('dragenter', (e) => {
    if (!armed()) return;
    e.preventDefault();
    depth += 1;
    element.classList.add('is-over');
  });
  zone.addEventListener('dragover', (e) => {
    if (!armed()) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  });
  zone.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) element.classList.remove('is-over');
  });
  zone.addEventListener('drop', async (e) => {
    if (!armed()) return;
    e.preventDefault();
    depth = 0;
    element.classList.remove('is-over');
    let dropped;
    try {
      dropped = await droppedFiles(e.dataTransfer);
    } catch (error) {
      status.textContent = `could not read the drop: ${error?.message ?? error}`;
      return;
    }
    if (!armed()) return;
    const folders = dropped.some((d) => d.folder);
    if (directory) {
      if (!folders) return void (status.textContent = 'drop a folder here (or choose one with the button)');
      return choose(dropped.filter((d) => d.folder));
    }
    const files = dropped.filter((d) => !d.folder || multiple).filter((d) => accepts(accept, d.file));
    if (files.length === 0) return void (status.textContent = accept ? `nothing dropped matches ${accept}` : 'nothing to use in that drop');
    if (!multiple && files.length > 1) return void (status.textContent = 'drop a single file');
    choose(files);
  });

  // The cell stopped (interrupted, failed, kernel restarted) with the picker still armed.
  function finish(status) {
    if (armed() && status !== 'ok') setState('stopped', status === 'interrupted' ? 'interrupted' : 'stopped');
  }

  function update(u) {
    if (u?.state === 'interrupted' && armed()) setState('stopped', 'interrupted');
  }

  return { element, update, finish };
}
