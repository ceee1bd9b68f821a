// The official TypeScript MCP SDK client against the built mcp-jupyter binary
// (headless, stdio): tool listing with annotations, a notebook round trip, a
// bad call answered with isError, and — when the test venv exists — a real
// kernel running a cell.
//
// Run: MCP_JUPYTER_BIN=bin/mcp-jupyter node --test tests/mcp/typescript_client.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, readFileSync, existsSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = process.env.MCP_JUPYTER_BIN || join(repo, "bin", "mcp-jupyter");
const venv = process.env.MCP_JUPYTER_TEST_VENV || join(repo, ".venv");

const notebook = JSON.stringify({
  cells: [
    { cell_type: "markdown", id: "intro", metadata: {}, source: ["# TypeScript client"] },
    { cell_type: "code", execution_count: null, id: "calc", metadata: {}, outputs: [], source: ["6 * 7"] },
  ],
  metadata: { language_info: { name: "python" } },
  nbformat: 4,
  nbformat_minor: 5,
}, null, 1) + "\n";

async function connect() {
  const ws = realpathSync(mkdtempSync(join(tmpdir(), "mcp-ts-")));
  writeFileSync(join(ws, "nb.ipynb"), notebook);
  const transport = new StdioClientTransport({
    command: bin,
    args: ["mcp", "--standalone", "--workspace", ws],
    env: { ...process.env, XDG_RUNTIME_DIR: ws },
    stderr: "pipe",
  });
  const client = new Client({ name: "ts-test", version: "1.0.0" });
  await client.connect(transport);
  return { client, ws };
}

test("binary exists", () => {
  assert.ok(existsSync(bin), `build the sidecar first (make sidecar): ${bin}`);
});

test("lists tools with annotations and schemas", async () => {
  const { client } = await connect();
  try {
    const { tools } = await client.listTools();
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    for (const name of ["start_kernel", "run_cell_async", "get_execution_stream", "get_notebook_outline", "delete_cell"]) {
      assert.ok(byName[name], `${name} listed`);
      // run_cell_async runs arbitrary code: open world; the others are not.
      assert.equal(byName[name].annotations.openWorldHint, name === "run_cell_async");
      assert.ok(byName[name].inputSchema, `${name} has an input schema`);
    }
    assert.equal(byName.get_notebook_outline.annotations.readOnlyHint, true);
    assert.equal(byName.delete_cell.annotations.destructiveHint, true);
    assert.equal(byName.run_cell_async.annotations.destructiveHint, true);
  } finally {
    await client.close();
  }
});

test("outline, edit on disk, bad call", async () => {
  const { client, ws } = await connect();
  try {
    const outline = await client.callTool({ name: "get_notebook_outline", arguments: { notebook_path: "nb.ipynb" } });
    assert.ok(!outline.isError, JSON.stringify(outline.content));
    assert.deepEqual(outline.structuredContent.cells.map((c) => c.id), ["intro", "calc"]);
    const added = await client.callTool({ name: "append_cell", arguments: { notebook_path: "nb.ipynb", content: "print('ts')" } });
    assert.ok(!added.isError, JSON.stringify(added.content));
    assert.equal(added.structuredContent.index, 2);
    assert.match(readFileSync(join(ws, "nb.ipynb"), "utf8"), /print\('ts'\)/);
    const bad = await client.callTool({ name: "read_cell_smart", arguments: { notebook_path: "nb.ipynb", cell_id: "missing" } });
    assert.equal(bad.isError, true);
    assert.match(bad.content[0].text, /outline/);
  } finally {
    await client.close();
  }
});

test("runs a cell on a real kernel", { skip: !existsSync(join(venv, "bin", "python")) && "test venv missing" }, async () => {
  const { client } = await connect();
  try {
    const started = await client.callTool({ name: "start_kernel", arguments: { notebook_path: "nb.ipynb", venv_path: venv } });
    assert.ok(!started.isError, JSON.stringify(started.content));
    const run = await client.callTool({ name: "run_cell", arguments: { notebook_path: "nb.ipynb", cell_id: "calc", timeout_s: 120 } });
    assert.ok(!run.isError, JSON.stringify(run.content));
    assert.equal(run.structuredContent.status, "ok");
    assert.equal(run.structuredContent.llm_summary, "42");
    await client.callTool({ name: "stop_kernel", arguments: { notebook_path: "nb.ipynb" } });
  } finally {
    await client.close();
  }
});
