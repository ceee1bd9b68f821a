package kernelspec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
)

func envFunc(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDataDirsOrder(t *testing.T) {
	tests := []struct {
		name string
		opts SearchOptions
		want []string
	}{
		{
			name: "linux defaults",
			opts: SearchOptions{GOOS: "linux", HomeDir: "/home/u", Getenv: envFunc(nil)},
			want: []string{"/home/u/.local/share/jupyter", "/usr/local/share/jupyter", "/usr/share/jupyter"},
		},
		{
			name: "linux JUPYTER_PATH first, XDG, env prefix before system",
			opts: SearchOptions{GOOS: "linux", HomeDir: "/home/u", ExtraPrefixes: []string{"/envs/a"},
				Getenv: envFunc(map[string]string{"JUPYTER_PATH": "/jp1/:/jp2", "XDG_DATA_HOME": "/xdg"})},
			want: []string{"/jp1", "/jp2", "/xdg/jupyter", "/home/u/.local/share/jupyter", "/envs/a/share/jupyter", "/usr/local/share/jupyter", "/usr/share/jupyter"},
		},
		{
			name: "JUPYTER_DATA_DIR wins over XDG; PYTHONUSERBASE moves the user site dir",
			opts: SearchOptions{GOOS: "linux", HomeDir: "/home/u",
				Getenv: envFunc(map[string]string{"JUPYTER_DATA_DIR": "/data", "XDG_DATA_HOME": "/xdg", "PYTHONUSERBASE": "/ub"})},
			want: []string{"/data", "/ub/share/jupyter", "/usr/local/share/jupyter", "/usr/share/jupyter"},
		},
		{
			name: "JUPYTER_PREFER_ENV_PATH puts env prefixes before the user dir",
			opts: SearchOptions{GOOS: "linux", HomeDir: "/home/u", ExtraPrefixes: []string{"/envs/a", "/envs/b"},
				Getenv: envFunc(map[string]string{"JUPYTER_PREFER_ENV_PATH": "1", "PYTHONNOUSERSITE": "1"})},
			want: []string{"/envs/a/share/jupyter", "/envs/b/share/jupyter", "/home/u/.local/share/jupyter", "/usr/local/share/jupyter", "/usr/share/jupyter"},
		},
		{
			name: "JUPYTER_PREFER_ENV_PATH=0 keeps user first",
			opts: SearchOptions{GOOS: "linux", HomeDir: "/home/u", ExtraPrefixes: []string{"/envs/a"},
				Getenv: envFunc(map[string]string{"JUPYTER_PREFER_ENV_PATH": "0", "PYTHONNOUSERSITE": "1"})},
			want: []string{"/home/u/.local/share/jupyter", "/envs/a/share/jupyter", "/usr/local/share/jupyter", "/usr/share/jupyter"},
		},
		{
			name: "a prefix that is a system dir is searched once, as a system dir",
			opts: SearchOptions{GOOS: "linux", HomeDir: "/home/u", ExtraPrefixes: []string{"/usr"},
				Getenv: envFunc(map[string]string{"PYTHONNOUSERSITE": "1"})},
			want: []string{"/home/u/.local/share/jupyter", "/usr/local/share/jupyter", "/usr/share/jupyter"},
		},
		{
			name: "macOS",
			opts: SearchOptions{GOOS: "darwin", HomeDir: "/Users/u", ExtraPrefixes: []string{"/opt/env"}, Getenv: envFunc(nil)},
			want: []string{"/Users/u/Library/Jupyter", "/opt/env/share/jupyter", "/usr/local/share/jupyter", "/usr/share/jupyter"},
		},
		{
			name: "windows APPDATA, PROGRAMDATA only when opted in",
			opts: SearchOptions{GOOS: "windows", HomeDir: "/h",
				Getenv: envFunc(map[string]string{"APPDATA": "/appdata", "PROGRAMDATA": "/pd", "JUPYTER_USE_PROGRAMDATA": "1"})},
			want: []string{filepath.Join("/appdata", "jupyter"), filepath.Join("/pd", "jupyter")},
		},
		{
			name: "windows without opt-in has no system dir",
			opts: SearchOptions{GOOS: "windows", HomeDir: "/h", ExtraPrefixes: []string{"/py"},
				Getenv: envFunc(map[string]string{"APPDATA": "/appdata", "PROGRAMDATA": "/pd"})},
			want: []string{filepath.Join("/appdata", "jupyter"), filepath.Join("/py", "share", "jupyter")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DataDirs(tt.opts)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DataDirs (-want +got):\n%s", diff)
			}
		})
	}
}

