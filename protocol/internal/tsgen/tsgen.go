// Package tsgen renders the protocol package as TypeScript for the extension:
// interfaces from the Go types (by reflection, so JSON tags are read exactly
// as encoding/json reads them), TSDoc from the Go doc comments (by parsing the
// source), vscode-jsonrpc method objects and the protocol hash.
package tsgen

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"unicode"

	"github.com/mcp-jupyter/mcp-jupyter/protocol"
)

// Output is what Generate renders.
type Output struct {
	TS   []byte // extension/src/protocol.gen.ts
	Go   []byte // protocol/hash.gen.go
	Hash string
}

// Paths relative to the repository root.
const (
	TSPath     = "extension/src/protocol.gen.ts"
	GoHashPath = "protocol/hash.gen.go"
)

var sourceDirs = []string{"protocol", "notebookmodel"}

// Generate renders the TypeScript and Go hash files from the protocol package,
// reading doc comments from the sources under root (the repository root).
func Generate(root string) (Output, error) {
	src, err := readSource(root)
	if err != nil {
		return Output{}, err
	}
	g := &generator{docs: src.docs, enums: src.enums, fieldTypes: src.fieldTypes, seen: map[reflect.Type]bool{}, names: map[string]reflect.Type{}}
	return g.run()
}

// RepoRoot finds the repository root (the folder holding go.mod) from dir upward.
func RepoRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find repository root from %s: no go.mod", dir)
		}
	}
}

// enum is a Go string type (`type X = string` or `type X string`) and the
// constants declared with that type, rendered as a TypeScript literal union.
type enum struct {
	name   string // "pkg.X"
	values []string
}

// source is what the generator reads from the Go files (not visible to reflection).
type source struct {
	// docs maps "pkg.Name" and "pkg.Type.Field" to their doc comments.
	docs map[string]string
	// enums maps "pkg.X" to the string type X and its constants.
	enums map[string]*enum
	// enumOrder lists enums in declaration order.
	enumOrder []string
	// fieldTypes maps "pkg.Type.Field" to the named type of the field
	// ("pkg.X", through * and []), for fields whose type is a named identifier.
	fieldTypes map[string]string
}

// fieldTypeName names the identifier at the bottom of a field type (X, *X, []X, []*X).
func fieldTypeName(e ast.Expr) string {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.ArrayType:
			e = t.Elt
		case *ast.Ident:
			return t.Name
		default:
			return ""
		}
	}
}

// readSource parses the Go files of sourceDirs for doc comments, string enums
// and the declared types of struct fields.
func readSource(root string) (*source, error) {
	src := &source{docs: map[string]string{}, enums: map[string]*enum{}, fieldTypes: map[string]string{}}
	docs := src.docs
	type constDecl struct {
		typ, value string
	}
	var consts []constDecl
	fset := token.NewFileSet()
	for _, dir := range sourceDirs {
		entries, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil {
			return nil, fmt.Errorf("read docs: %w", err)
		}
		pkg := path.Base(dir)
		for _, e := range entries {
			n := e.Name()
			if !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, filepath.Join(root, dir, n), nil, parser.ParseComments)
			if err != nil {
				return nil, fmt.Errorf("read docs: %w", err)
			}
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok {
					continue
				}
				for _, spec := range gd.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						doc := s.Doc
						if doc == nil && len(gd.Specs) == 1 {
							doc = gd.Doc
						}
						docs[pkg+"."+s.Name.Name] = doc.Text()
						if id, ok := s.Type.(*ast.Ident); ok && id.Name == "string" && s.TypeParams == nil {
							name := pkg + "." + s.Name.Name
							src.enums[name] = &enum{name: name}
							src.enumOrder = append(src.enumOrder, name)
						}
						if st, ok := s.Type.(*ast.StructType); ok {
							for _, fld := range st.Fields.List {
								d := fld.Doc.Text()
								if d == "" {
									d = fld.Comment.Text()
								}
								tn := fieldTypeName(fld.Type)
								for _, name := range fld.Names {
									key := pkg + "." + s.Name.Name + "." + name.Name
									docs[key] = d
									if tn != "" {
										src.fieldTypes[key] = pkg + "." + tn
									}
								}
							}
						}
					case *ast.ValueSpec:
						d := s.Doc.Text()
						if d == "" {
							d = s.Comment.Text()
						}
						for _, name := range s.Names {
							docs[pkg+"."+name.Name] = d
						}
						if id, ok := s.Type.(*ast.Ident); ok && gd.Tok == token.CONST {
							for _, v := range s.Values {
								if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
									val, err := strconv.Unquote(lit.Value)
									if err != nil {
										return nil, fmt.Errorf("read source: %s: %w", lit.Value, err)
									}
									consts = append(consts, constDecl{pkg + "." + id.Name, val})
								}
							}
						}
					}
				}
			}
		}
	}
	for _, c := range consts {
		if e := src.enums[c.typ]; e != nil {
			e.values = append(e.values, c.value)
		}
	}
	for _, name := range src.enumOrder {
		if len(src.enums[name].values) == 0 {
			delete(src.enums, name) // a string type with no constants is not an enum
		}
	}
	return src, nil
}

