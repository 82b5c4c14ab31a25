// The notebook toolbar: Run all, Run all above, Restart & run all, Interrupt, Restart,
// Clear outputs, Export, Import, plus the kernel's
// state and the save status. Interrupt is cooperative; when a cell ignores it (a loop
// that never awaits), the toolbar offers a restart after a few seconds.

import { h } from '../render/dom.js';

const KERNEL_TEXT = { stopped: 'kernel stopped', starting: 'kernel starting…', idle: 'kernel idle', busy: 'kernel busy', dead: 'kernel failed' };
const STUCK_AFTER_MS = 3000;

/**
 * actions: {runAll, runAbove, restartRunAll, clearOutputs, exportNotebook, importNotebook}. Each notebook has its own kernel;
 * `bind({kernel, scheduler})` points the toolbar at the open one.
 */
export function createToolbar(host, { actions }) {
  let kernel = null;
  let scheduler = null;
  const button = (text, label, onclick, extra = {}) => h('button', { type: 'button', class: 'tb-button', 'aria-label': label, onclick, ...extra }, text);
  const runAll = button('▶▶ Run all', 'Run all cells', () => actions.runAll(), { 'data-action': 'run-all' });
  const runAbove = button('▲ Run above', 'Run all cells above the selected cell', () => actions.runAbove(), { 'data-action': 'run-above' });
  const restartRunAll = button('↻▶ Restart & run all', 'Restart the kernel, then run all cells', () => onRestart(actions.restartRunAll), { 'data-action': 'restart-run-all' });
  const clearOutputs = button('⌫ Clear outputs', 'Clear the outputs of all cells', () => actions.clearOutputs(), { 'data-action': 'clear-outputs' });
  const interrupt = button('■ Interrupt', 'Interrupt the running cell', () => onInterrupt(), { 'data-action': 'interrupt', disabled: true });
  const restart = button('↻ Restart', 'Restart the kernel (clears all variables)', () => onRestart(), { 'data-action': 'restart' });
  const exportButton = button('↓ Export', 'Export this notebook, outputs included, as a Markdown file', () => actions.exportNotebook('md'), { 'data-action': 'export' });
  const exportIpynb = button('↓ .ipynb', 'Export this notebook as a Jupyter notebook (.ipynb)', () => actions.exportNotebook('ipynb'), { 'data-action': 'export-ipynb' });
  const importButton = button('↑ Import', 'Import notebook files (Markdown or .ipynb; each is added to Your notebooks)', () => actions.importNotebook(), { 'data-action': 'import' });
  const kernelState = h('span', { class: 'kernel-state', role: 'status', 'aria-live': 'polite' });
  const saveState = h('span', { class: 'save-state', role: 'status', 'aria-live': 'polite' });
  const notice = h('div', { class: 'tb-notice', role: 'alert', hidden: true });

  host.replaceChildren(
    h('div', { class: 'tb-group', role: 'group', 'aria-label': 'Run' }, runAll, runAbove, restartRunAll, interrupt, restart, clearOutputs),
    h('div', { class: 'tb-group', role: 'group', 'aria-label': 'File' }, exportButton, exportIpynb, importButton),
    h('div', { class: 'tb-status' }, kernelState, saveState),
    notice,
  );

  let stuckTimer = null;
  function onInterrupt() {
    const cell = scheduler.running;
    scheduler.interrupt();
    clearTimeout(stuckTimer);
    stuckTimer = setTimeout(() => {
      if (cell && scheduler.running === cell) {
        notice.replaceChildren(
          h('span', { text: 'The cell is not stopping: it never pauses at an await, so it cannot see the interrupt. ' }),
          button('Restart the kernel', 'Restart the kernel to stop the cell', () => onRestart(), { class: 'tb-button danger' }),
        );
        notice.hidden = false;
      }
    }, STUCK_AFTER_MS);
  }

  /** Restarts the kernel; `then()` runs once the cell that was running has let go. */
  async function onRestart(then = null) {
    clearTimeout(stuckTimer);
    notice.hidden = true;
    scheduler.cancel();
    kernel.restart();
    if (!then) return;
    await scheduler.settled();
    then();
  }

  const refresh = () => {
    kernelState.textContent = KERNEL_TEXT[kernel.state] ?? kernel.state;
    kernelState.dataset.state = kernel.state;
    interrupt.disabled = !scheduler.busy;
    if (!scheduler.busy) {
      clearTimeout(stuckTimer);
      notice.hidden = true;
    }
  };
  return {
    bind(session) {
      kernel?.removeEventListener('status', refresh);
      scheduler?.removeEventListener('change', refresh);
      ({ kernel, scheduler } = session);
      kernel.addEventListener('status', refresh);
      scheduler.addEventListener('change', refresh);
      clearTimeout(stuckTimer);
      notice.hidden = true;
      refresh();
    },
    setSaved(ok) {
      saveState.textContent = ok ? 'edits saved' : 'edits NOT saved: browser storage is unavailable';
      saveState.dataset.ok = String(ok);
    },
    say(text) {
      saveState.textContent = text;
    },
  };
}
