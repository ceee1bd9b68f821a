package sidecar_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/mcp-jupyter/mcp-jupyter/protocol"
)

// rpcErrorData calls method and returns the application error's code and its
// typed data (decoded into data); the call must fail with a JSON-RPC error.
func rpcErrorData(t *testing.T, e *extension, method string, params, data any) int64 {
	t.Helper()
	err := e.call(method, params, nil)
	var re *jsonrpc2.Error
	if !errors.As(err, &re) {
		t.Fatalf("%s: want a JSON-RPC error, got %v", method, err)
	}
	if re.Data == nil {
		t.Fatalf("%s: error %d %q has no data", method, re.Code, re.Message)
	}
	if err := json.Unmarshal(*re.Data, data); err != nil {
		t.Fatalf("%s: error data %s: %v", method, *re.Data, err)
	}
	return re.Code
}

// TestServeErrorDataFilled: every application error names what it is about in
// its typed data (the extension reads it), not only in the message.
// No kernel is needed: each call fails before one would start.
func TestServeErrorDataFilled(t *testing.T) {
	e := startServe(t)
	e.initialize()

	outside := filepath.Join(filepath.Dir(e.ws), "elsewhere.ipynb")
	var po protocol.PathOutsideWorkspaceData
	if code := rpcErrorData(t, e, protocol.MethodKernelStart, protocol.KernelStartParams{NotebookPath: outside}, &po); code != int64(protocol.CodePathOutsideWorkspace) {
		t.Errorf("kernel/start outside the workspace: code %d", code)
	}
	if want := (protocol.PathOutsideWorkspaceData{Path: outside, WorkspaceFolders: []string{e.ws}}); !reflect.DeepEqual(po, want) {
		t.Errorf("PathOutsideWorkspaceData = %+v, want %+v", po, want)
	}

	var nf protocol.NotFoundData
	if code := rpcErrorData(t, e, protocol.MethodKernelInterrupt, protocol.NotebookParams{NotebookPath: e.nb}, &nf); code != int64(protocol.CodeNotFound) {
		t.Errorf("kernel/interrupt without a kernel: code %d", code)
	}
	if want := (protocol.NotFoundData{Kind: protocol.NotFoundKernel, Name: e.nb}); nf != want {
		t.Errorf("NotFoundData = %+v, want %+v", nf, want)
	}

	nf = protocol.NotFoundData{}
	if code := rpcErrorData(t, e, protocol.MethodExecutionCancel, protocol.ExecutionCancelParams{ExecutionID: "no-such-run"}, &nf); code != int64(protocol.CodeNotFound) {
		t.Errorf("execution/cancel of an unknown id: code %d", code)
	}
	if want := (protocol.NotFoundData{Kind: protocol.NotFoundExecution, Name: "no-such-run"}); nf != want {
		t.Errorf("NotFoundData = %+v, want %+v", nf, want)
	}
}
