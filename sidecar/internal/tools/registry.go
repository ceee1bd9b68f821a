package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"
)

// ErrBadArguments is returned (wrapped) when a call's arguments do not match the
// tool's input schema.
var ErrBadArguments = errors.New("invalid arguments")

// ErrUnknownTool is returned (wrapped) for a tool name the registry does not hold.
var ErrUnknownTool = errors.New("unknown tool")

// Meta describes a tool to the doors: MCP uses it for title, description and
// annotations; the extension mirrors it as language-model tools.
type Meta struct {
	Name        string
	Title       string
	Description string
	// ReadOnly: the tool changes neither the notebook nor the kernel.
	ReadOnly bool
	// Destructive: the tool may throw away work (delete a cell, stop a kernel).
	Destructive bool
	// Idempotent: repeating the call with the same arguments has no further effect.
	Idempotent bool
	// OpenWorld: the tool reaches beyond the notebook and kernel state it
	// names, e.g. it runs arbitrary code (network, files, processes).
	OpenWorld bool
	// InterruptOnCancel: the call runs code in the kernel, so cancelling it interrupts the kernel too.
	InterruptOnCancel bool
}

// Tool is one registered tool: its description, schemas and the function behind it.
type Tool struct {
	Meta
	InputSchema  *jsonschema.Schema
	OutputSchema *jsonschema.Schema
	in           *jsonschema.Resolved
	invoke       func(ctx context.Context, c *Call, args json.RawMessage) (any, error)
}

// Handler is the function behind a tool. In and Out are plain structs whose
// fields carry `json` names and `jsonschema` descriptions; fields tagged
// omitempty are optional.
type Handler[In, Out any] func(ctx context.Context, c *Call, in In) (Out, error)

// Registry holds the tools every door serves.
type Registry struct {
	mu     sync.RWMutex
	tools  map[string]*Tool
	hidden map[string]string // tool → why the policy hides it (see Restrict)
}

var (
	extMu      sync.Mutex
	extensions []func(*Registry)
)

// Extend adds a registration function run by every NewRegistry after the
// built-in tools: feature files inside this package (e.g. state*.go) call it from
// init to plug their tools into all doors at once.
func Extend(register func(*Registry)) {
	extMu.Lock()
	defer extMu.Unlock()
	extensions = append(extensions, register)
}

// NewRegistry returns a registry with the built-in tools and every extension.
func NewRegistry() *Registry {
	r := &Registry{tools: map[string]*Tool{}}
	registerBuiltins(r)
	extMu.Lock()
	exts := append([]func(*Registry){}, extensions...)
	extMu.Unlock()
	for _, ext := range exts {
		ext(r)
	}
	return r
}

// schemaOptions describe free-form values with a non-empty schema: an empty
// one marshals as `true`, which some clients (the TypeScript SDK) reject as a
// property schema.
var schemaOptions = &jsonschema.ForOptions{
	TypeSchemas: map[reflect.Type]*jsonschema.Schema{
		// Raw nbformat JSON (outputs, metadata) is any JSON value, not a byte array.
		reflect.TypeFor[json.RawMessage](): {Description: "any JSON value"},
		reflect.TypeFor[any]():             {Description: "any JSON value"},
	},
}

// Add registers a typed tool. It panics on a programming error (a struct the
// schema inference cannot describe, a duplicate name), like http.Handle does.
func Add[In, Out any](r *Registry, m Meta, h Handler[In, Out]) {
	in, err := jsonschema.For[In](schemaOptions)
	if err != nil {
		panic(fmt.Sprintf("tools: input schema of %s: %v", m.Name, err))
	}
	out, err := jsonschema.For[Out](schemaOptions)
	if err != nil {
		panic(fmt.Sprintf("tools: output schema of %s: %v", m.Name, err))
	}
	tidySchema(in, true)
	tidySchema(out, false)
	resolved, err := in.Resolve(nil)
	if err != nil {
		panic(fmt.Sprintf("tools: resolve input schema of %s: %v", m.Name, err))
	}
	t := &Tool{Meta: m, InputSchema: in, OutputSchema: out, in: resolved}
	t.invoke = func(ctx context.Context, c *Call, args json.RawMessage) (any, error) {
		var v In
		if err := t.decode(args, &v); err != nil {
			return nil, err
		}
		return h(ctx, c, v)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.tools[m.Name]; dup {
		panic("tools: duplicate tool " + m.Name)
	}
	r.tools[m.Name] = t
}

// List returns the tools sorted by name.
func (r *Registry) List() []*Tool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Tool, 0, len(r.tools))
	for _, t := range r.tools {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Get returns the named tool, or nil.
func (r *Registry) Get(name string) *Tool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.tools[name]
}