type generator struct {
	docs       map[string]string
	enums      map[string]*enum
	fieldTypes map[string]string
	usedEnums  []*enum
	seen       map[reflect.Type]bool
	names      map[string]reflect.Type
	order      []reflect.Type
}

var rawMessage = reflect.TypeFor[json.RawMessage]()

func (g *generator) run() (Output, error) {
	for _, m := range protocol.Methods {
		if err := g.collect(m.Params); err != nil {
			return Output{}, err
		}
		if m.Result != nil {
			if err := g.collect(m.Result); err != nil {
				return Output{}, err
			}
		}
	}
	for _, e := range protocol.Errors {
		if e.Data != nil {
			if err := g.collect(e.Data); err != nil {
				return Output{}, err
			}
		}
	}

	var ifaces bytes.Buffer
	w := func(format string, a ...any) { fmt.Fprintf(&ifaces, format, a...) }
	for _, t := range g.order {
		w("\n%s", tsdoc(g.docs[pkgOf(t)+"."+t.Name()], ""))
		if t.NumField() == 0 {
			w("export type %s = Record<string, never>;\n", t.Name())
			continue
		}
		w("export interface %s {\n", t.Name())
		for i := range t.NumField() {
			f := t.Field(i)
			name, optional, skip := jsonName(f)
			if skip {
				continue
			}
			ts, err := g.tsType(f.Type, optional, g.enumOf(pkgOf(t)+"."+t.Name()+"."+f.Name))
			if err != nil {
				return Output{}, fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
			}
			opt := ""
			if optional {
				opt = "?"
			}
			w("%s  %s%s: %s;\n", tsdoc(g.docs[pkgOf(t)+"."+t.Name()+"."+f.Name], "  "), name, opt, ts)
		}
		w("}\n")
	}

	byName := map[string]string{}
	for _, e := range g.usedEnums {
		if other, ok := byName[tsName(e.name)]; ok {
			return Output{}, fmt.Errorf("two protocol enums named %s: %s and %s", tsName(e.name), other, e.name)
		}
		byName[tsName(e.name)] = e.name
		if _, ok := g.names[tsName(e.name)]; ok {
			return Output{}, fmt.Errorf("enum %s has the name of a protocol type", e.name)
		}
	}

	var body bytes.Buffer
	w = func(format string, a ...any) { fmt.Fprintf(&body, format, a...) }
	w("/** Protocol major version (protocol.Version). */\nexport const PROTOCOL_VERSION = %d;\n", protocol.Version)
	for _, e := range g.usedEnums {
		quoted := make([]string, len(e.values))
		for i, v := range e.values {
			quoted[i] = "'" + strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), "'", `\'`) + "'"
		}
		n := tsName(e.name)
		w("\n%sexport type %s = %s;\n", tsdoc(g.docs[e.name], ""), n, strings.Join(quoted, " | "))
		w("/** Every %s, in declaration order. */\nexport const %sValues: readonly %s[] = [%s];\n", n, n, n, strings.Join(quoted, ", "))
	}
	body.Write(ifaces.Bytes())

	w("\n/** Wire names of every method. */\nexport const MethodNames = {\n")
	for _, m := range protocol.Methods {
		w("  %s: '%s',\n", strings.TrimPrefix(m.ConstName, "Method"), m.Name)
	}
	w("} as const;\n")
	for _, dir := range []protocol.Direction{protocol.ToSidecar, protocol.ToExtension} {
		if dir == protocol.ToSidecar {
			w("\n// Extension → sidecar.\n")
		} else {
			w("\n// Sidecar → extension.\n")
		}
		for _, m := range protocol.Methods {
			if m.Direction != dir {
				continue
			}
			doc := tsdoc(g.docs["protocol."+m.ConstName], "")
			base := strings.TrimPrefix(m.ConstName, "Method")
			if m.Notification {
				w("%sexport const %sNotification = new NotificationType<%s>('%s', ParameterStructures.byName);\n",
					doc, base, m.Params.Name(), m.Name)
				continue
			}
			res := "null"
			if m.Result != nil {
				r, err := g.tsType(m.Result, false, nil)
				if err != nil {
					return Output{}, err
				}
				res = r
			}
			w("%sexport const %sRequest = new RequestType<%s, %s, void>('%s', ParameterStructures.byName);\n",
				doc, base, m.Params.Name(), res, m.Name)
		}
	}

	w("\n/** Application error codes (JSON-RPC error.code) of the sidecar and the extension. */\nexport const ErrorCodes = {\n")
	for _, e := range protocol.Errors {
		w("%s  %s: %d,\n", tsdoc(g.docs["protocol."+e.ConstName], "  "), e.Name, int(e.Code))
	}
	w("} as const;\n\n/** The type of error.data for each error code name. */\nexport interface ErrorData {\n")
	for _, e := range protocol.Errors {
		d := "null"
		if e.Data != nil {
			d = e.Data.Name()
		}
		w("  /** error.data of ErrorCodes.%s. */\n  %s: %s;\n", e.Name, e.Name, d)
	}
	w("}\n")

	sum := sha256.Sum256(body.Bytes())
	hash := hex.EncodeToString(sum[:])[:16]

	var ts bytes.Buffer
	ts.WriteString("// Code generated by `go generate ./protocol/...` from protocol/*.go; DO NOT EDIT.\n")
	ts.WriteString("// The Go package github.com/mcp-jupyter/mcp-jupyter/protocol is the single source of this contract.\n\n")
	ts.WriteString("import { NotificationType, ParameterStructures, RequestType } from 'vscode-jsonrpc';\n\n")
	fmt.Fprintf(&ts, "/** Hash of this contract; initialize compares it with the sidecar's (protocol.Hash). */\nexport const PROTOCOL_HASH = '%s';\n\n", hash)
	ts.Write(body.Bytes())

	gosrc := fmt.Sprintf("// Code generated by `go generate ./protocol/...`; DO NOT EDIT.\n\npackage protocol\n\n"+
		"// Hash identifies this exact contract; the extension sends its own in initialize.\nconst Hash = %q\n", hash)
	return Output{TS: ts.Bytes(), Go: []byte(gosrc), Hash: hash}, nil
}

