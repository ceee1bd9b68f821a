package kernelspec

import (
	"os/exec"
	"testing"
)

func runPython(t *testing.T, py string, env map[string]string, code string) []byte {
	t.Helper()
	cmd := exec.Command(py, "-c", code)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("python: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("python: %v", err)
	}
	return out
}
