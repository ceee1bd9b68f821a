//go:build js && wasm

// Command wasm is notebookmodel for JavaScript (GOOS=js GOARCH=wasm). Loaded
// with Go's wasm_exec.js, it defines globalThis.mcpJupyterNotebookModel:
//
//	outline(nb), search(nb, query), readCell(nb, ref, opts?), diff(nbA, nbB),
//	applyEdit(nb, edit), fromSnapshot(snapshot), call(method, ...args)
//	open(snapshot), splice(handle, change), outlineOf(handle), searchOf(handle, q),
//	readCellOf(handle, ref, opts?), close(handle)   (jsapi.HandleMethods)
//
// Every argument is a JSON string (objects are JSON.stringify'd first); every
// call returns the JSON envelope string {"ok": …} or {"error": {code, message, …}}
// of package jsapi. The global is ready as soon as go.run(instance) is called.
package main

import (
	"syscall/js"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel/jsapi"
)

const global = "mcpJupyterNotebookModel"

func main() {
	api := js.Global().Get("Object").New()
	stringify := js.Global().Get("JSON").Get("stringify")
	toStrings := func(args []js.Value) []string {
		out := make([]string, len(args))
		for i, a := range args {
			switch a.Type() {
			case js.TypeString:
				out[i] = a.String()
			case js.TypeUndefined, js.TypeNull:
				out[i] = ""
			default:
				out[i] = stringify.Invoke(a).String()
			}
		}
		return out
	}
	for _, m := range append(append([]string{}, jsapi.Methods...), jsapi.HandleMethods...) {
		f := js.FuncOf(func(_ js.Value, args []js.Value) any {
			return jsapi.Call(m, toStrings(args)...)
		})
		api.Set(m, f)
	}
	call := js.FuncOf(func(_ js.Value, args []js.Value) any {
		s := toStrings(args)
		if len(s) == 0 {
			return jsapi.Call("")
		}
		return jsapi.Call(s[0], s[1:]...)
	})
	api.Set("call", call)
	api.Set("methods", js.ValueOf(toAny(jsapi.Methods)))

	js.Global().Set(global, api)
	// The functions live as long as the page or extension host: block
	// forever (they are never released). An idle Go program keeps no timer,
	// so it does not keep Node's event loop alive.
	select {}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
