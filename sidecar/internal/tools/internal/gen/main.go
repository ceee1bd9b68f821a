// Command gen writes the extension's copy of the tool table from the tool
// core's metadata (tools.Meta): the languageModelTools and
// languageModelToolSets contributions of package.json, and
// extension/src/tools/tools.gen.ts. Run it with `go generate ./sidecar/internal/tools/...`
// (or `make generate`).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tidwall/sjson"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
)

// Paths relative to the repository root.
const (
	packageJSON = "package.json"
	tsPath      = "extension/src/tools/tools.gen.ts"
)

// ToolPrefix turns a tool name into its VS Code language-model tool name.
const toolPrefix = "mcpjupyter_"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tools gen:", err)
		os.Exit(1)
	}
}

func run() error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := repoRoot(wd)
	if err != nil {
		return err
	}
	files, err := generate(root)
	if err != nil {
		return err
	}
	for path, data := range files {
		if err := os.WriteFile(filepath.Join(root, path), data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

// repoRoot finds the folder holding go.mod from dir upward.
func repoRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find repository root from %s: no go.mod", dir)
		}
	}
}

// lmTool is one contributes.languageModelTools entry, fields in the order
// package.json keeps them.
type lmTool struct {
	Name                    string   `json:"name"`
	ToolReferenceName       string   `json:"toolReferenceName"`
	DisplayName             string   `json:"displayName"`
	ModelDescription        string   `json:"modelDescription"`
	UserDescription         string   `json:"userDescription"`
	CanBeReferencedInPrompt bool     `json:"canBeReferencedInPrompt"`
	Icon                    string   `json:"icon"`
	Tags                    []string `json:"tags"`
	InputSchema             any      `json:"inputSchema"`
}

// toolSet is one contributes.languageModelToolSets entry.
type toolSet struct {
	Name          string   `json:"name"`
	ReferenceName string   `json:"referenceName"`
	DisplayName   string   `json:"displayName"`
	Description   string   `json:"description"`
	Icon          string   `json:"icon"`
	Tools         []string `json:"tools"`
}

// generate renders every generated file from tools.NewRegistry, keyed by path.
func generate(root string) (map[string][]byte, error) {
	list := tools.NewRegistry().List() // sorted by name
	if len(list) == 0 {
		return nil, fmt.Errorf("the registry has no tools")
	}
	var lm []lmTool
	var names, readOnly, interrupt []string
	for _, t := range list {
		title := t.Title
		if title == "" {
			title = t.Name
		}
		tags := []string{"jupyter", "notebook", "mcp-jupyter"}
		if t.ReadOnly {
			tags = append(tags, "read-only")
			readOnly = append(readOnly, t.Name)
		}
		if t.InterruptOnCancel {
			interrupt = append(interrupt, t.Name)
		}
		schema, err := vscodeSchema(t)
		if err != nil {
			return nil, err
		}
		lm = append(lm, lmTool{
			Name: toolPrefix + t.Name, ToolReferenceName: t.Name, DisplayName: title,
			ModelDescription: t.Description, UserDescription: title, CanBeReferencedInPrompt: true,
			Icon: "$(notebook)", Tags: tags, InputSchema: schema,
		})
		names = append(names, toolPrefix+t.Name)
	}
	sets := []toolSet{{
		Name: "mcpJupyter", ReferenceName: "jupyter", DisplayName: "MCP Jupyter",
		Description: "Run cells, read and edit the open notebook, inspect and checkpoint the shared kernel.",
		Icon:        "$(notebook)", Tools: names,
	}}

	pkg, err := os.ReadFile(filepath.Join(root, packageJSON))
	if err != nil {
		return nil, err
	}
	for key, v := range map[string]any{"contributes.languageModelTools": lm, "contributes.languageModelToolSets": sets} {
		raw, err := marshal(v)
		if err != nil {
			return nil, err
		}
		if pkg, err = sjson.SetRawBytes(pkg, key, raw); err != nil {
			return nil, fmt.Errorf("set %s: %w", key, err)
		}
	}
	// Re-indent the whole file as `JSON.stringify(pkg, null, 2)` does (npm's
	// layout); json.Indent keeps every key where it is.
	var out bytes.Buffer
	if err := json.Indent(&out, compact(pkg), "", "  "); err != nil {
		return nil, fmt.Errorf("indent %s: %w", packageJSON, err)
	}
	out.WriteByte('\n')

	return map[string][]byte{packageJSON: out.Bytes(), tsPath: renderTS(readOnly, interrupt)}, nil
}

// vscodeSchema is the tool's input schema as VS Code accepts it in
// package.json: the same JSON MCP clients see, without $schema and $id.
func vscodeSchema(t *tools.Tool) (any, error) {
	b, err := json.Marshal(t.InputSchema)
	if err != nil {
		return nil, fmt.Errorf("input schema of %s: %w", t.Name, err)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	// Decoding into maps loses key order; keep the marshalled order instead
	// by deleting the two keys from the raw JSON.
	raw := b
	for _, path := range schemaKeyPaths(v, "") {
		if raw, err = sjson.DeleteBytes(raw, path); err != nil {
			return nil, err
		}
	}
	return json.RawMessage(raw), nil
}

// schemaKeyPaths lists the sjson paths of every $schema and $id key in v, deepest first.
func schemaKeyPaths(v any, prefix string) []string {
	var out []string
	join := func(k string) string {
		k = strings.NewReplacer(".", `\.`, "*", `\*`, "?", `\?`).Replace(k)
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			out = append(out, schemaKeyPaths(c, join(k))...)
			if k == "$schema" || k == "$id" {
				out = append(out, join(k))
			}
		}
	case []any:
		for i, c := range x {
			out = append(out, schemaKeyPaths(c, join(fmt.Sprint(i)))...)
		}
	}
	return out
}

// marshal encodes v without HTML escaping (as JSON.stringify does).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func compact(b []byte) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return b
	}
	return out.Bytes()
}

func renderTS(readOnly, interrupt []string) []byte {
	var b strings.Builder
	b.WriteString("// Code generated by `go generate ./sidecar/internal/tools/...` from the tool core's metadata; DO NOT EDIT.\n\n")
	b.WriteString("/** Prefix of the VS Code language-model tool name of a sidecar tool (\"run_cell\" → \"mcpjupyter_run_cell\"). */\n")
	fmt.Fprintf(&b, "export const ToolPrefix = '%s';\n\n", toolPrefix)
	b.WriteString("/** Tools that change neither the notebook nor the kernel (tools.Meta.ReadOnly): no confirmation. */\n")
	b.WriteString("export const ReadOnlyTools: ReadonlySet<string> = new Set([\n")
	for _, n := range readOnly {
		fmt.Fprintf(&b, "  '%s',\n", n)
	}
	b.WriteString("]);\n\n")
	b.WriteString("/** Tools that run code in the kernel (tools.Meta.InterruptOnCancel): cancelling the call interrupts the kernel too. */\n")
	b.WriteString("export const InterruptOnCancelTools: ReadonlySet<string> = new Set([\n")
	for _, n := range interrupt {
		fmt.Fprintf(&b, "  '%s',\n", n)
	}
	b.WriteString("]);\n")
	return []byte(b.String())
}
