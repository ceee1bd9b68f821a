package mcpserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/mcpserver"
)

func TestHTTPGuards(t *testing.T) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	h := mcpserver.HTTPHandler(srv, "s3cret", nil)
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`
	tests := []struct {
		name, host, origin, auth string
		want                     int
	}{
		{"no token", "127.0.0.1:9", "", "", http.StatusUnauthorized},
		{"wrong token", "127.0.0.1:9", "", "Bearer nope", http.StatusUnauthorized},
		{"not bearer", "127.0.0.1:9", "", "Basic s3cret", http.StatusUnauthorized},
		{"foreign host", "evil.example:9", "", "Bearer s3cret", http.StatusForbidden},
		{"rebinding host", "attacker.com", "", "Bearer s3cret", http.StatusForbidden},
		{"foreign origin", "127.0.0.1:9", "https://evil.example", "Bearer s3cret", http.StatusForbidden},
		{"null origin", "127.0.0.1:9", "null", "Bearer s3cret", http.StatusForbidden},
		{"ok", "127.0.0.1:9", "", "Bearer s3cret", http.StatusOK},
		{"ok localhost origin", "localhost:9", "http://localhost:3000", "Bearer s3cret", http.StatusOK},
		{"ok ipv6", "[::1]:9", "", "Bearer s3cret", http.StatusOK},
		{"lower-case scheme", "127.0.0.1:9", "", "bearer s3cret", http.StatusOK},
		{"upper-case scheme", "127.0.0.1:9", "", "BEARER s3cret", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			req.Host = tc.host
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("status %d, want %d: %s", rec.Code, tc.want, rec.Body.String())
			}
		})
	}
}

func TestCheckLoopbackAddr(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:0": true, "localhost:8080": true, "[::1]:1": true, "0.0.0.0:80": false, ":80": false, "192.168.1.2:80": false, "nope": false} {
		if err := mcpserver.CheckLoopbackAddr(addr); (err == nil) != ok {
			t.Errorf("CheckLoopbackAddr(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

// TestHTTPErrorsAreJSONRPC: over HTTP (2025-11-25 era) a frame the server
// cannot serve gets a JSON-RPC error object, not a text/plain 400.
func TestHTTPErrorsAreJSONRPC(t *testing.T) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	h := mcpserver.HTTPHandler(srv, "s3cret", nil)
	for _, tc := range []struct {
		name, body, id string
		code           int64
	}{
		{"unknown method", `{"jsonrpc":"2.0","id":7,"method":"no/such"}`, "7", -32601},
		{"not JSON", `garbage`, "null", -32700},
		{"batch", `[{"jsonrpc":"2.0","id":1,"method":"ping"}]`, "null", -32600},
		{"no jsonrpc", `{"id":"a","method":"ping"}`, "null", -32600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			req.Host = "127.0.0.1:9"
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Authorization", "Bearer s3cret")
			req.Header.Set("MCP-Protocol-Version", "2025-11-25")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("content type %q (status %d): %s", ct, rec.Code, rec.Body.String())
			}
			var resp struct {
				ID    json.RawMessage `json:"id"`
				Error struct {
					Code    int64  `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatalf("not a JSON-RPC object: %v: %s", err, rec.Body.String())
			}
			if resp.Error.Code != tc.code || string(resp.ID) != tc.id {
				t.Errorf("got id %s code %d (%s), want id %s code %d", resp.ID, resp.Error.Code, resp.Error.Message, tc.id, tc.code)
			}
		})
	}
}
