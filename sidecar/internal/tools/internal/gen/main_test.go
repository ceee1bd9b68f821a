package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
)

func generated(t *testing.T) (map[string][]byte, string) {
	t.Helper()
	wd, _ := os.Getwd()
	root, err := repoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	files, err := generate(root)
	if err != nil {
		t.Fatal(err)
	}
	return files, root
}

// TestGeneratedFilesFresh fails when a tool's metadata or schema changed
// without `go generate ./sidecar/internal/tools/...` (make generate).
func TestGeneratedFilesFresh(t *testing.T) {
	files, root := generated(t)
	for path, want := range files {
		got, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `go generate ./sidecar/internal/tools/...` (make generate)", path)
		}
	}
}

// TestGeneratedFromMeta: the read-only set and the contributions say what
// tools.Meta says, one entry per registered tool.
func TestGeneratedFromMeta(t *testing.T) {
	files, _ := generated(t)
	ts := string(files[tsPath])
	pkg := files[packageJSON]
	list := tools.NewRegistry().List()
	declared := gjson.GetBytes(pkg, "contributes.languageModelTools.#.toolReferenceName").Array()
	if len(declared) != len(list) {
		t.Fatalf("package.json declares %d tools, the registry has %d", len(declared), len(list))
	}
	// The ReadOnlyTools block of tools.gen.ts.
	roSet := ts[strings.Index(ts, "export const ReadOnlyTools"):]
	roSet = roSet[:strings.Index(roSet, "]);")]
	var readOnly int
	for i, tool := range list {
		if declared[i].String() != tool.Name {
			t.Errorf("tool %d: package.json %s, registry %s", i, declared[i], tool.Name)
		}
		inSet := strings.Contains(roSet, "  '"+tool.Name+"',\n")
		tags := gjson.GetBytes(pkg, "contributes.languageModelTools."+itoa(i)+".tags").Array()
		tagged := slices.ContainsFunc(tags, func(r gjson.Result) bool { return r.String() == "read-only" })
		if inSet != tool.ReadOnly || tagged != tool.ReadOnly {
			t.Errorf("%s: ReadOnly %v, in ReadOnlyTools %v, tagged read-only %v", tool.Name, tool.ReadOnly, inSet, tagged)
		}
		if tool.ReadOnly {
			readOnly++
		}
		if s := gjson.GetBytes(pkg, "contributes.languageModelTools."+itoa(i)+".inputSchema").Raw; strings.Contains(s, `"$schema"`) || strings.Contains(s, `"$id"`) {
			t.Errorf("%s: inputSchema keeps $schema/$id, which VS Code rejects", tool.Name)
		}
	}
	for _, name := range []string{"run_cell", "run_cell_async", "run_cells", "sync_state_from_disk"} {
		if tool := tools.NewRegistry().Get(name); tool == nil || !tool.InterruptOnCancel {
			t.Errorf("%s runs code but cancelling it would not interrupt the kernel", name)
		}
	}
	if !strings.Contains(ts, "export const InterruptOnCancelTools: ReadonlySet<string> = new Set([\n  'run_cell',\n  'run_cell_async',\n  'run_cells',\n  'sync_state_from_disk',\n]);") {
		t.Errorf("tools.gen.ts InterruptOnCancelTools:\n%s", ts)
	}
	if readOnly == 0 || readOnly == len(list) {
		t.Errorf("%d of %d tools read-only: the metadata looks wrong", readOnly, len(list))
	}
	if n := len(gjson.GetBytes(pkg, "contributes.languageModelToolSets.0.tools").Array()); n != len(list) {
		t.Errorf("the tool set lists %d tools, want %d", n, len(list))
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
