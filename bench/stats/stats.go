// Package stats holds the sample statistics the benchmark programs report
// (medians, p95, rounding, sample rounds). It imports nothing of the product,
// so its tests run in `go test ./...` like any package.
package stats

import (
	"math"
	"sort"
)

// Rounds splits n samples into up to 5 alternating rounds.
func Rounds(n int) []int {
	k := min(n, 5)
	out := make([]int, k)
	for i := range n {
		out[i%k]++
	}
	return out
}

// Round rounds f to digits decimal places.
func Round(f float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(f*p) / p
}

// Median is the median of xs, rounded to 2 decimals; xs is not reordered.
func Median(xs []float64) float64 { return Round(Quantile(xs, 0.5), 2) }

// P95 is the 95th percentile of xs, rounded to 2 decimals; xs is not reordered.
func P95(xs []float64) float64 { return Round(Quantile(xs, 0.95), 2) }

// Quantile interpolates linearly between order statistics; NaN for no samples.
func Quantile(xs []float64, q float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}