// Invoke runs the named tool with raw JSON arguments. Every door calls this.
func (r *Registry) Invoke(ctx context.Context, c *Call, name string, args json.RawMessage) (any, error) {
	t := r.Get(name)
	if why, ok := r.Disabled(name); ok && t == nil {
		return nil, fmt.Errorf("%w: %s is not available because %s", ErrDisabledTool, name, why)
	}
	if t == nil {
		var names []string
		for _, t := range r.List() {
			names = append(names, t.Name)
		}
		return nil, fmt.Errorf("%w %q: available tools are %s", ErrUnknownTool, name, strings.Join(names, ", "))
	}
	return t.Invoke(ctx, c, args)
}

// Invoke validates args against the input schema, decodes them and runs the
// tool. A panic inside a tool becomes an error (with the stack in the log), so
// one bad call cannot take the server down.
func (t *Tool) Invoke(ctx context.Context, c *Call, args json.RawMessage) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			logger := slog.Default()
			if c != nil && c.Core != nil && c.Core.Logger != nil {
				logger = c.Core.Logger
			}
			logger.Error("tool panic", "tool", t.Name, "panic", p, "stack", string(debug.Stack()))
			out, err = nil, fmt.Errorf("internal error in %s: %v (this is a bug; the server keeps running)", t.Name, p)
		}
	}()
	if c == nil {
		c = &Call{}
	}
	out, err = t.invoke(ctx, c, args)
	if err == nil && !t.ReadOnly && c.Core != nil {
		c.Core.changed(args)
	}
	return out, err
}

// clientInjected are arguments that agent clients add to every tool's schema
// for their own use and then pass through to the server: Gemini CLI's
// wait_for_previous (its model sets it to order calls within a turn). They are
// dropped, not refused; any other unknown argument is still refused.
var clientInjected = []string{"wait_for_previous"}

// dropInjected removes the client-injected arguments the tool does not declare
// and reports whether it removed any.
func (t *Tool) dropInjected(obj map[string]any) bool {
	dropped := false
	for _, name := range clientInjected {
		if _, declared := t.InputSchema.Properties[name]; declared {
			continue
		}
		if _, ok := obj[name]; ok {
			delete(obj, name)
			dropped = true
		}
	}
	return dropped
}

func (t *Tool) decode(args json.RawMessage, v any) (err error) {
	if len(bytes.TrimSpace(args)) == 0 || string(bytes.TrimSpace(args)) == "null" {
		args = json.RawMessage("{}")
	}
	var generic any
	if err := json.Unmarshal(args, &generic); err != nil {
		return fmt.Errorf("%w for %s: arguments are not valid JSON: %v", ErrBadArguments, t.Name, err)
	}
	obj, ok := generic.(map[string]any)
	if !ok {
		return fmt.Errorf("%w for %s: arguments must be a JSON object, got %s; expected %s", ErrBadArguments, t.Name, jsonKind(generic), t.usage())
	}
	if t.dropInjected(obj) {
		if args, err = json.Marshal(obj); err != nil {
			return fmt.Errorf("%w for %s: %v", ErrBadArguments, t.Name, err)
		}
	}
	if err := t.in.Validate(generic); err != nil {
		return fmt.Errorf("%w for %s: %v; expected %s", ErrBadArguments, t.Name, err, t.usage())
	}
	dec := json.NewDecoder(bytes.NewReader(args))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w for %s: %v; expected %s", ErrBadArguments, t.Name, err, t.usage())
	}
	return nil
}

