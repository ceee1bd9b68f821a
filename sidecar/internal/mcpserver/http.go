package mcpserver

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// HTTPHandler serves srv as stateless streamable HTTP (so both the handshake
// era and the sessionless 2026-07-28 revision work), guarded against other local users
// and DNS rebinding: every request needs `Authorization: Bearer <token>`, a
// loopback Host, and (when the browser sends one) a loopback Origin. Refusals
// are 401 (token) or 403 (Host/Origin) before the MCP layer sees the request.
func HTTPHandler(srv *mcp.Server, token string, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	inner := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Logger: logger, Stateless: statelessHTTP})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			logger.Warn("mcp http: refused foreign Host", "host", r.Host)
			http.Error(w, "forbidden: Host must be a loopback address (127.0.0.1, ::1 or localhost)", http.StatusForbidden)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" && !loopbackOrigin(origin) {
			logger.Warn("mcp http: refused foreign Origin", "origin", origin)
			http.Error(w, "forbidden: cross-origin requests are not allowed", http.StatusForbidden)
			return
		}
		// Auth schemes are case-insensitive (RFC 9110 §11.1): "bearer" is "Bearer".
		scheme, got, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		got = strings.TrimSpace(got)
		if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mcp-jupyter"`)
			http.Error(w, "unauthorized: send Authorization: Bearer <token> (the token mcp-jupyter printed or wrote to its token file)", http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodPost {
			inner.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, DefaultMaxLineBytes+1))
		if err != nil {
			writeRPCError(w, http.StatusBadRequest, "null", jsonrpc.CodeParseError, "failed to read the request body: "+err.Error())
			return
		}
		if len(body) > DefaultMaxLineBytes {
			writeRPCError(w, http.StatusRequestEntityTooLarge, "null", jsonrpc.CodeInvalidRequest, fmt.Sprintf("request body longer than %d bytes", DefaultMaxLineBytes))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		cw := &catchPlain{ResponseWriter: w}
		inner.ServeHTTP(cw, r)
		if cw.caught {
			code, status := classifyPlain(cw.buf.String())
			writeRPCError(w, status, requestID(body, code), code, strings.TrimSpace(cw.buf.String()))
		}
	})
}

// catchPlain holds back the SDK's text/plain 400 answers (unknown method,
// malformed payload, batch) so they can go out as JSON-RPC error objects.
type catchPlain struct {
	http.ResponseWriter
	caught bool
	buf    bytes.Buffer
}

func (c *catchPlain) WriteHeader(status int) {
	if status == http.StatusBadRequest && strings.HasPrefix(c.Header().Get("Content-Type"), "text/plain") {
		c.caught = true
		c.Header().Del("Content-Type")
		c.Header().Del("X-Content-Type-Options")
		return
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *catchPlain) Write(p []byte) (int, error) {
	if c.caught {
		return c.buf.Write(p)
	}
	return c.ResponseWriter.Write(p)
}

func (c *catchPlain) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok && !c.caught {
		f.Flush()
	}
}

func (c *catchPlain) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// classifyPlain maps the SDK's plain-text refusal to a JSON-RPC code and HTTP
// status. An unknown method is an ordinary JSON-RPC error (HTTP 200).
func classifyPlain(msg string) (code int64, status int) {
	switch {
	case strings.Contains(msg, "JSON RPC not handled"):
		return jsonrpc.CodeMethodNotFound, http.StatusOK
	case strings.Contains(msg, "malformed payload") && strings.Contains(msg, "json:"):
		return jsonrpc.CodeParseError, http.StatusBadRequest
	}
	return jsonrpc.CodeInvalidRequest, http.StatusBadRequest
}

// requestID is the id of a well-formed single request (for -32601), else null.
func requestID(body []byte, code int64) string {
	if code != jsonrpc.CodeMethodNotFound {
		return "null"
	}
	var head struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(body, &head) != nil || parseID(head.ID) == (jsonrpc.ID{}) {
		return "null"
	}
	return string(head.ID)
}

func writeRPCError(w http.ResponseWriter, status int, id string, code int64, msg string) {
	m, _ := json.Marshal(msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":%d,"message":%s}}`+"\n", id, code, m)
}

// CheckLoopbackAddr refuses listen addresses that are not loopback.
func CheckLoopbackAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w (use 127.0.0.1:PORT)", addr, err)
	}
	if !loopbackName(host) {
		return fmt.Errorf("listen address %q is not loopback: the MCP HTTP server only binds 127.0.0.1, ::1 or localhost", addr)
	}
	return nil
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	return loopbackName(strings.Trim(host, "[]"))
}

func loopbackOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	return loopbackName(u.Hostname())
}

func loopbackName(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
