// A Markdown (prose) cell the reader can edit: shown rendered; double-click, or Enter
// in command mode, opens its text in an editor; Shift+Enter (or Escape) shows it again.

import { h } from '../render/dom.js';
import { markdownToFragment } from '../render/markdown.js';
import { createEditor } from './editor.js';

export class ProseCell {
  /** options: {source, original, onEdit(cell, source), onEscape(cell), onRendered(cell, {advance})} */
  constructor({ source, original, onEdit, onEscape, onRendered }) {
    this.type = 'markdown';
    this.text = source;
    this.original = original;
    this.onEdit = onEdit;
    this.onEscape = onEscape;
    this.onRendered = onRendered;
    this.editor = null;
    this.rendered = h('div', { class: 'md-rendered prose' });
    this.editorHost = h('div', { class: 'cell-editor md-editor', hidden: true });
    this.element = h('div', { class: 'cell md-cell', 'aria-label': 'Text cell', title: 'Double-click to edit' }, this.rendered, this.editorHost);
    this.element.addEventListener('dblclick', () => this.edit());
    this.render();
  }

  get source() {
    return this.editor ? this.editor.value : this.text;
  }

  get editing() {
    return !!this.editor;
  }

  render() {
    this.rendered.replaceChildren(markdownToFragment(this.text.trim() ? this.text : '*Empty text cell: double-click to write Markdown.*'));
    this.element.classList.toggle('is-empty', !this.text.trim());
  }

  edit() {
    if (!this.editor) {
      this.editorHost.hidden = false;
      this.rendered.hidden = true;
      this.element.classList.add('is-editing');
      this.editor = createEditor({
        parent: this.editorHost,
        doc: this.text,
        label: 'Markdown text',
        prose: true,
        onRun: ({ advance }) => this.finish({ advance }),
        onEscape: () => (this.finish({ advance: false, quiet: true }), this.onEscape?.(this)),
        onChange: (text) => this.onEdit?.(this, text),
      });
    }
    this.editor.focus();
  }

  /** Leaves the editor and shows the Markdown rendered. */
  finish({ advance = false, quiet = false } = {}) {
    if (!this.editor) return;
    this.text = this.editor.value;
    this.editor.destroy();
    this.editor = null;
    this.editorHost.replaceChildren();
    this.editorHost.hidden = true;
    this.rendered.hidden = false;
    this.element.classList.remove('is-editing');
    this.render();
    if (!quiet) this.onRendered?.(this, { advance });
  }

  focus() {
    this.edit();
  }
}
