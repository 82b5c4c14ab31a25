// The code editor of a cell: CodeMirror 6 with JavaScript highlighting and the
// notebook's run keys. Tab is left alone (no indent-with-tab) so keyboard users can move
// focus out of the editor; indentation comes with Enter and brackets.

import { EditorView } from 'codemirror';
import { EditorState, Prec } from '@codemirror/state';
import { keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection, placeholder } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { closeBrackets, closeBracketsKeymap } from '@codemirror/autocomplete';
import { javascript } from '@codemirror/lang-javascript';

/**
 * options: {parent, doc, label, onChange(text), onRun({advance})}. onRun fires on
 * Shift+Enter (advance: true) and Ctrl/Cmd+Enter (advance: false).
 */
export function createEditor({ parent, doc, label, onChange, onRun }) {
  const runKeys = Prec.highest(
    keymap.of([
      { key: 'Shift-Enter', run: () => (onRun({ advance: true }), true) },
      { key: 'Mod-Enter', run: () => (onRun({ advance: false }), true) },
    ]),
  );
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        runKeys,
        lineNumbers(),
        highlightActiveLineGutter(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        highlightActiveLine(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        javascript(),
        EditorView.lineWrapping,
        placeholder('// JavaScript: Shift+Enter runs'),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap]),
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
  };
}
