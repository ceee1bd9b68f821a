package notebookmodel

import (
	"encoding/json"
	"fmt"
)

// ApplyOps applies buffer ops to a snapshot's cells as the extension's
// planner (extension/src/edits/plan.ts) does: in order, each op's indices
// referring to the cells the previous op left. It returns the new cells; an
// out-of-range op is an error and nothing is applied. Tests and simulated
// editors use it to play VS Code's side of editor/applyEdit.
func ApplyOps(cells []SnapshotCell, ops []EditOp) ([]SnapshotCell, error) {
	if len(ops) == 0 {
		return nil, fmt.Errorf("%w: no edits given", ErrBadEdit)
	}
	cur := append([]SnapshotCell(nil), cells...)
	count := func(op EditOp) int {
		if op.Count > 0 {
			return op.Count
		}
		return 1
	}
	for n, op := range ops {
		rangeErr := func(i, c int) error {
			if i < 0 || c < 1 || i+c > len(cur) {
				return fmt.Errorf("%w: edit %d: cells %d..%d out of range (%d cells)", ErrBadEdit, n, i, i+c-1, len(cur))
			}
			return nil
		}
		switch op.Op {
		case OpInsert:
			if op.Index < 0 || op.Index > len(cur) || len(op.Cells) == 0 {
				return nil, fmt.Errorf("%w: edit %d: insert at %d of %d cells", ErrBadEdit, n, op.Index, len(cur))
			}
			fresh := make([]SnapshotCell, 0, len(op.Cells))
			for _, c := range op.Cells {
				fresh = append(fresh, SnapshotCell{ID: c.ID, Kind: c.Kind, Language: c.Language, Source: c.Source, Metadata: c.Metadata})
			}
			cur = append(cur[:op.Index], append(fresh, cur[op.Index:]...)...)
		case OpDelete:
			c := count(op)
			if err := rangeErr(op.Index, c); err != nil {
				return nil, err
			}
			cur = append(cur[:op.Index], cur[op.Index+c:]...)
		case OpReplaceSource:
			if err := rangeErr(op.Index, 1); err != nil {
				return nil, err
			}
			cur[op.Index].Source = op.Source
		case OpMove:
			c := count(op)
			if err := rangeErr(op.Index, c); err != nil {
				return nil, err
			}
			if op.ToIndex < 0 || op.ToIndex+c > len(cur) {
				return nil, fmt.Errorf("%w: edit %d: move target %d out of range", ErrBadEdit, n, op.ToIndex)
			}
			moved := append([]SnapshotCell(nil), cur[op.Index:op.Index+c]...)
			rest := append(append([]SnapshotCell(nil), cur[:op.Index]...), cur[op.Index+c:]...)
			cur = append(append(append([]SnapshotCell(nil), rest[:op.ToIndex]...), moved...), rest[op.ToIndex:]...)
		case OpSetMetadata:
			if err := rangeErr(op.Index, 1); err != nil {
				return nil, err
			}
			cur[op.Index].Metadata = append(json.RawMessage(nil), op.Metadata...)
			var md struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(op.Metadata, &md) == nil && md.ID != "" {
				cur[op.Index].ID = md.ID
			}
		case OpChangeType:
			if err := rangeErr(op.Index, 1); err != nil || len(op.Cells) == 0 {
				return nil, fmt.Errorf("%w: edit %d: changeType", ErrBadEdit, n)
			}
			c := op.Cells[0]
			cur[op.Index] = SnapshotCell{ID: cur[op.Index].ID, Kind: c.Kind, Language: c.Language, Source: c.Source, Metadata: cur[op.Index].Metadata}
		case OpClearOutputs:
			c := count(op)
			if err := rangeErr(op.Index, c); err != nil {
				return nil, err
			}
			for i := op.Index; i < op.Index+c; i++ {
				cur[i].Outputs, cur[i].ExecutionCount = nil, nil
			}
		default:
			return nil, fmt.Errorf("%w: edit %d: unknown op %q", ErrBadEdit, n, op.Op)
		}
	}
	return cur, nil
}
