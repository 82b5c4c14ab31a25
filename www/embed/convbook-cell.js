// <convbook-cell>: a runnable cell for any page, from one script tag:
//
//   <script type="module" src="https://…/embed/convbook-cell.js"></script>
//   <convbook-cell>
//     const x = tensor([[1, 2], [3, 4]]);
//     x.matmul(x)
//   </convbook-cell>
//
// Code containing "<" or "&" is safer inside <script type="text/convbook"> (or a
// <template>) within the element. Cells on a page share one kernel, so a later cell can
// use what an earlier one defined; `kernel="name"` gives a group of cells a kernel of
// their own. Attributes: `autorun` (run once loaded), `backend` ("auto" | "webgpu" |
// "cpu", read from the first cell of each kernel), `kernel`, `readonly` (runnable, not
// editable). Styling hooks: the parts `cell`, `run`, `editor`, `outputs`, `foot` (for
// `convbook-cell::part(editor)`), and the custom properties --convbook-font,
// --convbook-accent and --convbook-editor-max-height. The README documents all of them.

import renderCss from '../render/render.css?inline';
import cellCss from '../notebook/cell.css?inline';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import embedCss from './embed.css?inline';
import { Kernel } from '../kernel/client.js';
import { Scheduler } from '../notebook/scheduler.js';
import { CodeCell } from '../notebook/cell.js';
import { describeBackend } from '../notebook/badge.js';

const kernels = new Map();
let count = 0;

/** The {kernel, scheduler} named `name` (one per page unless cells name their own). */
function session(name, backend) {
  if (!kernels.has(name)) {
    const kernel = new Kernel({ backend: backend ?? 'auto' });
    kernels.set(name, { kernel, scheduler: new Scheduler(kernel) });
  }
  return kernels.get(name);
}

// Cell code is usually indented to match the surrounding HTML.
export function dedent(text) {
  const lines = text.replace(/^\s*\n/, '').replace(/\s+$/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^\s*/.exec(l)[0].length));
  return lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join('\n');
}

class ConvbookCell extends HTMLElement {
  connectedCallback() {
    if (this.cell) return;
    const holder = this.querySelector('script[type="text/convbook"], template');
    const source = dedent(holder ? (holder.content?.textContent ?? holder.textContent) : this.textContent);
    this.session = session(this.getAttribute('kernel') || 'page', this.getAttribute('backend'));
    const { kernel, scheduler } = this.session;
    const number = ++count;
    const root = this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = [uplotCss, cellCss, renderCss, embedCss].join('\n');
    this.cell = new CodeCell({
      number,
      source,
      original: source,
      onRun: (cell) => scheduler.enqueue([cell]),
      readOnly: this.hasAttribute('readonly'),
    });
    const parts = { cell: this.cell.element, run: this.cell.runButton, editor: this.cell.element.querySelector('.cell-editor'), outputs: this.cell.outputs.element };
    for (const [name, el] of Object.entries(parts)) el.setAttribute('part', name);
    const status = document.createElement('span');
    status.className = 'embed-backend';
    const stop = Object.assign(document.createElement('button'), { type: 'button', className: 'embed-stop', textContent: '■ Stop', disabled: true });
    stop.setAttribute('aria-label', `Interrupt cell ${number}`);
    stop.addEventListener('click', () => scheduler.interrupt());
    const foot = document.createElement('div');
    foot.className = 'embed-foot';
    foot.setAttribute('part', 'foot');
    foot.append(status, stop);
    root.append(style, this.cell.element, foot);
    // The editor was created before it was placed in the shadow root; CodeMirror must
    // mount its styles there, not in the document.
    this.cell.editor.view.setRoot(root);

    const showBackend = () => {
      const { kind, text, detail } = describeBackend(kernel.backend);
      status.dataset.kind = kernel.state === 'dead' ? 'none' : kind;
      status.textContent = kernel.state === 'dead' ? `kernel failed: ${kernel.failure}` : kernel.backend ? `${text}${kind === 'cpu' ? ` (${detail})` : ''}` : 'engine loads on first run';
    };
    kernel.addEventListener('status', showBackend);
    scheduler.addEventListener('change', () => (stop.disabled = !(scheduler.running === this.cell)));
    showBackend();
    if (this.hasAttribute('autorun')) scheduler.enqueue([this.cell]);
  }

  /** Runs the cell; resolves when it has finished. */
  run() {
    const { scheduler } = this.session;
    scheduler.enqueue([this.cell]);
    return new Promise((resolve) => {
      const check = () => {
        if (this.cell.state !== 'queued' && this.cell.state !== 'running') {
          scheduler.removeEventListener('change', check);
          resolve(this.cell.state);
        }
      };
      scheduler.addEventListener('change', check);
    });
  }
}

if (!customElements.get('convbook-cell')) customElements.define('convbook-cell', ConvbookCell);
