package kernelpy

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Runner runs Python code silently in a kernel (no history, no events) and
// returns what it printed on stdout. A Python exception that escapes the code
// is returned as a *PythonError. session.Session.RunInternal fits behind it.
type Runner func(ctx context.Context, code string) (stdout string, err error)

// PythonError is an exception raised by helper code in the kernel.
type PythonError struct {
	Ename, Evalue string
	Traceback     []string
}

func (e *PythonError) Error() string {
	if e.Evalue == "" {
		return e.Ename
	}
	return e.Ename + ": " + e.Evalue
}

// ErrNoResult means the helper ran but printed no result line: the kernel is
// probably not Python, or its stdout is redirected.
var ErrNoResult = errors.New("helper printed no result (is this a Python kernel?)")

const marker = "@@mcp-jupyter-result@@"

// Module is one embedded helper module.
type Module struct {
	Name   string // e.g. "checkpoint"
	Source string
}

func (m Module) moduleName() string {
	sum := sha256.Sum256([]byte(m.Source))
	return "_mcp_jupyter_" + m.Name + "_" + hex.EncodeToString(sum[:6])
}

// bootstrap loads the module once per kernel and calls fn(args); everything
// runs inside exec with a private globals dict so no user name is touched.
const bootstrap = `
import sys, types, json, base64, traceback
def _mcp_call():
    name = %q
    m = sys.modules.get(name)
    if m is None:
        m = types.ModuleType(name)
        exec(compile(base64.b64decode(%q).decode(), '<mcp-jupyter %s>', 'exec'), m.__dict__)
        sys.modules[name] = m
    try:
        out = {"ok": True, "result": getattr(m, %q)(json.loads(base64.b64decode(%q)))}
    except BaseException as e:
        out = {"ok": False, "ename": type(e).__name__, "evalue": str(e), "traceback": traceback.format_exc().splitlines()}
    sys.stdout.write("\n" + %q + json.dumps(out, separators=(",", ":")) + "\n")
    sys.stdout.flush()
_mcp_call()
`

// Code returns the Python code that calls fn(args) in the module.
func (m Module) Code(fn string, args any) (string, error) {
	a, err := json.Marshal(args)
	if err != nil {
		return "", fmt.Errorf("encode %s.%s arguments: %w", m.Name, fn, err)
	}
	inner := fmt.Sprintf(bootstrap, m.moduleName(), base64.StdEncoding.EncodeToString([]byte(m.Source)), m.Name, fn,
		base64.StdEncoding.EncodeToString(a), marker)
	// exec with fresh globals: the helper's names never enter the user namespace.
	return fmt.Sprintf("exec(compile(%s, '<mcp-jupyter>', 'exec'), {'__name__': '__mcp_jupyter__'})", pyString(inner)), nil
}

// Call runs fn(args) in the kernel and decodes its JSON result into out.
func (m Module) Call(ctx context.Context, run Runner, fn string, args, out any) error {
	code, err := m.Code(fn, args)
	if err != nil {
		return err
	}
	stdout, err := run(ctx, code)
	if err != nil {
		return fmt.Errorf("run %s.%s in the kernel: %w", m.Name, fn, err)
	}
	return m.decode(fn, stdout, out)
}

func (m Module) decode(fn, stdout string, out any) error {
	i := strings.LastIndex(stdout, marker)
	if i < 0 {
		return fmt.Errorf("%s.%s: %w", m.Name, fn, ErrNoResult)
	}
	line := stdout[i+len(marker):]
	if j := strings.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	var env struct {
		OK        bool            `json:"ok"`
		Result    json.RawMessage `json:"result"`
		Ename     string          `json:"ename"`
		Evalue    string          `json:"evalue"`
		Traceback []string        `json:"traceback"`
	}
	if err := json.Unmarshal([]byte(line), &env); err != nil {
		return fmt.Errorf("%s.%s: decode result: %w", m.Name, fn, err)
	}
	if !env.OK {
		return fmt.Errorf("%s.%s: %w", m.Name, fn, &PythonError{Ename: env.Ename, Evalue: env.Evalue, Traceback: env.Traceback})
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return fmt.Errorf("%s.%s: decode result: %w", m.Name, fn, err)
	}
	return nil
}

// pyString is a Python string literal for s (base64, so no escaping rules matter).
func pyString(s string) string {
	return "__import__('base64').b64decode('" + base64.StdEncoding.EncodeToString([]byte(s)) + "').decode()"
}
