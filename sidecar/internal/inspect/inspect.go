package inspect

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernelpy"
)

//go:embed py/inspect_vars.py
var pySource string

var module = kernelpy.Module{Name: "inspect", Source: pySource}

var (
	ErrNotFound    = errors.New("variable not found")
	ErrInvalidName = errors.New("invalid variable name")
)

// Variable is one entry of the kernel's variable list.
type Variable struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Size  int64  `json:"size"` // bytes (arrays: data bytes; DataFrames: memory without deep object sizes)
	Len   *int   `json:"len,omitempty"`
	Shape []int  `json:"shape,omitempty"`
	Dtype string `json:"dtype,omitempty"`
}

// Variables lists up to limit user variables (modules and IPython internals excluded).
func Variables(ctx context.Context, run kernelpy.Runner, limit int) ([]Variable, error) {
	var res struct {
		Variables []Variable `json:"variables"`
	}
	if err := module.Call(ctx, run, "variables", map[string]any{"limit": limit}, &res); err != nil {
		return nil, fmt.Errorf("list variables: %w", err)
	}
	if res.Variables == nil {
		res.Variables = []Variable{}
	}
	return res.Variables, nil
}

// Description is a safe description of one variable. Value, Items, Values,
// Columns and Head hold JSON built from exact builtin values only.
type Description struct {
	Name      string          `json:"name"`
	Type      string          `json:"type"`
	Kind      string          `json:"kind"` // number|none|text|container|mapping|ndarray|dataframe|series|object
	Size      int64           `json:"size"`
	Len       *int            `json:"len,omitempty"`
	Shape     []int           `json:"shape,omitempty"`
	Dtype     string          `json:"dtype,omitempty"`
	Nbytes    *int64          `json:"nbytes,omitempty"`
	Memory    *int64          `json:"memory,omitempty"`
	NColumns  *int            `json:"ncolumns,omitempty"`
	Truncated bool            `json:"truncated,omitempty"`
	Value     json.RawMessage `json:"value,omitempty"`
	Items     json.RawMessage `json:"items,omitempty"`
	Values    json.RawMessage `json:"values,omitempty"`
	Columns   json.RawMessage `json:"columns,omitempty"`
	Head      json.RawMessage `json:"head,omitempty"`
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Inspect describes the variable name.
func Inspect(ctx context.Context, run kernelpy.Runner, name string) (*Description, error) {
	if !identRE.MatchString(name) {
		return nil, fmt.Errorf("%w %q: give a plain variable name (attributes and expressions would run the object's code)", ErrInvalidName, name)
	}
	var res struct {
		Found bool `json:"found"`
		Description
	}
	if err := module.Call(ctx, run, "inspect", map[string]any{"name": name}, &res); err != nil {
		return nil, fmt.Errorf("inspect %s: %w", name, err)
	}
	if !res.Found {
		return nil, fmt.Errorf("%w: %q is not defined in the kernel", ErrNotFound, name)
	}
	return &res.Description, nil
}

// Text is a short description for a model.
func (d *Description) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", d.Name, d.Type)
	if len(d.Shape) > 0 {
		fmt.Fprintf(&b, ", shape %v", d.Shape)
	}
	if d.Dtype != "" {
		fmt.Fprintf(&b, ", dtype %s", d.Dtype)
	}
	if d.Len != nil {
		fmt.Fprintf(&b, ", len %d", *d.Len)
	}
	fmt.Fprintf(&b, ", %s", humanBytes(d.Size))
	for _, part := range []struct {
		label string
		raw   json.RawMessage
	}{{"value", d.Value}, {"items", d.Items}, {"values", d.Values}, {"columns", d.Columns}, {"head", d.Head}} {
		if len(part.raw) > 0 && string(part.raw) != "null" {
			s := string(part.raw)
			if len(s) > 600 {
				s = s[:600] + "…"
			}
			fmt.Fprintf(&b, "\n%s: %s", part.label, s)
		}
	}
	if d.Truncated {
		b.WriteString(" (truncated)")
	}
	return b.String()
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