func pkgOf(t reflect.Type) string { return path.Base(t.PkgPath()) }

// tsName is the TypeScript name of "pkg.X": X.
func tsName(qualified string) string { return qualified[strings.LastIndexByte(qualified, '.')+1:] }

// enumOf returns the string enum a struct field ("pkg.Type.Field") is declared
// with, recording it for output; nil when the field's type is not an enum.
func (g *generator) enumOf(field string) *enum {
	e := g.enums[g.fieldTypes[field]]
	if e == nil {
		return nil
	}
	for _, u := range g.usedEnums {
		if u == e {
			return e
		}
	}
	g.usedEnums = append(g.usedEnums, e)
	return e
}

// collect records every named struct type reachable from t, depth first.
func (g *generator) collect(t reflect.Type) error {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		if t == rawMessage {
			return nil
		}
		return g.collect(t.Elem())
	case reflect.Struct:
		if g.seen[t] {
			return nil
		}
		if other, ok := g.names[t.Name()]; ok {
			return fmt.Errorf("two protocol types named %s: %s and %s", t.Name(), other.PkgPath(), t.PkgPath())
		}
		if t.Name() == "" {
			return fmt.Errorf("anonymous struct %s: name it", t)
		}
		g.seen[t], g.names[t.Name()] = true, t
		g.order = append(g.order, t)
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous {
				return fmt.Errorf("%s.%s: embedded fields are not supported", t.Name(), f.Name)
			}
			if _, _, skip := jsonName(f); !skip {
				if err := g.collect(f.Type); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// jsonName reads a field's JSON tag the way encoding/json does.
func jsonName(f reflect.StructField) (name string, omitempty, skip bool) {
	if !f.IsExported() {
		return "", false, true
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false, true
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	for o := range strings.SplitSeq(opts, ",") {
		if o == "omitempty" || o == "omitzero" {
			omitempty = true
		}
	}
	return name, omitempty, false
}

// tsType maps a Go type to TypeScript. A nil pointer, slice or map encodes as
// null unless the field is omitted when empty, so those are typed "| null".
// A string with enum e (the field's declared type) is e's literal union.
func (g *generator) tsType(t reflect.Type, omitted bool, e *enum) (string, error) {
	if t == rawMessage {
		return "unknown", nil
	}
	nullable := func(s string) string {
		if omitted {
			return s
		}
		return s + " | null"
	}
	switch t.Kind() {
	case reflect.String:
		if e != nil {
			return tsName(e.name), nil
		}
		return "string", nil
	case reflect.Bool:
		return "boolean", nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number", nil
	case reflect.Struct:
		return t.Name(), nil
	case reflect.Pointer:
		s, err := g.tsType(t.Elem(), true, e)
		return nullable(s), err
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nullable("string"), nil // encoding/json writes []byte as base64
		}
		s, err := g.tsType(t.Elem(), true, e)
		if strings.Contains(s, " ") {
			s = "(" + s + ")"
		}
		return nullable(s + "[]"), err
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return "", fmt.Errorf("map key %s: only string keys", t.Key())
		}
		s, err := g.tsType(t.Elem(), true, e)
		return nullable("Record<string, " + s + ">"), err
	}
	return "", fmt.Errorf("type %s has no TypeScript mapping", t)
}

// tsdoc renders a Go doc comment as TSDoc.
func tsdoc(doc, indent string) string {
	doc = strings.TrimRightFunc(doc, unicode.IsSpace)
	if doc == "" {
		return ""
	}
	doc = strings.ReplaceAll(doc, "*/", "*\\/")
	lines := strings.Split(doc, "\n")
	if len(lines) == 1 {
		return indent + "/** " + lines[0] + " */\n"
	}
	var b strings.Builder
	b.WriteString(indent + "/**\n")
	for _, l := range lines {
		b.WriteString(strings.TrimRight(indent+" * "+l, " ") + "\n")
	}
	b.WriteString(indent + " */\n")
	return b.String()
}
