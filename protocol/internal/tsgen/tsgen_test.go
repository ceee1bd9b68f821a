package tsgen

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-jupyter/mcp-jupyter/protocol"
)

func generate(t *testing.T) (Output, string) {
	t.Helper()
	wd, _ := os.Getwd()
	root, err := RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	return out, root
}

// TestGeneratedFilesFresh fails when someone changed protocol/ or the
// notebookmodel types without running `go generate ./protocol/...`.
func TestGeneratedFilesFresh(t *testing.T) {
	out, root := generate(t)
	for path, want := range map[string][]byte{TSPath: out.TS, GoHashPath: out.Go} {
		got, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			t.Fatalf("%v: run `go generate ./protocol/...`", err)
		}
		if string(got) != string(want) {
			t.Errorf("%s is stale: run `go generate ./protocol/...`", path)
		}
	}
	if protocol.Hash != out.Hash {
		t.Errorf("protocol.Hash = %q, generated %q: run `go generate ./protocol/...`", protocol.Hash, out.Hash)
	}
}

func TestGeneratedContent(t *testing.T) {
	out, _ := generate(t)
	ts := string(out.TS)
	if !strings.HasPrefix(ts, "// Code generated") {
		t.Errorf("first line does not say the file is generated: %q", strings.SplitN(ts, "\n", 2)[0])
	}
	for _, want := range []string{
		"export interface KernelStartParams {",
		"  environment?: EnvironmentRef;",
		"  executionCount: number | null;",
		"  arguments: unknown;",
		"export const KernelStartRequest = new RequestType<KernelStartParams, KernelInfo, void>('kernel/start', ParameterStructures.byName);",
		"export const ExecutionOutputNotification = new NotificationType<ExecutionOutputParams>('execution/output'",
		"export const EditorSnapshotRequest = new RequestType<EditorSnapshotParams, Snapshot | null, void>('editor/snapshot'",
		"export const ShutdownRequest = new RequestType<ShutdownParams, null, void>('shutdown'",
		"export type ShutdownParams = Record<string, never>;",
		"  StaleView: -32001,",
		"  StaleView: StaleViewData;",
		"  outline: OutlineEntry[] | null;",
		"export interface EditOp {",
		"  /** NotebookPath is the notebook's absolute path. */\n  notebookPath: string;",
		"PROTOCOL_HASH = '" + out.Hash + "'",
		// String enums (typed Go constants) become literal unions, and fields declared with them use them.
		"export type ExecStatus = 'queued' | 'running' | 'ok' | 'error' | 'aborted' | 'cancelled' | 'timeout' | 'dead';",
		"export const ExecStatusValues: readonly ExecStatus[] = ['queued', 'running', 'ok', 'error', 'aborted', 'cancelled', 'timeout', 'dead'];",
		"export type CellKind = 'code' | 'markdown' | 'raw';",
		"export type EditOpKind = 'insert' | 'delete' | 'replaceSource' | 'move' | 'setMetadata' | 'changeType' | 'clearOutputs';",
		"  status: ExecStatus;",
		"  origin: Origin;",
		"  kind: OutputOpKind;",
		"  op: EditOpKind;",
		"  kind: NotFoundKind;",
	} {
		if !strings.Contains(ts, want) {
			t.Errorf("generated TS lacks %q", want)
		}
	}
	// Every method appears exactly once as a method object.
	for _, m := range protocol.Methods {
		if n := strings.Count(ts, "('"+m.Name+"', ParameterStructures.byName)"); n != 1 {
			t.Errorf("method %s declared %d times", m.Name, n)
		}
	}
}

// TestGeneratedTSCompiles type-checks the generated file under --strict with
// the real vscode-jsonrpc types, when `npm install` has run.
func TestGeneratedTSCompiles(t *testing.T) {
	_, root := generate(t)
	tsc := filepath.Join(root, "node_modules/.bin/tsc")
	if _, err := os.Stat(tsc); err != nil {
		t.Skip("node_modules/.bin/tsc missing: run `npm install` (make does)")
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules/vscode-jsonrpc")); err != nil {
		t.Skip("node_modules/vscode-jsonrpc missing: run `npm install`")
	}
	cmd := exec.Command(tsc, "--strict", "--noEmit", "--noUnusedLocals", "--target", "es2022", "--module", "commonjs",
		"--moduleResolution", "node", "--skipLibCheck", filepath.Join(root, TSPath))
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tsc --strict rejects %s: %v\n%s", TSPath, err, out)
	}
}

// TestEnumsCoverTheirConstants: every constant of an enum type is in its
// union, and a wire field's union only names values Go declares.
func TestEnumsCoverTheirConstants(t *testing.T) {
	wd, _ := os.Getwd()
	root, err := RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	src, err := readSource(root)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"protocol.ExecStatus":      {protocol.StatusQueued, protocol.StatusRunning, protocol.StatusOK, protocol.StatusError, protocol.StatusAborted, protocol.StatusCancelled, protocol.StatusTimeout, protocol.StatusDead},
		"protocol.Origin":          {protocol.OriginHuman, protocol.OriginAgent},
		"protocol.OutputOpKind":    {protocol.OutputAppend, protocol.OutputAppendText, protocol.OutputReplace, protocol.OutputClear},
		"notebookmodel.CellKind":   {"code", "markdown", "raw"},
		"protocol.Direction":       {string(protocol.ToSidecar), string(protocol.ToExtension)},
		"protocol.KernelStatus":    {"starting", "idle", "busy", "dead", "restarting"},
		"notebookmodel.EditOpKind": {"insert", "delete", "replaceSource", "move", "setMetadata", "changeType", "clearOutputs"},
	}
	for name, values := range want {
		e := src.enums[name]
		if e == nil {
			t.Errorf("enum %s not found", name)
			continue
		}
		if strings.Join(e.values, ",") != strings.Join(values, ",") {
			t.Errorf("enum %s = %v, want %v", name, e.values, values)
		}
	}
	if got := src.fieldTypes["protocol.ExecutionStateParams.Status"]; got != "protocol.ExecStatus" {
		t.Errorf("ExecutionStateParams.Status declared as %q", got)
	}
	if got := src.fieldTypes["protocol.ExecutionRunParams.Snapshot"]; got != "" {
		// A qualified type (notebookmodel.Snapshot) is a selector, never an enum of this package.
		t.Errorf("ExecutionRunParams.Snapshot declared as %q, want none", got)
	}
}
