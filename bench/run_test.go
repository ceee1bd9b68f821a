// Package bench_test checks the benchmark runner (bench/run.sh + collect.py):
// group order, row collection, failing and chatty groups, and the rendered docs.
package bench_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
)

var elapsed = regexp.MustCompile(`after \d+ s`)

func TestRunner(t *testing.T) {
	groups := t.TempDir()
	out := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(groups, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("20-good", "#!/bin/sh\necho progress >&2\n"+
		`echo '{"id": "B1", "what": "second group", "ours": 2.5, "reference": 5.0, "ratio": 0.5, "unit": "ms", "goal": "<= 0.8", "n": 3, "p95_ours": 3.0, "p95_reference": 6.0, "note": "x|y"}'`+"\n")
	write("10-chatty-then-fails", "#!/bin/sh\n"+
		`echo '{"id": "A1", "what": "first group", "ours": 1, "unit": "MB", "goal": "<= 30 MB"}'`+"\necho 'not json'\necho 'it broke here' >&2\nexit 4\n")
	write("30-timeout", "#!/bin/sh\nexec sleep 60\n")
	if err := os.WriteFile(filepath.Join(groups, "05-not-executable"), []byte("#!/bin/sh\necho '{\"id\": \"NO\"}'\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command("bash", filepath.Join(testenv.RepoRoot(), "bench", "run.sh"))
	cmd.Env = append(os.Environ(), "BENCH_GROUPS_DIR="+groups, "BENCH_OUT="+out, "BENCH_GROUP_TIMEOUT=2")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("run.sh: %v\n%s", err, b)
	}

	data, err := os.ReadFile(filepath.Join(out, "benchmarks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatalf("benchmarks.json: %v\n%s", err, data)
	}
	type r struct{ ID, Note string }
	var got []r
	for _, row := range rows {
		note, _ := row["note"].(string)
		// elapsed seconds depend on the machine
		got = append(got, r{row["id"].(string), elapsed.ReplaceAllString(note, "after N s")})
		for _, k := range []string{"id", "what", "ours", "reference", "ratio", "unit", "goal", "n", "p95_ours", "p95_reference", "note"} {
			if _, ok := row[k]; !ok {
				t.Errorf("row %v lacks %q", row["id"], k)
			}
		}
	}
	want := []r{
		{"A1", ""},
		{"10-chatty-then-fails", "group exited with 4 after N s (1 row(s) before that): it broke here"},
		{"B1", "x|y"},
		{"30-timeout", "group timed out after N s (0 row(s) before that): "},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}

	md, err := os.ReadFile(filepath.Join(out, "benchmarks.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"`make bench`", "Machine: ", " cores", "| B1 | second group | 2.50 (3.00) ms | 5.00 (6.00) ms | 0.50 | <= 0.8 | 3 | x\\|y |"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("benchmarks.md lacks %q:\n%s", s, md)
		}
	}
}
