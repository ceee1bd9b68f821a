// Package jsapi is notebookmodel behind a JSON-string interface: each call
// takes notebook JSON and JSON arguments and returns a JSON envelope
// {"ok": result} or {"error": {"code", "message", ...}}. The WASM build
// exposes exactly these calls to JavaScript, and the golden tests record
// their answers, so the Go and WASM answers are compared call for call.
package jsapi

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
)

// Methods callable through Call, with their arguments after the notebook:
//
//	outline(nb)
//	search(nb, query: SearchQuery)
//	readCell(nb, ref: CellRef, opts?: ReadOptions)
//	diff(nbA, nbB)
//	applyEdit(nb, edit: Edit) → {notebook: string, applied: AppliedEdit}
//	fromSnapshot(snapshot: Snapshot) → {notebook: string}
var Methods = []string{"outline", "search", "readCell", "diff", "applyEdit", "fromSnapshot"}

// Error is the error half of the envelope.
type Error struct {
	// Code is syntax | notNotebook | unsupportedVersion | staleView | badEdit | badArgument | internal.
	Code    string `json:"code"`
	Message string `json:"message"`
	// Line and Column locate a JSON syntax error in the notebook.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	// Outline is the fresh outline of a stale view.
	Outline []notebookmodel.OutlineEntry `json:"outline,omitempty"`
}

type envelope struct {
	OK    any    `json:"ok,omitempty"`
	Error *Error `json:"error,omitempty"`
}

// ApplyResult is applyEdit's answer.
type ApplyResult struct {
	Notebook string                    `json:"notebook"`
	Applied  notebookmodel.AppliedEdit `json:"applied"`
}

// Call runs method with JSON string arguments and returns the JSON envelope.
// It never panics: a bug becomes an "internal" error.
func Call(method string, args ...string) (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = encode(envelope{Error: &Error{Code: "internal", Message: fmt.Sprintf("%s: panic: %v", method, r)}})
		}
	}()
	res, err := call(method, args)
	if err != nil {
		return encode(envelope{Error: toError(err)})
	}
	if raw, ok := res.(rawJSON); ok {
		return `{"ok":` + string(raw) + `}`
	}
	return encode(envelope{OK: res})
}

func encode(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return `{"error":{"code":"internal","message":"encode result"}}`
	}
	return string(b)
}

var errBadArgument = errors.New("bad argument")

func call(method string, args []string) (any, error) {
	need := func(n int) error {
		if len(args) < n {
			return fmt.Errorf("%w: %s needs %d arguments, got %d", errBadArgument, method, n, len(args))
		}
		return nil
	}
	arg := func(i int, v any) error {
		if i >= len(args) || args[i] == "" {
			return nil
		}
		if err := json.Unmarshal([]byte(args[i]), v); err != nil {
			return fmt.Errorf("%w: %s argument %d: %v", errBadArgument, method, i+1, err)
		}
		return nil
	}
	if res, ok, err := callHandle(method, args, arg, need); ok {
		return res, err
	}
	if method == "fromSnapshot" {
		var s notebookmodel.Snapshot
		if err := need(1); err != nil {
			return nil, err
		}
		if err := arg(0, &s); err != nil {
			return nil, err
		}
		return map[string]string{"notebook": string(notebookmodel.FromSnapshot(s).Bytes())}, nil
	}
	if err := need(1); err != nil {
		return nil, err
	}
	nb, err := notebookmodel.Parse([]byte(args[0]))
	if err != nil {
		return nil, err
	}
	switch method {
	case "outline":
		return nb.Outline(), nil
	case "search":
		var q notebookmodel.SearchQuery
		if err := need(2); err != nil {
			return nil, err
		}
		if err := arg(1, &q); err != nil {
			return nil, err
		}
		return nb.Search(q)
	case "readCell":
		var ref notebookmodel.CellRef
		var opts notebookmodel.ReadOptions
		if err := need(2); err != nil {
			return nil, err
		}
		if err := arg(1, &ref); err != nil {
			return nil, err
		}
		if err := arg(2, &opts); err != nil {
			return nil, err
		}
		return nb.ReadCell(ref, opts)
	case "diff":
		if err := need(2); err != nil {
			return nil, err
		}
		other, err := notebookmodel.Parse([]byte(args[1]))
		if err != nil {
			return nil, err
		}
		return notebookmodel.Diff(nb, other), nil
	case "applyEdit":
		var e notebookmodel.Edit
		if err := need(2); err != nil {
			return nil, err
		}
		if err := arg(1, &e); err != nil {
			return nil, err
		}
		out, applied, err := nb.Apply(e)
		if err != nil {
			return nil, err
		}
		return ApplyResult{Notebook: string(out.Bytes()), Applied: applied}, nil
	}
	return nil, fmt.Errorf("%w: unknown method %q", errBadArgument, method)
}

func toError(err error) *Error {
	e := &Error{Code: "internal", Message: err.Error()}
	var se *notebookmodel.SyntaxError
	var sv *notebookmodel.StaleViewError
	switch {
	case errors.As(err, &se):
		e.Code, e.Line, e.Column = "syntax", se.Line, se.Column
	case errors.As(err, &sv):
		e.Code, e.Outline = "staleView", sv.Outline
	case errors.Is(err, notebookmodel.ErrNotNotebook):
		e.Code = "notNotebook"
	case errors.Is(err, notebookmodel.ErrUnsupportedVersion):
		e.Code = "unsupportedVersion"
	case errors.Is(err, notebookmodel.ErrBadEdit):
		e.Code = "badEdit"
	case errors.Is(err, errBadArgument):
		e.Code = "badArgument"
	default:
		e.Code = "badArgument" // invalid regex, empty pattern: the caller's input
	}
	return e
}
