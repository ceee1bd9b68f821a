//go:build unix

package bench_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
)

// build compiles bench/<name> with bench/gobuild.sh (the way the groups do).
func build(t *testing.T, name string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("bash", filepath.Join(testenv.RepoRoot(), "bench", "gobuild.sh"), name, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bench/gobuild.sh %s: %v\n%s", name, err, b)
	}
	return out
}

// TestProgramsBuild: the benchmark programs, which ordinary builds skip
// (benchprog tag), still compile against today's sidecar packages.
func TestProgramsBuild(t *testing.T) {
	build(t, "kernelbench")
	if runtime.GOOS == "linux" {
		build(t, "checkpointbench")
	}
}

// TestKernelbenchAgainstRealKernel runs our side of the cheap kernel
// benchmarks against the venv's ipykernel, so a harness that cannot measure
// fails here, not in `make bench`.
func TestKernelbenchAgainstRealKernel(t *testing.T) {
	py := testenv.Python(t)
	venv := filepath.Dir(filepath.Dir(py))
	bin := build(t, "kernelbench")
	for _, id := range []string{"K2", "K4", "K5"} {
		out, err := exec.Command(bin, "-one", id, "-n", "2", "-warmup", "1", "-venv", venv).Output()
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		var res struct {
			SamplesMS []float64 `json:"samples_ms"`
			RSSMB     float64   `json:"rss_mb"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("%s: %v in %q", id, err, out)
		}
		if len(res.SamplesMS) != 2 || res.RSSMB <= 0 {
			t.Errorf("%s: %+v, want 2 samples and an RSS", id, res)
		}
		if id == "K5" {
			for _, ms := range res.SamplesMS {
				if ms > 1000 {
					t.Errorf("K5: death noticed after %.0f ms", ms)
				}
			}
		}
	}
}
