// Where the person is in a notebook editor, for the agent's get_editor_state:
// read only from VS Code's editor state, so asking never moves the view.

import * as vscode from 'vscode';
import { findNotebook } from './notebooks';
import type { CellRange, EditorState, EditorStateParams } from './protocol.gen';
import { cellIdOf } from './snapshot';

/** The longest selected text handed to the agent. */
const MaxSelectedText = 4000;

function ranges(rs: readonly vscode.NotebookRange[]): CellRange[] {
  return rs.map((r) => ({ start: r.start, end: r.end }));
}

/** The state of the notebook's editor (or of the active notebook editor when no path is given). */
export function editorState(p: EditorStateParams): EditorState {
  const active = vscode.window.activeNotebookEditor;
  let editor: vscode.NotebookEditor | undefined;
  if (p.notebookPath) {
    const doc = findNotebook(p.notebookPath);
    editor = doc && (active?.notebook === doc ? active : vscode.window.visibleNotebookEditors.find((e) => e.notebook === doc));
  } else {
    editor = active;
  }
  const none: EditorState = { notebookPath: '', active: false, visible: false, selections: [], visibleRanges: [] };
  if (!editor) return none;
  const nb = editor.notebook;
  const state: EditorState = {
    notebookPath: nb.uri.fsPath,
    active: editor === active,
    visible: vscode.window.visibleNotebookEditors.includes(editor),
    selections: ranges(editor.selections),
    visibleRanges: ranges(editor.visibleRanges),
  };
  const primary = editor.selection;
  if (nb.cellCount > 0 && primary.start < nb.cellCount) {
    const cell = nb.cellAt(primary.start);
    state.activeCell = { id: cellIdOf(cell.metadata), index: cell.index };
  }
  // The text editor of one of this notebook's cells, when it holds a non-empty selection.
  const text = vscode.window.activeTextEditor;
  const cell = text && nb.getCells().find((c) => c.document === text.document);
  if (text && cell && !text.selection.isEmpty) {
    const s = text.selection;
    state.textSelection = {
      cellId: cellIdOf(cell.metadata),
      startLine: s.start.line,
      startCharacter: s.start.character,
      endLine: s.end.line,
      endCharacter: s.end.character,
      text: text.document.getText(s).slice(0, MaxSelectedText),
    };
  }
  return state;
}
