package nbsync

import (
	"context"
	_ "embed"
	"errors"
	"fmt"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernelpy"
)

// Strategies of sync_state_from_disk.
const (
	StrategyIncremental = "incremental" // from the first dirty cell to the end
	StrategyFull        = "full"        // restart, then every code cell
	StrategySmart       = "smart"       // dirty cells and the cells that use what they define
)

var ErrBadStrategy = errors.New("unknown sync strategy")

//go:embed py/deps.py
var depsSource string

var depsModule = kernelpy.Module{Name: "deps", Source: depsSource}

// Deps is what one cell defines and uses; All means the cell could not be
// analysed (a syntax error) and is treated as using everything.
type Deps struct {
	Defs  []string `json:"defs"`
	Uses  []string `json:"uses"`
	Error string   `json:"error,omitempty"`
}

// Analyze returns the def/use sets of each source, computed with Python's ast
// in the kernel (after IPython's transforms, so magics parse).
func Analyze(ctx context.Context, run kernelpy.Runner, sources []string) ([]Deps, error) {
	var res struct {
		Cells []Deps `json:"cells"`
	}
	if err := depsModule.Call(ctx, run, "analyze", map[string]any{"sources": sources}, &res); err != nil {
		return nil, fmt.Errorf("analyze cell dependencies: %w", err)
	}
	if len(res.Cells) != len(sources) {
		return nil, fmt.Errorf("analyze cell dependencies: %d answers for %d cells", len(res.Cells), len(sources))
	}
	return res.Cells, nil
}

// Plan is what a sync will do.
type Plan struct {
	Strategy string               `json:"strategy"`
	Restart  bool                 `json:"restart"`
	Cells    []notebookmodel.Cell `json:"-"`
	Indexes  []int                `json:"indexes"`
}

// MakePlan picks the cells to re-run. deps is needed for smart only (one entry
// per cell of cells, nil for non-code cells is fine).
func MakePlan(cells []notebookmodel.Cell, rep Report, strategy string, deps []Deps) (Plan, error) {
	p := Plan{Strategy: strategy, Indexes: []int{}}
	dirty := map[int]bool{}
	first := len(cells)
	for _, d := range rep.DirtyCells {
		dirty[d.Index] = true
		first = min(first, d.Index)
	}
	switch strategy {
	case StrategyFull:
		p.Restart = true
		first = 0
		for i := range cells {
			dirty[i] = true
		}
	case StrategyIncremental:
		for i := first; i < len(cells); i++ {
			dirty[i] = true
		}
	case StrategySmart:
		if len(deps) != len(cells) {
			return Plan{}, fmt.Errorf("smart sync: %d dependency entries for %d cells", len(deps), len(cells))
		}
		changed := map[string]bool{}
		everything := false
		for i := first; i < len(cells); i++ {
			if !runnable(cells[i]) {
				continue
			}
			d := deps[i]
			uses := dirty[i] || (everything && len(changed) > 0)
			if d.Error != "" && len(changed) > 0 {
				uses = true // cannot tell what it uses: re-run to be safe
			}
			for _, u := range d.Uses {
				if changed[u] {
					uses = true
				}
			}
			if !uses {
				continue
			}
			dirty[i] = true
			for _, n := range d.Defs {
				changed[n] = true
			}
			if d.Error != "" {
				everything = true
			}
		}
	default:
		return Plan{}, fmt.Errorf("%w %q: use incremental, full or smart", ErrBadStrategy, strategy)
	}
	for i := first; i < len(cells); i++ {
		if dirty[i] && runnable(cells[i]) {
			p.Cells = append(p.Cells, cells[i])
			p.Indexes = append(p.Indexes, i)
		}
	}
	return p, nil
}

// Executor runs cells for a rebuild (through the session queue, so the human
// sees the runs and the record is updated).
type Executor interface {
	Restart(ctx context.Context) error
	// RunCell runs a cell and waits for it; status is the execution's final
	// status (ok, error, ...), with the exception's name and value on error.
	RunCell(ctx context.Context, cell notebookmodel.Cell) (status, ename, evalue string, err error)
}

// CellFailure names the cell a rebuild stopped at.
type CellFailure struct {
	Index  int    `json:"index"`
	CellID string `json:"cell_id"`
	Status string `json:"status"`
	Ename  string `json:"ename,omitempty"`
	Evalue string `json:"evalue,omitempty"`
}

// Result reports a rebuild.
type Result struct {
	Plan   Plan         `json:"plan"`
	Ran    []int        `json:"ran"` // indexes run ok, in order
	Failed *CellFailure `json:"failed,omitempty"`
}

// ErrCellFailed is returned (wrapped) when a rebuild stopped at a failing cell.
var ErrCellFailed = errors.New("sync stopped at a failing cell")

// Rebuild runs the plan, reporting progress, and stops at the first cell that
// does not finish ok.
func Rebuild(ctx context.Context, p Plan, ex Executor, progress func(done, total int, msg string)) (Result, error) {
	res := Result{Plan: p, Ran: []int{}}
	if progress == nil {
		progress = func(int, int, string) {}
	}
	total := len(p.Cells)
	if p.Restart {
		progress(0, total, "restarting the kernel")
		if err := ex.Restart(ctx); err != nil {
			return res, fmt.Errorf("sync: restart kernel: %w", err)
		}
	}
	for i, c := range p.Cells {
		progress(i, total, fmt.Sprintf("running cell %d (%s)", c.Index, c.ID))
		status, ename, evalue, err := ex.RunCell(ctx, c)
		if err != nil {
			return res, fmt.Errorf("sync: run cell %d (%s): %w", c.Index, c.ID, err)
		}
		if status != "ok" {
			res.Failed = &CellFailure{Index: c.Index, CellID: c.ID, Status: status, Ename: ename, Evalue: evalue}
			return res, fmt.Errorf("%w: cell %d (id %s) ended %s: %s: %s; fix it and sync again (cells after it were not run)", ErrCellFailed, c.Index, c.ID, status, ename, evalue)
		}
		res.Ran = append(res.Ran, c.Index)
	}
	progress(total, total, "done")
	return res, nil
}
