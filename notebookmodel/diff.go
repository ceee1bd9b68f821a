package notebookmodel

import (
	"bytes"
	"sort"
)

// Change kinds.
const (
	ChangeAdded   = "added"
	ChangeRemoved = "removed"
	ChangeMoved   = "moved"
	ChangeChanged = "changed"
)

// Change is one difference between two versions of a notebook, by cell id.
type Change struct {
	// Kind is added | removed | moved | changed. A moved cell whose content
	// also changed is reported as moved with Fields set.
	Kind   string `json:"kind"`
	CellID string `json:"cellId"`
	// OldIndex is the cell's index in the old version (null when added).
	OldIndex *int `json:"oldIndex"`
	// NewIndex is the cell's index in the new version (null when removed).
	NewIndex *int `json:"newIndex"`
	// Fields lists what changed: type, source, outputs, metadata, executionCount.
	Fields []string `json:"fields,omitempty"`
}

// Diff compares two versions of a notebook by cell id: cells only in a are
// removed, only in b added; among the rest, the longest run keeping relative
// order stays and the others are moved.
func Diff(a, b *Notebook) []Change {
	inA := make(map[string]int, len(a.cells))
	for i := range a.cells {
		inA[a.cells[i].id] = i
	}
	inB := make(map[string]int, len(b.cells))
	for i := range b.cells {
		inB[b.cells[i].id] = i
	}
	// New indices of common cells in old order; their longest increasing
	// subsequence is the set of cells that did not move.
	var common []int
	for i := range a.cells {
		if j, ok := inB[a.cells[i].id]; ok {
			common = append(common, j)
		}
	}
	stay := lis(common)

	changes := []Change{}
	for i := range a.cells {
		if _, ok := inB[a.cells[i].id]; !ok {
			changes = append(changes, Change{Kind: ChangeRemoved, CellID: a.cells[i].id, OldIndex: ptr(i)})
		}
	}
	for j := range b.cells {
		cb := &b.cells[j]
		i, ok := inA[cb.id]
		if !ok {
			changes = append(changes, Change{Kind: ChangeAdded, CellID: cb.id, NewIndex: ptr(j)})
			continue
		}
		fields := cellFieldDiff(&a.cells[i], cb)
		switch {
		case !stay[j]:
			changes = append(changes, Change{Kind: ChangeMoved, CellID: cb.id, OldIndex: ptr(i), NewIndex: ptr(j), Fields: fields})
		case len(fields) > 0:
			changes = append(changes, Change{Kind: ChangeChanged, CellID: cb.id, OldIndex: ptr(i), NewIndex: ptr(j), Fields: fields})
		}
	}
	return changes
}

func ptr(i int) *int { return &i }

func cellFieldDiff(a, b *cellData) []string {
	var f []string
	if a.typ != b.typ {
		f = append(f, "type")
	}
	if a.source != b.source {
		f = append(f, "source")
	}
	if !outputsEqual(a, b) {
		f = append(f, "outputs")
	}
	if !jsonEqual([]byte(a.metadata), []byte(b.metadata)) {
		f = append(f, "metadata")
	}
	if (a.executionCount == nil) != (b.executionCount == nil) ||
		(a.executionCount != nil && *a.executionCount != *b.executionCount) {
		f = append(f, "executionCount")
	}
	return f
}

func outputsEqual(a, b *cellData) bool {
	if a.outputsRaw == b.outputsRaw {
		return true
	}
	ca, cb := "[]", "[]"
	if a.outputsRaw != "" {
		ca = compactJSON([]byte(a.outputsRaw))
	}
	if b.outputsRaw != "" {
		cb = compactJSON([]byte(b.outputsRaw))
	}
	return ca == cb
}

// jsonEqual compares JSON ignoring formatting (a buffer snapshot and a file
// hold the same metadata with different whitespace); absent equals {}.
func jsonEqual(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	return canonical(a) == canonical(b)
}

func canonical(raw []byte) string {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "{}"
	}
	return compactJSON(raw)
}

// lis marks the values of the longest strictly increasing subsequence of seq.
func lis(seq []int) map[int]bool {
	tails := []int{} // indices into seq
	prev := make([]int, len(seq))
	for i, v := range seq {
		k := sort.Search(len(tails), func(k int) bool { return seq[tails[k]] >= v })
		if k > 0 {
			prev[i] = tails[k-1]
		} else {
			prev[i] = -1
		}
		if k == len(tails) {
			tails = append(tails, i)
		} else {
			tails[k] = i
		}
	}
	keep := make(map[int]bool, len(tails))
	if len(tails) == 0 {
		return keep
	}
	for i := tails[len(tails)-1]; i >= 0; i = prev[i] {
		keep[seq[i]] = true
	}
	return keep
}
