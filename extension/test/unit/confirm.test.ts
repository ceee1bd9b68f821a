import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { confirmationFor } from '../../src/tools/confirm';

describe('confirmationFor', () => {
  it('shows the buffer code a run will execute', () => {
    const c = confirmationFor('run_cell', { notebook_path: '/w/a.ipynb', cell_id: 'c1' }, { notebookName: 'a.ipynb', cellSource: 'print(42)', cellIndex: 2 });
    assert.equal(c.confirm?.title, 'Run cell 3 of a.ipynb?');
    assert.match(c.confirm!.markdown, /```python\nprint\(42\)\n```/);
  });

  it('prefers code_override over the cell source', () => {
    const c = confirmationFor('run_cell_async', { code_override: 'import os' }, { cellSource: 'print(1)' });
    assert.match(c.confirm!.markdown, /import os/);
    assert.doesNotMatch(c.confirm!.markdown, /print\(1\)/);
  });

  it('shows the old and the new source of an edit, fenced safely', () => {
    const c = confirmationFor('propose_edit', { new_content: 'x = """```"""' }, { cellSource: 'x = 1', cellIndex: 0 });
    assert.match(c.confirm!.markdown, /Now:\n\n```python\nx = 1\n```/);
    assert.match(c.confirm!.markdown, /````python\nx = """```"""\n````/);
  });

  it('asks nothing for read-only tools', () => {
    assert.equal(confirmationFor('get_notebook_outline', {}, {}).confirm, undefined);
  });

  it('shows the arguments of tools it has no special text for', () => {
    const c = confirmationFor('save_checkpoint', { notebook_path: 'a.ipynb', name: 'before' }, {});
    assert.match(c.confirm!.markdown, /"name": "before"/);
  });
});