// writeSpec writes dataDir/kernels/name/kernel.json.
func writeSpec(t *testing.T, dataDir, name, body string) string {
	t.Helper()
	dir := filepath.Join(dataDir, "kernels", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kernel.json"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func spec(display string) string {
	return `{"argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "` + display + `", "language": "python"}`
}

func TestListFirstFoundWinsAndLowercases(t *testing.T) {
	root := t.TempDir()
	jp := filepath.Join(root, "jp")
	user := filepath.Join(root, "user")
	pfx := filepath.Join(root, "venv")
	writeSpec(t, jp, "Shadow", spec("from JUPYTER_PATH"))
	writeSpec(t, user, "shadow", spec("from user"))
	writeSpec(t, user, "onlyuser", spec("user kernel"))
	writeSpec(t, filepath.Join(pfx, "share", "jupyter"), "python3", spec("venv python"))
	writeSpec(t, filepath.Join(pfx, "share", "jupyter"), "onlyuser", spec("shadowed by user"))
	// A directory without kernel.json is not a kernel; a file is not either.
	if err := os.MkdirAll(filepath.Join(user, "kernels", "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := SearchOptions{GOOS: "linux", HomeDir: filepath.Join(root, "home"), ExtraPrefixes: []string{pfx},
		Getenv: envFunc(map[string]string{"JUPYTER_PATH": jp, "JUPYTER_DATA_DIR": user, "PYTHONNOUSERSITE": "1"})}
	specs, err := List(opts)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Name, Display, Dir string }
	var got []row
	for _, s := range specs {
		got = append(got, row{s.Name, s.DisplayName, s.ResourceDir})
	}
	want := []row{
		{"onlyuser", "user kernel", filepath.Join(user, "kernels", "onlyuser")},
		{"python3", "venv python", filepath.Join(pfx, "share", "jupyter", "kernels", "python3")},
		{"shadow", "from JUPYTER_PATH", filepath.Join(jp, "kernels", "Shadow")},
	}
	// /usr/share/jupyter may hold real kernels on this machine: compare only ours.
	var mine []row
	for _, r := range got {
		if strings.HasPrefix(r.Dir, root) {
			mine = append(mine, r)
		}
	}
	if diff := cmp.Diff(want, mine); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}

	s, err := Find("SHADOW", opts)
	if err != nil {
		t.Fatal(err)
	}
	if s.DisplayName != "from JUPYTER_PATH" || s.Name != "shadow" {
		t.Errorf("Find(SHADOW) = %q %q, want the JUPYTER_PATH one named shadow", s.Name, s.DisplayName)
	}
	if _, err := Find("nope", opts); !errors.Is(err, ErrNotFound) {
		t.Errorf("Find(nope) err = %v, want ErrNotFound", err)
	}
}

func TestFixtureSpecs(t *testing.T) {
	data := filepath.Join(testenv.RepoRoot(), "testfixtures", "kernelspecs")
	opts := SearchOptions{GOOS: "linux", HomeDir: t.TempDir(),
		Getenv: envFunc(map[string]string{"JUPYTER_PATH": data, "PYTHONNOUSERSITE": "1"})}
	res := Scan(opts)

	got, ok := findIn(res.Specs, "messagekernel")
	if !ok {
		t.Fatalf("messagekernel not found in %v", res.Specs)
	}
	want := Spec{
		Name: "messagekernel", ResourceDir: filepath.Join(data, "kernels", "messagekernel"),
		DisplayName: "Message Interrupt Kernel", Language: "python", InterruptMode: "message",
		Argv:     []string{"python", "-m", "ipykernel_launcher", "-f", "{connection_file}"},
		Env:      map[string]string{"MCPJ_FIXTURE": "from-kernelspec", "MCPJ_PATH_COPY": "${PATH}", "MCPJ_UNSET": "${MCPJ_DEFINITELY_UNSET}-kept"},
		Metadata: json.RawMessage(`{"debugger": false}`),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messagekernel (-want +got):\n%s", diff)
	}
	mixed, ok := findIn(res.Specs, "mixed-case")
	if !ok || mixed.InterruptMode != "signal" || mixed.DisplayName != "Mixed Case" {
		t.Errorf("mixed-case = %+v (found %v), want signal mode, display Mixed Case", mixed, ok)
	}
	if _, ok := findIn(res.Specs, "broken"); ok {
		t.Error("broken spec listed; want it skipped")
	}
	if len(res.Malformed) != 1 {
		t.Fatalf("malformed = %v, want exactly the broken fixture", res.Malformed)
	}
	m := res.Malformed[0]
	if m.Name != "broken" || m.Path != filepath.Join(data, "kernels", "broken", "kernel.json") ||
		!strings.Contains(m.Error(), "line 4") || !errors.Is(m, ErrMalformed) {
		t.Errorf("malformed report = %v (name %q path %q), want broken's kernel.json with line 4", m, m.Name, m.Path)
	}
	// Find on a broken spec names the file and the reason instead of skipping it.
	if _, err := Find("broken", opts); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "kernel.json") {
		t.Errorf("Find(broken) err = %v, want ErrMalformed naming kernel.json", err)
	}
}

