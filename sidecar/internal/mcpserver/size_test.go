package mcpserver_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

// M3: tools/list is carried in every agent request; it must stay ≤ 24 KB
// while each tool keeps its description and every parameter its own.
func TestToolsListSize(t *testing.T) {
	cs, _ := connect(t)
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res)
	type part struct {
		name string
		n    int
	}
	var parts []part
	for _, tool := range res.Tools {
		tb, _ := json.Marshal(tool)
		parts = append(parts, part{tool.Name, len(tb)})
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].n > parts[j].n })
	var top []string
	for _, p := range parts[:5] {
		top = append(top, p.name+"="+itoa(p.n))
	}
	t.Logf("M3 tools/list: %d bytes (%.1f KB), %d tools; largest: %s", len(b), float64(len(b))/1024, len(res.Tools), strings.Join(top, " "))
	if len(b) > 24*1024 {
		t.Errorf("tools/list is %d bytes, goal ≤ %d", len(b), 24*1024)
	}
	for _, tool := range res.Tools {
		if len(tool.Description) < 20 {
			t.Errorf("%s: description too short to be useful: %q", tool.Name, tool.Description)
		}
		in, _ := json.Marshal(tool.InputSchema)
		var s struct {
			Properties map[string]struct {
				Description string `json:"description"`
				Enum        []any  `json:"enum"`
			} `json:"properties"`
		}
		_ = json.Unmarshal(in, &s)
		for name, p := range s.Properties {
			if p.Description == "" && len(p.Enum) == 0 {
				t.Errorf("%s.%s: an input parameter lost its description", tool.Name, name)
			}
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
