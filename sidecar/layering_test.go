package sidecar_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
)

const module = "github.com/mcp-jupyter/mcp-jupyter"

// TestLayering enforces DESIGN.md section 3 on the non-test dependency graph.
func TestLayering(t *testing.T) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Deps,Imports", "./...")
	cmd.Dir = testenv.RepoRoot()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	type pkg struct {
		ImportPath string
		Deps       []string
		Imports    []string
	}
	var pkgs []pkg
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list returned no packages")
	}
	rel := func(p string) string { return strings.TrimPrefix(strings.TrimPrefix(p, module), "/") }
	for _, p := range pkgs {
		me := rel(p.ImportPath)
		for _, d := range p.Deps {
			dep := rel(d)
			switch {
			case strings.HasPrefix(me, "notebookmodel"):
				if strings.HasPrefix(d, module) && !strings.HasPrefix(dep, "notebookmodel") {
					t.Errorf("%s must not import %s (notebookmodel: stdlib + gjson/sjson only)", me, dep)
				}
				if strings.Contains(d, ".") && !strings.HasPrefix(d, module) && !strings.HasPrefix(d, "github.com/tidwall/") {
					t.Errorf("%s must not depend on %s (notebookmodel: stdlib + gjson/sjson only)", me, d)
				}
				if d == "os/exec" || d == "net" {
					t.Errorf("%s must not import %s", me, d)
				}
			case me == "protocol" || strings.HasPrefix(me, "protocol/") && !strings.HasPrefix(me, "protocol/internal/gen") && !strings.HasPrefix(me, "protocol/cmd"):
				if strings.HasPrefix(d, module) && !strings.HasPrefix(dep, "protocol") && !strings.HasPrefix(dep, "notebookmodel") {
					t.Errorf("%s must not import %s (protocol: stdlib + notebookmodel)", me, dep)
				}
			}
		}
		for _, d := range p.Imports {
			dep := rel(d)
			if d == "github.com/go-zeromq/zmq4" && !strings.HasPrefix(me, "sidecar/internal/kernel") {
				t.Errorf("%s imports zmq4 directly: only sidecar/internal/kernel may", me)
			}
			for _, door := range []string{"sidecar/internal/mcpserver", "sidecar/internal/rpc"} {
				if strings.HasPrefix(dep, door) && !strings.HasPrefix(me, door) && me != "sidecar" && !strings.HasPrefix(me, "sidecar/cmd") {
					t.Errorf("%s imports %s: only the sidecar command may", me, dep)
				}
			}
			if strings.HasPrefix(me, "sidecar/internal/") && !strings.HasPrefix(me, "sidecar/internal/tools") &&
				!strings.HasPrefix(me, "sidecar/internal/mcpserver") && !strings.HasPrefix(me, "sidecar/internal/rpc") &&
				strings.HasPrefix(dep, "sidecar/internal/tools") {
				t.Errorf("%s imports the tool core %s: features sit below tools", me, dep)
			}
		}
	}
}
