package notebookmodel

import (
	"fmt"
	"strings"
	"testing"
)

// TestDerivedIDsIgnorePosition: cells without an id (an nbformat 4.4 file, a
// new VS Code cell) keep their derived id when other cells are inserted,
// deleted or moved around them, so an agent's view of them stays valid.
func TestDerivedIDsIgnorePosition(t *testing.T) {
	doc := func(sources ...string) []byte {
		var cells []string
		for _, s := range sources {
			cells = append(cells, fmt.Sprintf(`{"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": [%q]}`, s))
		}
		return []byte(`{"cells": [` + strings.Join(cells, ",") + `], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}`)
	}
	ids := func(data []byte) map[string]string {
		nb, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, c := range nb.Cells() {
			out[c.Source] = c.ID
		}
		return out
	}
	before := ids(doc("a = 1", "b = 2", "c = 3"))
	for name, after := range map[string]map[string]string{
		"insert at the top": ids(doc("new = 0", "a = 1", "b = 2", "c = 3")),
		"delete the first":  ids(doc("b = 2", "c = 3")),
		"move":              ids(doc("c = 3", "a = 1", "b = 2")),
	} {
		for src, id := range after {
			if want, ok := before[src]; ok && want != id {
				t.Errorf("%s: cell %q changed id %s → %s", name, src, want, id)
			}
		}
	}
	// Snapshots (VS Code buffers) derive the same way.
	snap := func(sources ...string) map[string]string {
		s := Snapshot{}
		for _, src := range sources {
			s.Cells = append(s.Cells, SnapshotCell{Kind: KindCode, Language: "python", Source: src})
		}
		out := map[string]string{}
		for _, c := range FromSnapshot(s).Cells() {
			out[c.Source] = c.ID
		}
		return out
	}
	b, a := snap("x", "y"), snap("top", "x", "y")
	if b["x"] != a["x"] || b["y"] != a["y"] {
		t.Errorf("snapshot ids moved with the position: %v → %v", b, a)
	}
	// Identical sources still get distinct ids.
	if d := ids(doc("same", "same")); len(d) != 1 {
		t.Fatalf("unexpected %v", d)
	}
	nb, _ := Parse(doc("same", "same"))
	if c := nb.Cells(); c[0].ID == c[1].ID {
		t.Errorf("identical cells share id %s", c[0].ID)
	}
}
