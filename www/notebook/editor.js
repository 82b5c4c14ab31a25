// The editor of a cell: CodeMirror 6 with the notebook's keys. Tab indents, as in
// Jupyter and Colab; Escape leaves the editor for command mode (the cell itself takes
// focus), so Escape then Tab moves on for keyboard users.

import { EditorView } from 'codemirror';
import { EditorState, Prec } from '@codemirror/state';
import { keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection, placeholder } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching, defaultHighlightStyle, HighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { tags } from '@lezer/highlight';
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { javascript } from '@codemirror/lang-javascript';

// Colours come from CSS variables (theme.css), so one style serves light and dark.
const themedHighlight = HighlightStyle.define([
  { tag: [tags.keyword, tags.operatorKeyword, tags.controlKeyword, tags.definitionKeyword, tags.moduleKeyword], color: 'var(--cm-keyword)' },
  { tag: [tags.string, tags.special(tags.string), tags.regexp], color: 'var(--cm-string)' },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], color: 'var(--cm-number)' },
  { tag: [tags.comment, tags.lineComment, tags.blockComment], color: 'var(--cm-comment)', fontStyle: 'italic' },
  { tag: [tags.definition(tags.variableName), tags.function(tags.definition(tags.variableName)), tags.definition(tags.className)], color: 'var(--cm-def)' },
  { tag: [tags.propertyName, tags.function(tags.propertyName)], color: 'var(--cm-prop)' },
]);

/**
 * options: {parent, doc, label, onChange(text), onRun({advance}), onEscape(), complete,
 * prose}. onRun fires on Shift+Enter (advance: true) and Ctrl/Cmd+Enter (advance: false);
 * `complete` is a CodeMirror completion source; `prose` drops the JavaScript language
 * (a Markdown cell's text); `readOnly` shows the code without letting it be changed.
 */
export function createEditor({ parent, doc, label, onChange, onRun, onEscape, complete = null, prose = false, readOnly = false }) {
  const runKeys = Prec.highest(
    keymap.of([
      { key: 'Shift-Enter', run: () => (onRun({ advance: true }), true) },
      { key: 'Mod-Enter', run: () => (onRun({ advance: false }), true) },
    ]),
  );
  // Below the completion keymap: Escape first closes an open completion list.
  const escapeKey = keymap.of([{ key: 'Escape', run: () => (onEscape?.(), !!onEscape) }]);
  const language = prose
    ? [placeholder('Markdown: Shift+Enter shows it')]
    : [javascript(), lineNumbers(), highlightActiveLineGutter(), placeholder('// JavaScript: Shift+Enter runs')];
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        runKeys,
        ...language,
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        highlightActiveLine(),
        syntaxHighlighting(themedHighlight),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        complete ? autocompletion({ override: [complete] }) : [],
        EditorView.lineWrapping,
        readOnly ? [EditorState.readOnly.of(true), EditorView.contentAttributes.of({ 'aria-readonly': 'true' })] : [],
        keymap.of([...closeBracketsKeymap, ...completionKeymap, indentWithTab, ...defaultKeymap, ...historyKeymap]),
        escapeKey,
        EditorView.contentAttributes.of({ 'aria-label': label }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChange?.(u.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    view,
    get value() {
      return view.state.doc.toString();
    },
    set value(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    focus: () => view.focus(),
    setLabel: (text) => view.contentDOM.setAttribute('aria-label', text),
    destroy: () => view.destroy(),
  };
}
