// Asking the user for files from cell code. A worker cannot open a file dialog, so
// `pickFiles` emits a `filePicker` output (a button and a drop zone, drawn by
// render/file-picker.js) and waits for the page to reply with what was chosen:
//
//   page -> worker  {type: 'reply', handle, payload: {files: [{file, path}]}}
//
// `file` is the File itself (Files are structured-cloneable: nothing is copied, the
// worker reads them lazily); `path` is its path inside a chosen or dropped folder ('' for
// a plain file). The wait ends early, with InterruptedError, on an interrupt.
//
// Folder picks and folder drops give the same result: each File's `webkitRelativePath`
// holds its path inside the folder, starting with the folder's name
// ("shoes/boots/001.jpg"). Browsers leave that property empty on dropped files and it
// is read-only, so the kernel sets it as an own property of the File; the dataset
// loaders (src/wasm/data.rs) read it from there.

import { emitOutput, emitUpdate } from './outbox.js';
import { InterruptedError, onInterrupt, throwIfInterrupted } from './interrupt.js';

let nextHandle = 1;
// handle -> {settle(payload), multiple}
const waiting = new Map();

/**
 * Shows a file picker in the cell's output and resolves to the chosen `File`, or to an
 * array of `File`s when `multiple` or `directory` is set. Cancelling the dialog leaves
 * the picker waiting; an interrupt rejects with InterruptedError.
 *
 * opts: {label = 'Choose a file', accept ('.zip,image/*', as on <input type=file>),
 * multiple = false, directory = false (pick or drop a whole folder)}
 */
export function pickFiles(opts = {}) {
  const { label = 'Choose a file', accept, multiple = false, directory = false } = typeof opts === 'string' ? { label: opts } : opts;
  throwIfInterrupted();
  const handle = `file${nextHandle++}`;
  const many = !!(multiple || directory);
  emitOutput({ kind: 'filePicker', handle, label: String(label), accept: accept == null ? undefined : String(accept), multiple: many, directory: !!directory });
  return new Promise((resolve, reject) => {
    const stopListening = onInterrupt(() => {
      waiting.delete(handle);
      stopListening();
      emitUpdate(handle, { state: 'interrupted' });
      reject(new InterruptedError());
    });
    waiting.set(handle, {
      settle(files) {
        waiting.delete(handle);
        stopListening();
        resolve(many ? files : files[0]);
      },
    });
  });
}

/** A reply from the page to a widget; false when no picker waits on `handle`. */
export function receiveReply(handle, payload) {
  const wait = waiting.get(handle);
  const list = payload?.files;
  if (!wait || !Array.isArray(list) || list.length === 0) return false;
  const files = [];
  for (const item of list) {
    const file = item instanceof File ? item : item?.file;
    if (!(file instanceof File)) continue;
    const path = typeof item?.path === 'string' ? item.path : '';
    if (path && file.webkitRelativePath !== path) {
      Object.defineProperty(file, 'webkitRelativePath', { value: path, enumerable: true, configurable: true });
    }
    files.push(file);
  }
  if (files.length === 0) return false;
  wait.settle(files);
  return true;
}