func findIn(specs []Spec, name string) (Spec, bool) {
	for _, s := range specs {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
}

func TestMalformedReasons(t *testing.T) {
	tests := []struct {
		name, body, reason string
	}{
		{"noargv", `{"display_name": "x"}`, `"argv" is missing`},
		{"emptyargv", `{"argv": []}`, `"argv" is missing or empty`},
		{"badmode", `{"argv": ["k"], "interrupt_mode": "poke"}`, `"interrupt_mode" is "poke"`},
		{"wrongtype", `{"argv": "python -m x"}`, `invalid kernel.json`},
		{"badenv", `{"argv": ["k"], "env": {"A": 1}}`, `invalid kernel.json`},
		{"notjson", `argv = python`, `invalid JSON at line 1, column 1`},
	}
	data := t.TempDir()
	for _, tt := range tests {
		writeSpec(t, data, tt.name, tt.body)
	}
	writeSpec(t, data, "good", `{"argv": ["k"], "interrupt_mode": "MESSAGE"}`)
	res := Scan(SearchOptions{GOOS: "linux", HomeDir: t.TempDir(), Getenv: envFunc(map[string]string{"JUPYTER_PATH": data, "PYTHONNOUSERSITE": "1"})})
	reasons := map[string]string{}
	for _, m := range res.Malformed {
		reasons[m.Name] = m.Err.Error()
	}
	for _, tt := range tests {
		if !strings.Contains(reasons[tt.name], tt.reason) {
			t.Errorf("%s: reason %q, want it to contain %q", tt.name, reasons[tt.name], tt.reason)
		}
	}
	good, ok := findIn(res.Specs, "good")
	if !ok || good.InterruptMode != "message" || good.DisplayName != "good" {
		t.Errorf("good = %+v, want interrupt_mode lowercased to message, display name defaulting to the name", good)
	}
}

func TestExpandEnv(t *testing.T) {
	vars := map[string]string{"HOME": "/home/u", "A_1": "x", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"$HOME/bin", "/home/u/bin"},
		{"${HOME}bin", "/home/ubin"},
		{"$A_1-$A_1", "x-x"},
		{"${UNSET}:$UNSET", "${UNSET}:$UNSET"},
		{"$$HOME", "$HOME"},
		{"cost: 5$", "cost: 5$"},
		{"${bad name}", "${bad name}"},
		{"${HOME", "${HOME"},
		{"$1", "$1"},
		{"[$EMPTY]", "[]"},
	}
	for _, tt := range tests {
		if got := ExpandEnv(tt.in, lookup); got != tt.want {
			t.Errorf("ExpandEnv(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEnviron(t *testing.T) {
	base := []string{"PATH=/usr/bin", "KEEP=1", "OVER=old"}
	got := Environ(base, map[string]string{"OVER": "new:$OVER", "PATH": "/k/bin:${PATH}", "NEW": "$NOPE"})
	want := []string{"KEEP=1", "NEW=$NOPE", "OVER=new:old", "PATH=/k/bin:/usr/bin"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Environ (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(base, Environ(base, nil)); diff != "" {
		t.Errorf("Environ without spec env changed base (-want +got):\n%s", diff)
	}
}

// TestMatchesJupyterClient asks the venv's jupyter_client which kernelspecs it
// sees for the same search path and compares names and resource dirs.
func TestMatchesJupyterClient(t *testing.T) {
	py := testenv.Python(t)
	root := t.TempDir()
	jp := filepath.Join(root, "jp")
	user := filepath.Join(root, "user")
	writeSpec(t, jp, "Dup", spec("jp"))
	writeSpec(t, user, "dup", spec("user"))
	writeSpec(t, user, "solo", spec("user"))
	venv := filepath.Dir(filepath.Dir(py))
	cmdEnv := map[string]string{"JUPYTER_PATH": jp, "JUPYTER_DATA_DIR": user, "HOME": filepath.Join(root, "home"),
		"PYTHONNOUSERSITE": "1", "JUPYTER_PREFER_ENV_PATH": "0"}
	out := runPython(t, py, cmdEnv, `import json
from jupyter_client.kernelspec import KernelSpecManager
print(json.dumps(KernelSpecManager(ensure_native_kernel=False).find_kernel_specs()))`)
	var theirs map[string]string
	if err := json.Unmarshal(out, &theirs); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	specs, err := List(SearchOptions{GOOS: "linux", HomeDir: cmdEnv["HOME"], ExtraPrefixes: []string{venv}, Getenv: envFunc(cmdEnv)})
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string]string{}
	for _, s := range specs {
		ours[s.Name] = s.ResourceDir
	}
	if diff := cmp.Diff(theirs, ours); diff != "" {
		t.Errorf("kernelspecs, jupyter_client (-) vs ours (+):\n%s", diff)
	}
}
