//go:build unix

package main

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
)

func TestStats(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	if got := median(xs); got != 3 {
		t.Errorf("median = %v, want 3", got)
	}
	if got := p95(xs); got != 4.8 {
		t.Errorf("p95 = %v, want 4.8", got)
	}
	if diff := cmp.Diff([]float64{5, 1, 4, 2, 3}, xs); diff != "" {
		t.Errorf("quantile sorted its input (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		n    int
		want []int
	}{{1, []int{1}}, {3, []int{1, 1, 1}}, {5, []int{1, 1, 1, 1, 1}}, {200, []int{40, 40, 40, 40, 40}}, {12, []int{3, 3, 2, 2, 2}}} {
		if diff := cmp.Diff(tt.want, rounds(tt.n)); diff != "" {
			t.Errorf("rounds(%d) (-want +got):\n%s", tt.n, diff)
		}
	}
}

// TestOursAgainstRealKernel runs our side of the cheap benchmarks against the
// venv's ipykernel, so a harness that cannot measure fails here, not in `make bench`.
func TestOursAgainstRealKernel(t *testing.T) {
	py := testenv.Python(t)
	venv := filepath.Dir(filepath.Dir(py))
	for _, id := range []string{"K2", "K4", "K5"} {
		res, err := runOurs(id, venv, 2, 1)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
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
