package stats

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStats(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	if got := Median(xs); got != 3 {
		t.Errorf("Median = %v, want 3", got)
	}
	if got := P95(xs); got != 4.8 {
		t.Errorf("P95 = %v, want 4.8", got)
	}
	if diff := cmp.Diff([]float64{5, 1, 4, 2, 3}, xs); diff != "" {
		t.Errorf("Quantile sorted its input (-want +got):\n%s", diff)
	}
	if !math.IsNaN(Quantile(nil, 0.5)) {
		t.Error("Quantile of no samples is not NaN")
	}
	for _, tt := range []struct {
		n    int
		want []int
	}{{1, []int{1}}, {3, []int{1, 1, 1}}, {5, []int{1, 1, 1, 1, 1}}, {200, []int{40, 40, 40, 40, 40}}, {12, []int{3, 3, 2, 2, 2}}} {
		if diff := cmp.Diff(tt.want, Rounds(tt.n)); diff != "" {
			t.Errorf("Rounds(%d) (-want +got):\n%s", tt.n, diff)
		}
	}
}
