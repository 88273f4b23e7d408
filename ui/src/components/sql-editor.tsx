import { useEffect, useRef } from 'react';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { sql } from '@codemirror/lang-sql';
import { bracketMatching, defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap, lineNumbers } from '@codemirror/view';

/**
 * CodeMirror 6 with SQL highlighting and completion of the schema's table names;
 * Ctrl-Enter (Cmd-Enter) runs. Loaded on demand with the SQL page.
 */
export default function SqlEditor({ value, onChange, onRun, tables }: { value: string; onChange: (v: string) => void; onRun: () => void; tables: Record<string, string[]> }) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const callbacks = useRef({ onChange, onRun });
  useEffect(() => {
    callbacks.current = { onChange, onRun };
  });
  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          lineNumbers(), history(), bracketMatching(), syntaxHighlighting(defaultHighlightStyle),
          sql({ schema: tables, upperCaseKeywords: true }),
          keymap.of([{ key: 'Mod-Enter', run: () => (callbacks.current.onRun(), true) }, ...defaultKeymap, ...historyKeymap]),
          EditorView.updateListener.of((u) => u.docChanged && callbacks.current.onChange(u.state.doc.toString())),
          EditorView.contentAttributes.of({ 'aria-label': 'SQL' }),
        ],
      }),
    });
    view.current = v;
    return () => v.destroy();
    // The editor is made once per schema; later `value` changes come from the editor itself.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tables]);
  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
  }, [value]);
  return <div className="sql-editor" ref={host} />;
}
