package env

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel/kernelspec"
)

// A kernelspec inside an environment whose argv[0] is a bare command that the
// environment's bin holds (a console script like xpython or deno) runs that
// program, not whatever the sidecar's PATH finds; a bare python is the
// environment's interpreter; an absolute argv[0] stays.
func TestKernelspecLaunchInResolvesBareArgv0InTheEnvironment(t *testing.T) {
	prefix := t.TempDir()
	bin := filepath.Join(prefix, "bin")
	os.MkdirAll(bin, 0o755)
	for _, n := range []string{"python", "mykernel"} {
		os.WriteFile(filepath.Join(bin, n), []byte("#!/bin/sh\n"), 0o755)
	}
	e := Environment{Kind: KindVenv, Name: "v", Prefix: prefix, Python: filepath.Join(bin, "python")}
	f := &Finder{}
	for argv0, want := range map[string]string{
		"mykernel":      filepath.Join(bin, "mykernel"),
		"python3.11":    filepath.Join(bin, "python"),
		"python":        filepath.Join(bin, "python"),
		"/opt/x/kernel": "/opt/x/kernel",
		"notinenv":      "notinenv",
	} {
		ls, err := f.KernelspecLaunchIn(context.Background(), e, kernelspec.Spec{Name: "k", Argv: []string{argv0, "-f", "{connection_file}"}}, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if ls.Argv[0] != want {
			t.Errorf("argv[0] %q ran as %q, want %q", argv0, ls.Argv[0], want)
		}
	}
}
