package nbsync_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernelpy/kernelpytest"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/nbsync"
)

func code(id, src string) notebookmodel.Cell {
	return notebookmodel.Cell{ID: id, Type: notebookmodel.KindCode, Source: src}
}

func withCount(c notebookmodel.Cell, n int) notebookmodel.Cell {
	c.ExecutionCount = &n
	return c
}

func stamped(t *testing.T, c notebookmodel.Cell, s nbsync.Stamp) notebookmodel.Cell {
	t.Helper()
	md, err := nbsync.WithStamp(json.RawMessage(`{"tags":["keep"]}`), s)
	if err != nil {
		t.Fatal(err)
	}
	c.Metadata = md
	return c
}

func index(cells []notebookmodel.Cell) []notebookmodel.Cell {
	for i := range cells {
		cells[i].Index = i
	}
	return cells
}

func ran(id, src string, epoch int) nbsync.Run {
	return nbsync.Run{CellID: id, Code: src, Status: "ok", Origin: "agent", Epoch: epoch}
}

func TestDetect(t *testing.T) {
	md := notebookmodel.Cell{ID: "m", Type: notebookmodel.KindMarkdown, Source: "# title"}
	tests := []struct {
		name      string
		cells     []notebookmodel.Cell
		rec       nbsync.Record
		want      []nbsync.DirtyCell
		deleted   []string
		restarted bool
		strategy  string
		reason    string
	}{
		{
			name:   "in sync",
			cells:  []notebookmodel.Cell{md, code("a", "x = 1\n"), code("b", "y = x"), code("c", "   "), code("d", "z = 3")},
			rec:    nbsync.Record{Runs: []nbsync.Run{ran("a", "x = 1", 0), ran("b", "y = x", 0)}},
			want:   []nbsync.DirtyCell{},
			reason: "the kernel state matches the notebook",
		},
		{
			name:     "edited since it ran",
			cells:    []notebookmodel.Cell{code("a", "x = 1"), code("b", "y = x + 1")},
			rec:      nbsync.Record{Runs: []nbsync.Run{ran("a", "x = 1", 0), ran("b", "y = x", 0)}},
			want:     []nbsync.DirtyCell{{Index: 1, CellID: "b", Why: nbsync.WhyEdited}},
			strategy: nbsync.StrategyIncremental,
			reason:   "1 cell edited since it ran (cell 1)",
		},
		{
			name:  "only the last run counts",
			cells: []notebookmodel.Cell{code("a", "x = 2")},
			rec:   nbsync.Record{Runs: []nbsync.Run{ran("a", "x = 1", 0), ran("a", "x = 2", 0)}},
			want:  []nbsync.DirtyCell{},
		},
		{
			name:     "never run above cells that ran",
			cells:    []notebookmodel.Cell{code("a", "x = 1"), code("b", "w = 0"), code("c", "y = x"), code("d", "later()")},
			rec:      nbsync.Record{Runs: []nbsync.Run{ran("a", "x = 1", 0), ran("c", "y = x", 0)}},
			want:     []nbsync.DirtyCell{{Index: 1, CellID: "b", Why: nbsync.WhyNeverRun}},
			strategy: nbsync.StrategyIncremental,
			reason:   "1 cell never run above cells that ran (cell 1)",
		},
		{
			name:     "deleted cell",
			cells:    []notebookmodel.Cell{code("a", "x = 1")},
			rec:      nbsync.Record{Runs: []nbsync.Run{ran("a", "x = 1", 0), ran("gone", "secret = 1", 0)}},
			want:     []nbsync.DirtyCell{},
			deleted:  []string{"gone"},
			strategy: nbsync.StrategyFull,
			reason:   "1 cell(s) that ran were deleted (id gone)",
		},
		{
			name:      "restarted kernel",
			cells:     []notebookmodel.Cell{withCount(code("a", "x = 1"), 1), withCount(code("b", "y = x"), 2)},
			rec:       nbsync.Record{Epoch: 1, Runs: []nbsync.Run{ran("a", "x = 1", 0), ran("b", "y = x", 0)}},
			want:      []nbsync.DirtyCell{{0, "a", nbsync.WhyLost}, {1, "b", nbsync.WhyLost}},
			restarted: true,
			strategy:  nbsync.StrategyIncremental,
			reason:    "the kernel restarted since cells ran; 2 cells ran before the kernel restarted and not since (cell 0, 1)",
		},
		{
			name:      "restarted, then partly re-run (buffer without execution counts)",
			cells:     []notebookmodel.Cell{code("a", "x = 1"), code("b", "y = x"), code("c", "z = y")},
			rec:       nbsync.Record{Epoch: 1, Runs: []nbsync.Run{ran("a", "x = 1", 0), ran("b", "y = x", 0), ran("c", "z = y", 0), ran("a", "x = 1", 1)}},
			want:      []nbsync.DirtyCell{{1, "b", nbsync.WhyLost}, {2, "c", nbsync.WhyLost}},
			restarted: true,
			strategy:  nbsync.StrategyIncremental,
		},
		{
			name:     "cells without our metadata",
			cells:    []notebookmodel.Cell{withCount(code("a", "import pandas"), 7), code("b", "x = 1")},
			rec:      nbsync.Record{KernelID: "k1"},
			want:     []nbsync.DirtyCell{{0, "a", nbsync.WhyNoRecord}},
			strategy: nbsync.StrategyIncremental,
		},
		{
			name: "stamps of this kernel survive a sidecar restart",
			cells: []notebookmodel.Cell{
				stamped(t, withCount(code("a", "x = 1"), 1), nbsync.Stamp{SourceHash: nbsync.SourceHash("x = 1"), Origin: "human", Kernel: "k1"}),
				stamped(t, withCount(code("b", "y = 2"), 2), nbsync.Stamp{SourceHash: nbsync.SourceHash("y = 1"), Origin: "agent", Kernel: "k1"}),
			},
			rec:      nbsync.Record{KernelID: "k1"},
			want:     []nbsync.DirtyCell{{1, "b", nbsync.WhyEdited}},
			strategy: nbsync.StrategyIncremental,
		},
		{
			name: "stamps of another kernel",
			cells: []notebookmodel.Cell{
				stamped(t, code("a", "x = 1"), nbsync.Stamp{SourceHash: nbsync.SourceHash("x = 1"), Origin: "agent", Kernel: "old"}),
			},
			rec:      nbsync.Record{KernelID: "k2"},
			want:     []nbsync.DirtyCell{{0, "a", nbsync.WhyNoRecord}},
			strategy: nbsync.StrategyIncremental,
		},
		{
			name:  "code run outside cells and runs restored from a checkpoint record",
			cells: []notebookmodel.Cell{code("a", "x = load()"), code("b", "y = x")},
			rec: nbsync.Record{Epoch: 1, Runs: []nbsync.Run{
				ran("a", "x = load()", 0), ran("", "tmp = 1", 0), ran("b", "y = x", 0),
				{CellID: "a", SourceHash: nbsync.SourceHash("x = load()"), Status: "ok", Epoch: 1},
				{CellID: "b", SourceHash: nbsync.SourceHash("y = x"), Status: "ok", Epoch: 1},
				ran("", "print(y)", 1),
			}},
			want:      []nbsync.DirtyCell{},
			restarted: true,
		},
		{
			name:     "failed run",
			cells:    []notebookmodel.Cell{code("a", "1/0")},
			rec:      nbsync.Record{Runs: []nbsync.Run{{CellID: "a", Code: "1/0", Status: "error"}}},
			want:     []nbsync.DirtyCell{{0, "a", nbsync.WhyFailed}},
			strategy: nbsync.StrategyIncremental,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := nbsync.Detect(index(tc.cells), tc.rec)
			if d := cmp.Diff(tc.want, got.DirtyCells); d != "" {
				t.Errorf("dirty (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.deleted, got.DeletedCells); d != "" {
				t.Errorf("deleted (-want +got):\n%s", d)
			}
			if got.Restarted != tc.restarted || got.Strategy != tc.strategy {
				t.Errorf("restarted %v strategy %q", got.Restarted, got.Strategy)
			}
			if got.SyncNeeded != (len(tc.want) > 0 || len(tc.deleted) > 0) {
				t.Errorf("sync_needed = %v", got.SyncNeeded)
			}
			if tc.reason != "" && got.Reason != tc.reason {
				t.Errorf("reason = %q, want %q", got.Reason, tc.reason)
			}
			if got.SyncNeeded && !strings.Contains(got.Recommendation, "sync_state_from_disk") {
				t.Errorf("recommendation = %q", got.Recommendation)
			}
		})
	}
}

