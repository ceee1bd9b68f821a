package mcpserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/mcpserver"
)

// TestLineTransportOverAStream: the transport `serve` puts on every attach
// socket connection (and `mcp` on stdio) answers bad frames and keeps the
// session: checked here on a plain byte stream, with a small frame limit.
func TestLineTransportOverAStream(t *testing.T) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ss, err := srv.Connect(context.Background(), &mcpserver.LineTransport{Reader: inR, Writer: outW, MaxLineBytes: 1024}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	lines := bufio.NewScanner(outR)
	send := func(s string) {
		go io.WriteString(inW, s+"\n")
	}
	next := func() map[string]any {
		if !lines.Scan() {
			t.Fatal("stream closed")
		}
		var m map[string]any
		if err := json.Unmarshal(lines.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", lines.Text(), err)
		}
		return m
	}
	for _, tc := range []struct {
		line string
		code float64
	}{
		{"not json", -32700},
		{`{"jsonrpc":"2.0","id":1,"method":"ping"`, -32700},
		{`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`, -32600},
		{`{"jsonrpc":"1.0","id":2,"method":"ping"}`, -32600},
		{`{"jsonrpc":"2.0","id":3,"method":"ping","params":{"pad":"` + strings.Repeat("x", 2000) + `"}}`, -32600},
		{`"just a string"`, -32600},
	} {
		send(tc.line)
		m := next()
		e, _ := m["error"].(map[string]any)
		if e == nil || e["code"] != tc.code {
			t.Errorf("%.40q: want error %v, got %v", tc.line, tc.code, m)
		}
		if _, ok := m["id"]; !ok {
			t.Errorf("%.40q: the error must carry an id (null when unknown): %v", tc.line, m)
		}
	}
	send(`{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`)
	if m := next(); m["result"] == nil {
		t.Fatalf("initialize after bad frames: %v", m)
	}
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	send(`{"jsonrpc":"2.0","id":9,"method":"ping"}`)
	if m := next(); m["id"] != float64(9) || m["error"] != nil {
		t.Fatalf("ping: %v", m)
	}
}
