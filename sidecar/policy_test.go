package sidecar_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
)

// Every tool under each policy, through the real binary: a hidden tool is not
// listed and calling it is refused with the reason; a listed one is served.
func TestPolicyFlagsHideAndRefuseTools(t *testing.T) {
	bin := testenv.Binary(t)
	ws := t.TempDir()
	if err := os.WriteFile(filepath.Join(ws, "nb.ipynb"), []byte(testNotebook), 0o644); err != nil {
		t.Fatal(err)
	}
	all := tools.NewRegistry().List()
	readOnly := map[string]bool{}
	for _, tool := range all {
		readOnly[tool.Name] = tool.ReadOnly
	}
	type policy struct {
		args []string
		want func(name string) bool
	}
	in := func(names ...string) func(string) bool {
		return func(n string) bool {
			for _, m := range names {
				if m == n {
					return true
				}
			}
			return false
		}
	}
	policies := map[string]policy{
		"read-only": {[]string{"--read-only"}, func(n string) bool { return readOnly[n] }},
		"tools":     {[]string{"--tools", "get_notebook_outline,run_cell"}, in("get_notebook_outline", "run_cell")},
		"read-only + toolsets": {[]string{"--read-only", "--toolsets", "notebook,state"}, func(n string) bool {
			return readOnly[n] && (in(tools.Toolsets["notebook"]...)(n) || in(tools.Toolsets["state"]...)(n))
		}},
		"toolsets + extra tool": {[]string{"--toolsets", "kernels", "--tools", "get_notebook_outline"}, func(n string) bool { return in(tools.Toolsets["kernels"]...)(n) || n == "get_notebook_outline" }},
	}
	for _, set := range tools.ToolsetNames() {
		policies["toolset "+set] = policy{[]string{"--toolsets", set}, in(tools.Toolsets[set]...)}
	}
	ctx := context.Background()
	for name, p := range policies {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"mcp", "--standalone", "--workspace", ws}, p.args...)...)
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "policy-test", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			res, err := cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			var listed, want []string
			for _, tool := range res.Tools {
				listed = append(listed, tool.Name)
			}
			for _, tool := range all {
				if p.want(tool.Name) {
					want = append(want, tool.Name)
				}
			}
			sort.Strings(listed)
			if diff := cmp.Diff(want, listed); diff != "" {
				t.Errorf("listed tools (-want +got):\n%s", diff)
			}
			for _, tool := range all {
				if p.want(tool.Name) {
					continue
				}
				r, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool.Name, Arguments: map[string]any{"notebook_path": "nb.ipynb"}})
				if err != nil {
					t.Errorf("%s: protocol error %v, want an isError result naming the policy", tool.Name, err)
					continue
				}
				if msg := resultText(r); !r.IsError || !strings.Contains(msg, "not available because") || !strings.Contains(msg, p.args[0]) {
					t.Errorf("%s hidden by %v: got isError=%v %q", tool.Name, p.args, r.IsError, msg)
				}
			}
			if p.want("get_notebook_outline") {
				r, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_notebook_outline", Arguments: map[string]any{"notebook_path": "nb.ipynb"}})
				if err != nil || r.IsError {
					t.Errorf("a listed tool must be served: %v %q", err, resultText(r))
				}
			}
		})
	}
	for _, bad := range [][]string{{"--toolsets", "notebok"}, {"--tools", "run_cel"}} {
		out, err := exec.Command(bin, append([]string{"mcp", "--standalone", "--workspace", ws}, bad...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "unknown") {
			t.Errorf("%v must be refused at start with the known names: %v %s", bad, err, out)
		}
	}
}

func resultText(r *mcp.CallToolResult) string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}
