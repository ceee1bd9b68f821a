package mcpserver_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestCapabilitiesAreTrue: nothing is ever pushed, so no listChanged, and no
// logging capability since the server sends no log messages.
func TestCapabilitiesAreTrue(t *testing.T) {
	cs, _ := connect(t)
	caps := cs.InitializeResult().Capabilities
	b, _ := json.Marshal(caps)
	if caps.Tools == nil || caps.Resources == nil {
		t.Fatalf("tools and resources must be declared: %s", b)
	}
	if caps.Tools.ListChanged || caps.Resources.ListChanged || caps.Resources.Subscribe || caps.Logging != nil || caps.Prompts != nil {
		t.Errorf("capabilities over-claim: %s", b)
	}
}

// TestEveryToolHintsAndSchemas runs over every listed tool: every hint is
// stated and right for what the tool does, and the schemas have no
// ["null", T] type arrays, closed sets are enums and every object declares
// its properties.
func TestEveryToolHintsAndSchemas(t *testing.T) {
	cs, _ := connect(t)
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	runsCode := map[string]bool{"run_cell": true, "run_cell_async": true, "run_cells": true, "sync_state_from_disk": true}
	destructive := map[string]bool{"restart_kernel": true, "save_checkpoint": true, "stop_kernel": true, "delete_cell": true,
		"load_checkpoint": true, "delete_checkpoint": true, "propose_edit": true, "edit_cell_source": true}
	closed := map[string]bool{"cell_type": true, "strategy": true, "sandbox": true, "status": true, "kind": true}
	if len(res.Tools) < 20 {
		t.Fatalf("only %d tools listed", len(res.Tools))
	}
	for _, tool := range res.Tools {
		a := tool.Annotations
		if a == nil || a.DestructiveHint == nil || a.OpenWorldHint == nil {
			t.Errorf("%s: every hint must be stated: %+v", tool.Name, a)
			continue
		}
		if a.ReadOnlyHint && *a.DestructiveHint {
			t.Errorf("%s: read-only and destructive", tool.Name)
		}
		if runsCode[tool.Name] && !(*a.DestructiveHint && *a.OpenWorldHint) {
			t.Errorf("%s runs arbitrary code: destructiveHint and openWorldHint must be true", tool.Name)
		}
		if !runsCode[tool.Name] && *a.OpenWorldHint {
			t.Errorf("%s: openWorldHint true but it runs no code", tool.Name)
		}
		if (destructive[tool.Name] || runsCode[tool.Name]) != *a.DestructiveHint {
			t.Errorf("%s: destructiveHint %v", tool.Name, *a.DestructiveHint)
		}
		for kind, schema := range map[string]any{"input": tool.InputSchema, "output": tool.OutputSchema} {
			b, _ := json.Marshal(schema)
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s %s schema: %v", tool.Name, kind, err)
			}
			if kind == "input" {
				if _, ok := m["properties"].(map[string]any); !ok {
					t.Errorf("%s: input schema without properties: %s", tool.Name, b)
				}
			}
			checkSchema(t, tool.Name+" "+kind, "", m, kind == "input", closed)
		}
	}
}

// checkSchema: inputs have no type arrays (outputs keep ["null", T] where Go
// sends null); a closed set is an enum (in inputs the named ones always).
func checkSchema(t *testing.T, where, name string, s map[string]any, input bool, closed map[string]bool) {
	t.Helper()
	if _, isArray := s["type"].([]any); isArray && input {
		t.Errorf("%s.%s: type is an array %v", where, name, s["type"])
	}
	if s["type"] == "object" {
		if _, ok := s["properties"]; !ok && s["additionalProperties"] == nil {
			t.Errorf("%s.%s: object without properties", where, name)
		}
	}
	desc, _ := s["description"].(string)
	isString := s["type"] == "string"
	if types, ok := s["type"].([]any); ok {
		for _, ty := range types {
			isString = isString || ty == "string"
		}
	}
	if isString && s["enum"] == nil && ((input && closed[name]) || strings.Contains(desc, " | ")) {
		t.Errorf("%s.%s: closed set %q is not an enum", where, name, desc)
	}
	if props, ok := s["properties"].(map[string]any); ok {
		for n, p := range props {
			if pm, ok := p.(map[string]any); ok {
				checkSchema(t, where, n, pm, input, closed)
			}
		}
	}
	for _, key := range []string{"items", "additionalProperties"} {
		if sub, ok := s[key].(map[string]any); ok {
			checkSchema(t, where, name+"[]", sub, input, closed)
		}
	}
}

var _ = mcp.Tool{}
