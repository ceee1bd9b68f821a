package mcpserver

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"

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
	inner := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Logger: logger, Stateless: true})
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
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mcp-jupyter"`)
			http.Error(w, "unauthorized: send Authorization: Bearer <token> (the token mcp-jupyter printed or wrote to its token file)", http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	})
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
