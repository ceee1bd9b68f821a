import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Clients, withServer } from '../../src/clients';

describe('MCP client configurations', () => {
  it('adds the jupyter server and keeps the file\'s other servers and keys', () => {
    const before = JSON.stringify({ theme: 'x', mcpServers: { other: { command: 'o' }, jupyter: { command: 'old', env: { TOKEN: 'secret' } } } });
    const after = JSON.parse(withServer(before));
    assert.equal(after.theme, 'x');
    assert.deepEqual(after.mcpServers.other, { command: 'o' });
    assert.deepEqual(after.mcpServers.jupyter, { command: 'mcp-jupyter', args: ['mcp'] });
  });
  it('writes a new file when there is none, and never a token or an absolute path', () => {
    const text = withServer(undefined);
    assert.deepEqual(JSON.parse(text), { mcpServers: { jupyter: { command: 'mcp-jupyter', args: ['mcp'] } } });
    assert.doesNotMatch(text, /token|\//i);
  });
  it('refuses a file that is not a JSON object rather than overwrite it', () => {
    assert.throws(() => withServer('[1, 2]'), /not a JSON object/);
    assert.throws(() => withServer('{ not json'));
    assert.throws(() => withServer('{"mcpServers": [1]}'), /mcpServers/);
  });
  it('every client has a command or a project file, and commands run mcp-jupyter mcp', () => {
    for (const c of Clients) {
      assert.ok(c.command || c.projectFile, c.label);
      if (c.command) assert.match(c.command, /mcp-jupyter mcp$/, c.label);
    }
  });
});
