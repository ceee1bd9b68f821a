package jsapi

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
)

func mustOK(t *testing.T, env string) json.RawMessage {
	t.Helper()
	var e struct {
		OK    json.RawMessage `json:"ok"`
		Error *Error          `json:"error"`
	}
	if err := json.Unmarshal([]byte(env), &e); err != nil || e.Error != nil {
		t.Fatalf("envelope %s: %v", env, err)
	}
	return e.OK
}

func js(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHandlesAnswerLikeAFreshParse: a notebook opened once and changed by
// splices answers outline, search and readCell exactly like the whole
// changed buffer converted from scratch.
func TestHandlesAnswerLikeAFreshParse(t *testing.T) {
	snap := notebookmodel.Snapshot{URI: "file:///w/a.ipynb", Path: "/w/a.ipynb", Version: 1, Cells: []notebookmodel.SnapshotCell{
		{ID: "md", Kind: "markdown", Language: "markdown", Source: "# Title"},
		{ID: "c1", Kind: "code", Language: "python", Source: "x = 1"},
		{ID: "c2", Kind: "code", Language: "python", Source: "print(x)"},
	}}
	var opened struct{ Handle int }
	json.Unmarshal(mustOK(t, Call("open", js(t, snap))), &opened)
	h := strconv.Itoa(opened.Handle)
	defer Call("close", h)

	// Edit c1, insert a cell after it, delete the markdown cell.
	edits := []Splice{
		{Start: 1, DeleteCount: 1, Cells: []notebookmodel.SnapshotCell{{ID: "c1", Kind: "code", Language: "python", Source: "x = 2  # needle"}}, Version: 2},
		{Start: 2, Cells: []notebookmodel.SnapshotCell{{ID: "new", Kind: "markdown", Language: "markdown", Source: "## Needle section"}}, Version: 3},
		{Start: 0, DeleteCount: 1, Version: 4},
	}
	want := snap
	want.Cells = []notebookmodel.SnapshotCell{edits[0].Cells[0], edits[1].Cells[0], snap.Cells[2]}
	want.Version = 4
	for _, sp := range edits {
		mustOK(t, Call("splice", h, js(t, sp)))
	}
	fresh := string(notebookmodel.FromSnapshot(want).Bytes())
	query := js(t, notebookmodel.SearchQuery{Pattern: "needle"})
	ref := js(t, notebookmodel.CellRef{CellID: "new"})
	for _, c := range []struct{ got, want string }{
		{Call("outlineOf", h), Call("outline", fresh)},
		{Call("searchOf", h, query), Call("search", fresh, query)},
		{Call("readCellOf", h, ref), Call("readCell", fresh, ref)},
	} {
		if c.got != c.want {
			t.Errorf("through the handle:\n%s\nfrom scratch:\n%s", c.got, c.want)
		}
	}
	if got := string(mustOK(t, Call("searchOf", h, query))); !strings.Contains(got, `"cellId":"c1"`) || !strings.Contains(got, `"cellId":"new"`) {
		t.Errorf("search after the splices misses a changed cell: %s", got)
	}
}

// TestHandlesRefuseBadInput: unknown handles, bad splices and closed handles
// are clear errors, never a panic.
func TestHandlesRefuseBadInput(t *testing.T) {
	var opened struct{ Handle int }
	json.Unmarshal(mustOK(t, Call("open", `{"uri":"u","path":"/p","version":1,"cells":[]}`)), &opened)
	h := strconv.Itoa(opened.Handle)
	for _, c := range []struct {
		method string
		args   []string
		want   string
	}{
		{"outlineOf", []string{"999999"}, "no open notebook with handle 999999"},
		{"splice", []string{h, `{"start":1,"deleteCount":0,"cells":[]}`}, "splice 1+0 of 0 cells"},
		{"splice", []string{h, `{"start":0,"deleteCount":-1}`}, "splice 0+-1"},
		{"splice", []string{h}, "needs 2 arguments"},
		{"open", []string{`{"cells": 3}`}, "argument 1"},
	} {
		got := Call(c.method, c.args...)
		if !strings.Contains(got, `"code":"badArgument"`) || !strings.Contains(got, c.want) {
			t.Errorf("%s%v = %s, want badArgument %q", c.method, c.args, got, c.want)
		}
	}
	mustOK(t, Call("close", h))
	if got := Call("outlineOf", h); !strings.Contains(got, "no open notebook") {
		t.Errorf("outlineOf a closed handle = %s", got)
	}
}
