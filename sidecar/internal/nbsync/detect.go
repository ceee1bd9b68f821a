package nbsync

import (
	"fmt"
	"strings"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
)

// Run is one execution in the kernel's history.
type Run struct {
	CellID string // "" for code run outside any cell: ignored here
	Code   string
	// SourceHash overrides SourceHash(Code) when only the hash is known (runs
	// restored from a checkpoint's record).
	SourceHash     string
	Status         string // ok | error | aborted | cancelled | timeout | dead | queued | running
	ExecutionCount int
	Origin         string // agent | human
	// Epoch is the kernel's restart count when the run started: runs of an
	// earlier epoch left no state in the kernel.
	Epoch int
}

// Record is what a kernel ran, in order.
type Record struct {
	Runs     []Run
	Epoch    int    // current restart count of the kernel
	KernelID string // id of the running kernel process (matches Stamp.Kernel); "" if unknown
}

// Why a cell is dirty.
const (
	WhyEdited   = "edited"    // source changed since it ran
	WhyFailed   = "failed"    // its last run did not finish ok
	WhyNeverRun = "never_run" // never run, but cells below it ran
	WhyLost     = "lost"      // ran before the kernel restarted, not since
	WhyNoRecord = "no_record" // shows results from another kernel (or a lost one), not in this kernel's state
)

// DirtyCell is a cell whose effect on the kernel does not match its source.
type DirtyCell struct {
	Index  int    `json:"index"`
	CellID string `json:"cell_id"`
	Why    string `json:"why"`
}

// Report is detect_sync_needed's answer.
type Report struct {
	SyncNeeded     bool        `json:"sync_needed"`
	Reason         string      `json:"reason"`
	DirtyCells     []DirtyCell `json:"dirty_cells"`
	DeletedCells   []string    `json:"deleted_cells,omitempty"` // ids of cells that ran and are gone
	Restarted      bool        `json:"restarted,omitempty"`     // the kernel restarted since cells ran
	Strategy       string      `json:"strategy,omitempty"`      // suggested strategy
	Recommendation string      `json:"recommendation"`
}

func runnable(c notebookmodel.Cell) bool {
	return c.Type == notebookmodel.KindCode && trimSpace(c.Source) != ""
}

// Detect compares the record with the notebook's cells.
func Detect(cells []notebookmodel.Cell, rec Record) Report {
	last := map[string]Run{}
	lost := map[string]bool{}
	lostRuns := 0
	var order []string
	for _, r := range rec.Runs {
		if r.Status == "queued" || r.Status == "running" || r.CellID == "" {
			continue
		}
		if r.Epoch < rec.Epoch {
			lostRuns++
			lost[r.CellID] = true
			continue
		}
		if _, seen := last[r.CellID]; !seen {
			order = append(order, r.CellID)
		}
		last[r.CellID] = r
	}
	present := map[string]bool{}
	type state struct {
		ran  bool
		hash string
		ok   bool
	}
	states := make([]state, len(cells))
	lastRan := -1
	for i, c := range cells {
		present[c.ID] = true
		if !runnable(c) {
			continue
		}
		if r, ok := last[c.ID]; ok {
			h := r.SourceHash
			if h == "" {
				h = SourceHash(r.Code)
			}
			states[i] = state{ran: true, hash: h, ok: r.Status == "ok"}
		} else if s, ok := ReadStamp(c.Metadata); ok && rec.KernelID != "" && s.Kernel == rec.KernelID {
			states[i] = state{ran: true, hash: s.SourceHash, ok: s.Status == "" || s.Status == "ok"}
		}
		if states[i].ran {
			lastRan = i
		}
	}
	rep := Report{DirtyCells: []DirtyCell{}}
	for i, c := range cells {
		if !runnable(c) {
			continue
		}
		st := states[i]
		switch {
		case st.ran && st.hash != SourceHash(c.Source):
			rep.DirtyCells = append(rep.DirtyCells, DirtyCell{i, c.ID, WhyEdited})
		case st.ran && !st.ok:
			rep.DirtyCells = append(rep.DirtyCells, DirtyCell{i, c.ID, WhyFailed})
		case st.ran:
		case lost[c.ID]:
			rep.DirtyCells = append(rep.DirtyCells, DirtyCell{i, c.ID, WhyLost})
		case c.ExecutionCount != nil || hasStamp(c):
			rep.DirtyCells = append(rep.DirtyCells, DirtyCell{i, c.ID, WhyNoRecord})
		case i < lastRan:
			rep.DirtyCells = append(rep.DirtyCells, DirtyCell{i, c.ID, WhyNeverRun})
		}
	}
	for _, id := range order {
		if !present[id] {
			rep.DeletedCells = append(rep.DeletedCells, id)
		}
	}
	rep.Restarted = rec.Epoch > 0 && lostRuns > 0
	rep.SyncNeeded = len(rep.DirtyCells) > 0 || len(rep.DeletedCells) > 0
	rep.Reason = reason(rep, cells)
	switch {
	case !rep.SyncNeeded:
		rep.Recommendation = "none: the kernel state matches the notebook"
	case len(rep.DeletedCells) > 0:
		rep.Strategy = StrategyFull
		rep.Recommendation = `sync_state_from_disk(strategy="full"): deleted cells' definitions are still in the kernel, so restart and re-run everything`
	default:
		rep.Strategy = StrategyIncremental
		rep.Recommendation = fmt.Sprintf(`sync_state_from_disk(strategy="incremental") re-runs from cell %d on; strategy="smart" re-runs only the dirty cells and the cells that use what they define`, rep.DirtyCells[0].Index)
	}
	return rep
}

func hasStamp(c notebookmodel.Cell) bool {
	_, ok := ReadStamp(c.Metadata)
	return ok
}

func reason(rep Report, cells []notebookmodel.Cell) string {
	if !rep.SyncNeeded {
		return "the kernel state matches the notebook"
	}
	by := map[string][]string{}
	for _, d := range rep.DirtyCells {
		by[d.Why] = append(by[d.Why], fmt.Sprintf("%d", d.Index))
	}
	var parts []string
	add := func(why, one, many string) {
		if n := len(by[why]); n > 0 {
			what := one
			if n > 1 {
				what = many
			}
			parts = append(parts, fmt.Sprintf("%d %s (cell %s)", n, what, strings.Join(by[why], ", ")))
		}
	}
	add(WhyEdited, "cell edited since it ran", "cells edited since they ran")
	add(WhyFailed, "cell whose last run failed", "cells whose last run failed")
	add(WhyNeverRun, "cell never run above cells that ran", "cells never run above cells that ran")
	add(WhyLost, "cell ran before the kernel restarted and not since", "cells ran before the kernel restarted and not since")
	add(WhyNoRecord, "cell shows results this kernel does not have", "cells show results this kernel does not have")
	if len(rep.DeletedCells) > 0 {
		parts = append(parts, fmt.Sprintf("%d cell(s) that ran were deleted (id %s)", len(rep.DeletedCells), strings.Join(rep.DeletedCells, ", ")))
	}
	s := strings.Join(parts, "; ")
	if rep.Restarted {
		s = "the kernel restarted since cells ran; " + s
	}
	return s
}