func TestStampKeepsOtherMetadata(t *testing.T) {
	md, err := nbsync.WithStamp(json.RawMessage(`{"tags":["a"],"mcp-jupyter":{"source_hash":"old"}}`), nbsync.StampFor(ran("a", "x=1", 0), "k9"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(md, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"tags": []any{"a"}, "mcp-jupyter": map[string]any{"source_hash": nbsync.SourceHash("x=1"), "origin": "agent", "kernel": "k9", "status": "ok"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if _, err := nbsync.WithStamp(json.RawMessage(`[1]`), nbsync.Stamp{}); err == nil {
		t.Error("non-object metadata accepted")
	}
}

func TestMakePlan(t *testing.T) {
	cells := index([]notebookmodel.Cell{code("a", "a"), code("b", "b"), {ID: "m", Type: "markdown", Source: "x"}, code("c", "c"), code("d", "d"), code("e", "e")})
	rep := nbsync.Report{DirtyCells: []nbsync.DirtyCell{{Index: 1, CellID: "b", Why: nbsync.WhyEdited}}}
	deps := []nbsync.Deps{
		{Defs: []string{"x"}},
		{Defs: []string{"y"}, Uses: []string{"x"}},
		{},
		{Defs: []string{"z"}, Uses: []string{"x"}},       // does not use y: skipped
		{Defs: []string{"w"}, Uses: []string{"y", "np"}}, // uses y
		{Uses: []string{"w"}},                            // uses w, transitively
	}
	tests := []struct {
		strategy string
		want     []int
		restart  bool
	}{
		{nbsync.StrategyIncremental, []int{1, 3, 4, 5}, false},
		{nbsync.StrategyFull, []int{0, 1, 3, 4, 5}, true},
		{nbsync.StrategySmart, []int{1, 4, 5}, false},
	}
	for _, tc := range tests {
		p, err := nbsync.MakePlan(cells, rep, tc.strategy, deps)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tc.want, p.Indexes); d != "" || p.Restart != tc.restart {
			t.Errorf("%s (-want +got):\n%s restart %v", tc.strategy, d, p.Restart)
		}
	}
	if _, err := nbsync.MakePlan(cells, rep, "quick", nil); !errors.Is(err, nbsync.ErrBadStrategy) {
		t.Errorf("bad strategy: %v", err)
	}
}

// kernelExec runs cells on a test kernel as user cells.
type kernelExec struct {
	k        *kernelpytest.Kernel
	restarts int
}

func (e *kernelExec) Restart(context.Context) error { e.k.Restart(); e.restarts++; return nil }

func (e *kernelExec) RunCell(_ context.Context, c notebookmodel.Cell) (string, string, string, error) {
	r, err := e.k.RunResult(c.Source)
	if err != nil {
		return "", "", "", err
	}
	if r.Error != nil {
		return "error", r.Error.Ename, r.Error.Evalue, nil
	}
	return "ok", "", "", nil
}

func TestSmartSyncInKernel(t *testing.T) {
	k := kernelpytest.Start(t, t.TempDir())
	ctx := context.Background()
	cells := index([]notebookmodel.Cell{
		code("load", "%config InlineBackend.figure_format = 'png'\nimport math\nbase = 10\ncalls = []"),
		code("derive", "scaled = base * 2\ncalls.append('derive')"),
		code("other", "unrelated = base + 5"),
		code("use", "def f(v):\n    return v + scaled\nresult = f(1)\ncalls.append('use')"),
		code("broken", "this is ) not python"),
	})
	deps, err := nbsync.Analyze(ctx, k.Runner(), []string{cells[0].Source, cells[1].Source, cells[2].Source, cells[3].Source, cells[4].Source})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"base", "calls", "math"}, deps[0].Defs); d != "" {
		t.Errorf("load defs (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"calls", "f", "result"}, deps[3].Defs); d != "" {
		t.Errorf("use defs (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"calls", "f", "scaled"}, deps[3].Uses); d != "" {
		t.Errorf("use uses (-want +got):\n%s", d)
	}
	if deps[4].Error == "" {
		t.Error("syntax error not reported")
	}
	magic, err := nbsync.Analyze(ctx, k.Runner(), []string{"%time total = base + 1", "%%time\nother = scaled * 2", "%run script.py", "!ls\n%matplotlib inline"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]nbsync.Deps{
		{Defs: []string{"total"}, Uses: []string{"base"}},
		{Defs: []string{"other"}, Uses: []string{"scaled"}},
		{Error: "magic %run"},
		{Defs: []string{}, Uses: []string{}},
	}, magic); d != "" {
		t.Errorf("magics (-want +got):\n%s", d)
	}
	for _, c := range cells[:4] {
		k.Run(c.Source)
	}
	// The human edits "derive": smart sync re-runs it and "use" (uses scaled), not "other".
	cells[1].Source = "scaled = base * 3\ncalls.append('derive')"
	cells = cells[:4]
	rec := nbsync.Record{}
	for _, c := range cells {
		rec.Runs = append(rec.Runs, ran(c.ID, c.Source, 0))
	}
	rec.Runs[1].Code = "scaled = base * 2\ncalls.append('derive')"
	rep := nbsync.Detect(cells, rec)
	if !rep.SyncNeeded || len(rep.DirtyCells) != 1 {
		t.Fatalf("report %+v", rep)
	}
	p, err := nbsync.MakePlan(cells, rep, nbsync.StrategySmart, deps[:4])
	if err != nil {
		t.Fatal(err)
	}
	var progress []string
	res, err := nbsync.Rebuild(ctx, p, &kernelExec{k: k}, func(done, total int, msg string) { progress = append(progress, msg) })
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]int{1, 3}, res.Ran); d != "" {
		t.Errorf("ran (-want +got):\n%s", d)
	}
	if out := strings.TrimSpace(k.Run("print(result, calls)")); out != "31 ['derive', 'use', 'derive', 'use']" {
		t.Errorf("state after smart sync: %s", out)
	}
	if d := cmp.Diff([]string{"running cell 1 (derive)", "running cell 3 (use)", "done"}, progress); d != "" {
		t.Errorf("progress (-want +got):\n%s", d)
	}
}

func TestRebuildStopsAtFirstError(t *testing.T) {
	k := kernelpytest.Start(t, t.TempDir())
	cells := index([]notebookmodel.Cell{code("a", "x = 1"), code("b", "x = x / 0"), code("c", "never = True")})
	p, err := nbsync.MakePlan(cells, nbsync.Report{}, nbsync.StrategyFull, nil)
	if err != nil {
		t.Fatal(err)
	}
	ex := &kernelExec{k: k}
	res, err := nbsync.Rebuild(context.Background(), p, ex, nil)
	if !errors.Is(err, nbsync.ErrCellFailed) || !strings.Contains(err.Error(), "cell 1 (id b)") || !strings.Contains(err.Error(), "ZeroDivisionError") {
		t.Fatalf("err = %v", err)
	}
	if res.Failed == nil || res.Failed.CellID != "b" || ex.restarts != 1 {
		t.Errorf("failed %+v restarts %d", res.Failed, ex.restarts)
	}
	if out := strings.TrimSpace(k.Run("print('never' in globals())")); out != "False" {
		t.Errorf("cell after the failure ran: %s", out)
	}
}

// FuzzReadStamp: any cell metadata is read without panicking, and a stamp
// written with WithStamp reads back.
func FuzzReadStamp(f *testing.F) {
	f.Add([]byte(`{"mcp-jupyter":{"source_hash":"sha256:1","origin":"agent"}}`))
	f.Add([]byte(`{"mcp-jupyter":[]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, md []byte) {
		nbsync.ReadStamp(md)
		want := nbsync.Stamp{SourceHash: "sha256:x", Origin: "human"}
		out, err := nbsync.WithStamp(md, want)
		if err != nil {
			return // not an object: refused, fine
		}
		if got, ok := nbsync.ReadStamp(out); !ok || got != want {
			t.Fatalf("round trip of %q: %+v %v", md, got, ok)
		}
	})
}
