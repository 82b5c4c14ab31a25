// One code cell: gutter (run button, execution count), editor, tools, outputs. Its
// state (idle, queued, running, done, error) is a data attribute the stylesheet draws
// and a text label screen readers get.

import { h } from '../render/dom.js';
import { createEditor } from './editor.js';
import { OutputArea } from './outputs.js';
import { applyParameters, currentOverrides } from './parameters.js';

const STATE_TEXT = { idle: '', queued: 'queued', running: 'running…', done: 'done', error: 'error' };

export class CodeCell {
  /**
   * options: {number (1-based among code cells), source, original, onRun(cell,
   * {advance}), onEdit(cell, source), onEscape(cell), onFinished(cell), complete (a
   * completion source), parameters (the chapter's parameters cell), readOnly}
   */
  constructor({ number, source, original, onRun, onEdit, onEscape, onFinished, complete = null, parameters = false, readOnly = false }) {
    this.onFinished = onFinished;
    this.number = number;
    this.parameters = parameters;
    this.original = original;
    this.exec = null;
    this.runButton = h('button', { class: 'cell-run', type: 'button', 'aria-label': `Run cell ${number}`, title: 'Run (Ctrl+Enter; Shift+Enter runs and moves on)', onclick: () => onRun(this, { advance: false }) }, '▶');
    this.countLabel = h('span', { class: 'cell-count', 'aria-label': 'not run yet', text: '[ ]' });
    this.stateLabel = h('span', { class: 'cell-state', role: 'status', 'aria-live': 'polite' });
    this.resetButton = h('button', { class: 'cell-reset', type: 'button', title: 'Put back the code the chapter came with', onclick: () => this.reset() }, 'Reset');
    this.editedLabel = h('span', { class: 'cell-edited', text: 'edited' });
    const editorHost = h('div', { class: 'cell-editor' });
    const outputHost = h('div', { class: 'cell-outputs', 'aria-label': `Output of cell ${number}`, role: 'region' });
    this.element = h(
      'section',
      { class: 'cell code-cell', 'data-state': 'idle', 'aria-label': `Code cell ${number}`, id: `cell-${number}` },
      h('div', { class: 'cell-gutter' }, this.runButton, this.countLabel),
      h('div', { class: 'cell-main' }, editorHost, h('div', { class: 'cell-tools' }, parameters ? h('span', { class: 'cell-parameters-tag', title: 'The chapter\'s training sizes: change them here, or override them with ?parameters={...} in the URL', text: 'parameters' }) : null, this.stateLabel, this.editedLabel, this.resetButton), outputHost),
    );
    if (parameters) this.element.classList.add('parameters-cell');
    this.outputs = new OutputArea(outputHost, { send: (handle, payload) => this.kernel?.reply(handle, payload) });
    this.editor = createEditor({
      parent: editorHost,
      doc: source,
      label: `Code of cell ${number}`,
      onRun: (opts) => onRun(this, opts),
      onEscape: onEscape && (() => onEscape(this)),
      complete,
      readOnly,
      onChange: (text) => {
        this.markEdited();
        onEdit?.(this, text);
      },
    });
    this.markEdited();
    this.setState('idle');
  }

  /** Cells move, so their numbers (id, labels) follow their place among code cells. */
  renumber(number) {
    if (number === this.number) return;
    this.number = number;
    this.element.id = `cell-${number}`;
    this.element.setAttribute('aria-label', `Code cell ${number}`);
    this.runButton.setAttribute('aria-label', `Run cell ${number}`);
    this.element.querySelector('.cell-outputs').setAttribute('aria-label', `Output of cell ${number}`);
    this.editor.setLabel(`Code of cell ${number}`);
  }

  get source() {
    return this.editor.value;
  }

  set source(text) {
    this.editor.value = text;
  }

  markEdited() {
    const edited = this.source !== this.original;
    this.element.classList.toggle('is-edited', edited);
    this.resetButton.disabled = !edited;
  }

  reset() {
    this.source = this.original;
    this.editor.focus();
  }

  setState(state) {
    // A queued cell that never ran (cancelled by an error or Interrupt) gets its count back.
    if (state === 'idle' && this.state === 'queued') this.setCount(this.count);
    this.state = state;
    this.element.dataset.state = state;
    this.stateLabel.textContent = STATE_TEXT[state] ?? state;
    if (state === 'queued' || state === 'running') this.setCount('*');
  }

  setCount(count) {
    if (count !== '*') this.count = count;
    this.countLabel.textContent = `[${count ?? ' '}]`;
    this.countLabel.setAttribute('aria-label', count === '*' ? 'waiting to run' : count ? `execution ${count}` : 'not run yet');
  }

  focus() {
    this.editor.focus();
    this.element.scrollIntoView({ block: 'nearest' });
  }

  /** What the notebook saves of a run: the code it ran, its count, state and outputs; null if never run. */
  persisted() {
    if (this.state !== 'done' && this.state !== 'error') return null;
    return { source: this.source, count: this.count ?? null, state: this.state, ...this.outputs.persisted() };
  }

  /** Shows a saved run again (only when the code is still the code that ran). */
  restore(saved) {
    if (!saved || saved.source !== this.source) return false;
    this.outputs.restore(saved);
    this.setCount(saved.count);
    this.setState(saved.state === 'error' ? 'error' : 'done');
    return true;
  }

  /** Clear outputs: back to a cell that never ran (a running or queued cell keeps its own). */
  clearOutputs() {
    if (this.state === 'running' || this.state === 'queued') return;
    this.outputs.clear();
    this.setCount(null);
    this.setState('idle');
    this.onFinished?.(this);
  }

  /** The source, with parameter overrides applied (and reported) in a parameters cell. */
  sourceToRun() {
    const values = currentOverrides();
    if (!this.parameters || Object.keys(values).length === 0) return this.source;
    const { source, applied, unknown } = applyParameters(this.source, values);
    const lines = applied.map((a) => `- \`${a.name}\` = \`${a.value}\` (the chapter has \`${a.chapter}\`)`);
    if (unknown.length) lines.push(`- not declared in this cell, ignored: ${unknown.map((n) => `\`${n}\``).join(', ')}`);
    if (lines.length) this.outputs.add({ kind: 'markdown', text: `**Parameters overridden**\n\n${lines.join('\n')}` });
    return source;
  }

  /** Runs this cell on `kernel`; resolves to the status. */
  async execute(kernel) {
    if (this.exec) kernel.forget(this.exec);
    this.outputs.clear();
    this.kernel = kernel;
    this.count = null;
    this.setState('running');
    const { exec, result } = kernel.execute(this.sourceToRun(), {
      onStart: (count) => (this.outputs.count = count),
      onOutput: (output) => this.outputs.add(output),
      onUpdate: (handle, update) => this.outputs.update(handle, update),
    });
    this.exec = exec;
    const { status, count, reason } = await result;
    if (reason && status === 'error') this.outputs.add({ kind: 'error', name: 'KernelError', message: reason });
    this.outputs.finish(status);
    this.setCount(count);
    this.setState(status === 'ok' ? 'done' : status === 'restarted' ? 'idle' : 'error');
    if (status === 'interrupted') this.stateLabel.textContent = 'interrupted';
    this.onFinished?.(this);
    return status;
  }
}