// usage lists the tool's parameters, required ones first, for error messages.
func (t *Tool) usage() string {
	req := map[string]bool{}
	for _, n := range t.InputSchema.Required {
		req[n] = true
	}
	var names []string
	for n := range t.InputSchema.Properties {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if req[names[i]] != req[names[j]] {
			return req[names[i]]
		}
		return names[i] < names[j]
	})
	var parts []string
	for _, n := range names {
		p := t.InputSchema.Properties[n]
		typ := p.Type
		if typ == "" && len(p.Types) > 0 {
			typ = strings.Join(p.Types, "|")
		}
		s := n + " (" + typ
		if req[n] {
			s += ", required"
		}
		parts = append(parts, s+")")
	}
	if len(parts) == 0 {
		return "no arguments"
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "an object"
}

// closedSets are the closed sets whose description is prose rather than the
// "a | b | c" form tidySchema reads (property name → values).
var closedSets = map[string][]string{
	"sandbox": {"bubblewrap", "docker"},
}

// closedSetRE matches a description that is a closed set: values separated
// by " | ", each optionally followed by a parenthesised note ("code (default)
// | markdown | raw"), with an optional "prefix: " or ": suffix" note.
var closedSetRE = regexp.MustCompile(`^(?:[^:|]*: )?` + closedValue + `(?: \| ` + closedValue + `)+(?:: [^|]*)?$`)

const closedValue = `[A-Za-z_][A-Za-z0-9_]*(?: \([^()|]*\))?`

// closedValues lists the values of a description closedSetRE matched.
func closedValues(desc string) []any {
	if before, after, ok := strings.Cut(desc, ": "); ok {
		desc = after
		if strings.Contains(before, " | ") {
			desc = before
		}
	}
	var vals []any
	for _, tok := range strings.Split(desc, " | ") {
		v, _, _ := strings.Cut(tok, " ")
		vals = append(vals, v)
	}
	return vals
}

// tidySchema is the one schema step every tool's input and output schema goes
// through, so that function-calling converters and strict clients accept them:
// an optional field is its type, not a ["null", type] array; a closed set
// ("a | b | c" in the description, or closedSets) is an enum; every object
// declares its properties, even none.
//
// Output schemas keep ["null", type] where Go emits null (a nil slice), so
// that a client validating structuredContent accepts what is sent.
func tidySchema(s *jsonschema.Schema, input bool) {
	if s == nil {
		return
	}
	if input && len(s.Types) > 0 {
		var types []string
		for _, t := range s.Types {
			if t != "null" {
				types = append(types, t)
			}
		}
		if len(types) == 1 {
			s.Type, s.Types = types[0], nil
		} else {
			s.Types = types
		}
	}
	if s.Type == "object" && s.Properties == nil && (s.AdditionalProperties == nil || s.AdditionalProperties.Not != nil) {
		s.Properties = map[string]*jsonschema.Schema{}
	}
	for name, p := range s.Properties {
		tidySchema(p, input)
		if name == "notebook_path" && input {
			p.Description = notebookPathDoc
		}
		if !(p.Type == "string" || slices.Contains(p.Types, "string")) || len(p.Enum) > 0 {
			continue
		}
		if vals, ok := closedSets[name]; ok {
			for _, v := range vals {
				p.Enum = append(p.Enum, v)
			}
		} else if closedSetRE.MatchString(p.Description) {
			p.Enum = closedValues(p.Description)
		}
	}
	tidySchema(s.Items, input)
	tidySchema(s.AdditionalProperties, input)
	for _, d := range s.Defs {
		tidySchema(d, input)
	}
	for _, sub := range append(append(append([]*jsonschema.Schema{}, s.AnyOf...), s.OneOf...), s.AllOf...) {
		tidySchema(sub, input)
	}
}

// notebookPathDoc is the one description of notebook_path, the argument
// almost every tool takes.
const notebookPathDoc = "the .ipynb file, relative to the workspace or absolute"
