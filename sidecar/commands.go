package sidecar

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/attach"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/mcpserver"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/rpc"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/session"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/workspace"
)

// newLogger logs to stderr at $MCP_JUPYTER_LOG (debug, info, warn or error),
// else at level. `mcp` over stdio defaults to warn: agent CLIs show a server's
// stderr as errors (Claude Code prints each line as "[ERROR] … Server stderr").
func newLogger(stderr io.Writer, level slog.Level) *slog.Logger {
	if v := os.Getenv("MCP_JUPYTER_LOG"); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			fmt.Fprintf(stderr, "mcp-jupyter: MCP_JUPYTER_LOG=%q is not a level (debug, info, warn, error); using %s\n", v, level)
		}
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// stdio joins stdin and the real stdout into one connection.
type stdio struct {
	io.ReadCloser
	w io.WriteCloser
}

func (s stdio) Write(p []byte) (int, error) { return s.w.Write(p) }
func (s stdio) Close() error {
	err := s.ReadCloser.Close()
	if werr := s.w.Close(); err == nil {
		err = werr
	}
	return err
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func runServe(args []string, stdin io.ReadCloser, stdout io.WriteCloser, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	noAttach := fs.Bool("no-attach", false, "do not open the attach socket for `mcp-jupyter mcp`")
	runtimeDir := fs.String("runtime-dir", "", "where kernel connection records live, so a restarted sidecar re-attaches to kernels that outlived a crash (default: per workspace under the private attach dir; none disables)")
	policy := policyFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logger := newLogger(stderr, slog.LevelInfo)
	slog.SetDefault(logger)
	ctx, cancel := signalContext()
	defer cancel()

	roots, _ := workspace.New()
	mgr := session.NewManager(session.Options{Logger: logger, RuntimeDir: kernelRuntimeDir(*runtimeDir, logger)})
	// Data gravity: kernels a crashed sidecar of this workspace left running
	// (with their variables) come back instead of being lost. In the
	// background: initialize must not wait for a kernel that is slow to
	// answer; calls for that notebook wait for it instead (session.Manager).
	if r, err := mgr.Reattach(ctx); err != nil {
		logger.Warn("re-attach kernels", "err", err)
	} else {
		go func() {
			if ss, err := r.Wait(ctx); err == nil && len(ss) > 0 {
				logger.Info("re-attached kernels left by a previous sidecar", "count", len(ss))
			}
		}()
	}
	core := tools.NewCore(roots, mgr, logger)
	reg := tools.NewRegistry()
	if err := reg.Restrict(policy()); err != nil {
		fmt.Fprintf(stderr, "mcp-jupyter serve: %v\n", err)
		return 2
	}
	mcpSrv := mcpserver.New(reg, core, mcpserver.Options{Version: Version, Logger: logger})

	var ln *attach.Listener
	defer func() {
		if ln != nil {
			ln.Close()
		}
	}()
	srv := rpc.New(reg, core, rpc.Options{Version: Version, Logger: logger, OnInitialize: func(folders []string) string {
		if *noAttach || ln != nil || len(folders) == 0 {
			if ln != nil {
				return ln.Socket()
			}
			return ""
		}
		l, err := attach.Listen(folders, logger)
		if err != nil {
			logger.Warn("attach socket unavailable", "err", err)
			return ""
		}
		ln = l
		go l.Serve(ctx, func(ctx context.Context, conn io.ReadWriteCloser) {
			ss, err := mcpSrv.Connect(ctx, &mcpserver.LineTransport{Reader: conn, Writer: conn, Logger: logger}, nil)
			if err != nil {
				logger.Warn("attach: mcp session", "err", err)
				conn.Close()
				return
			}
			_ = ss.Wait()
		})
		return l.Socket()
	}})
	if err := srv.Serve(ctx, stdio{stdin, stdout}); err != nil {
		logger.Error("serve", "err", err)
		return 1
	}
	return 0
}

// kernelRuntimeDir is the serve command's kernel runtime dir: per workspace
// (the sidecar's working directory, which the extension sets to the first
// workspace folder), so two windows never take each other's kernels.
func kernelRuntimeDir(flagValue string, logger *slog.Logger) string {
	switch flagValue {
	case "none":
		return ""
	case "":
	default:
		return flagValue
	}
	cwd, err := os.Getwd()
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(cwd); err == nil {
		cwd = real
	}
	dir, err := attach.Dir()
	if err != nil {
		logger.Warn("no private runtime dir: kernels will not survive a sidecar crash", "err", err)
		return ""
	}
	return filepath.Join(dir, "kernels-"+attach.Key(cwd))
}

func runMCP(args []string, stdin io.ReadCloser, stdout io.WriteCloser, stderr io.Writer) int {
	fs := flag.NewFlagSet("mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	standalone := fs.Bool("standalone", false, "work headless on the .ipynb files on disk, never attach to a running sidecar")
	httpAddr := fs.String("http", "", "serve streamable HTTP on this loopback address (e.g. 127.0.0.1:8765) instead of stdio")
	wsDir := fs.String("workspace", "", "workspace folder (default: the current directory)")
	policy := policyFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	reg := tools.NewRegistry()
	if err := reg.Restrict(policy()); err != nil {
		fmt.Fprintf(stderr, "mcp-jupyter mcp: %v\n", err)
		return 2
	}
	level := slog.LevelWarn
	if *httpAddr != "" {
		level = slog.LevelInfo
	}
	logger := newLogger(stderr, level)
	slog.SetDefault(logger)
	dir := *wsDir
	if dir == "" {
		var err error
		if dir, err = os.Getwd(); err != nil {
			fmt.Fprintf(stderr, "mcp-jupyter mcp: %v\n", err)
			return 1
		}
	}
	ctx, cancel := signalContext()
	defer cancel()

	if !*standalone && *httpAddr == "" {
		if reg, err := attach.Find(dir); err == nil {
			if p := policy(); p.String() != "" {
				fmt.Fprintf(stderr, "mcp-jupyter mcp: %s applies to a headless server only, and a VS Code window's sidecar runs for %s: "+
					"add --standalone (headless, on the files on disk), or set the policy in VS Code (mcp-jupyter.policy.*)\n", p, dir)
				return 2
			}
			logger.Info("attaching to the workspace's sidecar", "socket", reg.Socket, "pid", reg.PID)
			if err := bridge(ctx, reg, stdin, stdout); err != nil {
				logger.Error("attach", "err", err)
				return 1
			}
			return 0
		} else if !errors.Is(err, attach.ErrNotRunning) {
			logger.Warn("attach lookup failed; running headless", "err", err)
		}
	}

	roots, err := workspace.New(dir)
	if err != nil {
		fmt.Fprintf(stderr, "mcp-jupyter mcp: %v\n", err)
		return 1
	}
	mgr := session.NewManager(session.Options{Logger: logger})
	defer func() {
		closeCtx, c := context.WithTimeout(context.Background(), 30*time.Second)
		defer c()
		mgr.Close(closeCtx)
	}()
	core := tools.NewCore(roots, mgr, logger)
	srv := mcpserver.New(reg, core, mcpserver.Options{Version: Version, Logger: logger})

	if *httpAddr != "" {
		return serveHTTP(ctx, srv, *httpAddr, logger, stderr)
	}
	err = srv.Run(ctx, &mcpserver.LineTransport{Reader: stdin, Writer: stdout, Logger: logger})
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, io.EOF) {
		logger.Error("mcp server", "err", err)
		return 1
	}
	return 0
}

func serveHTTP(ctx context.Context, srv *mcp.Server, addr string, logger *slog.Logger, stderr io.Writer) int {
	if err := mcpserver.CheckLoopbackAddr(addr); err != nil {
		fmt.Fprintf(stderr, "mcp-jupyter mcp: %v\n", err)
		return 2
	}
	token := os.Getenv("MCP_JUPYTER_TOKEN")
	if token != "" {
		if err := attach.CheckToken(token); err != nil {
			fmt.Fprintf(stderr, "mcp-jupyter mcp: %v\n", err)
			return 2
		}
	}
	if token == "" {
		var b [24]byte
		if _, err := rand.Read(b[:]); err != nil {
			fmt.Fprintf(stderr, "mcp-jupyter mcp: token: %v\n", err)
			return 1
		}
		token = hex.EncodeToString(b[:])
		dir, err := attach.Dir()
		if err != nil {
			fmt.Fprintf(stderr, "mcp-jupyter mcp: %v\n", err)
			return 1
		}
		tf := filepath.Join(dir, fmt.Sprintf("http-%d.token", os.Getpid()))
		if err := os.WriteFile(tf, []byte(token), 0o600); err != nil {
			fmt.Fprintf(stderr, "mcp-jupyter mcp: token file: %v\n", err)
			return 1
		}
		defer os.Remove(tf)
		fmt.Fprintf(stderr, "mcp-jupyter: bearer token written to %s\n", tf)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "mcp-jupyter mcp: listen %s: %v\n", addr, err)
		return 1
	}
	hs := &http.Server{Handler: mcpserver.HTTPHandler(srv, token, logger), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "mcp-jupyter: MCP streamable HTTP on http://%s/\n", ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("http", "err", err)
		return 1
	}
	return 0
}

// bridge copies MCP frames between stdio and the sidecar's attach socket.
// policyFlags declares --read-only, --toolsets and --tools on fs.
func policyFlags(fs *flag.FlagSet) func() tools.Policy {
	readOnly := fs.Bool("read-only", false, "offer only the tools that change neither a notebook nor a kernel")
	toolsets := fs.String("toolsets", "", "offer only these groups of tools, comma-separated: "+strings.Join(tools.ToolsetNames(), ", "))
	names := fs.String("tools", "", "offer only these tools (comma-separated), in addition to --toolsets")
	return func() tools.Policy { return tools.ParsePolicy(*readOnly, *toolsets, *names) }
}

func bridge(ctx context.Context, reg attach.Registration, stdin io.Reader, stdout io.Writer) error {
	conn, err := attach.Dial(reg)
	if err != nil {
		return err
	}
	defer conn.Close()
	done := make(chan error, 2)
	go func() {
		_, err := io.Copy(conn, stdin)
		if uc, ok := conn.(*net.UnixConn); ok {
			_ = uc.CloseWrite()
		}
		done <- err
	}()
	go func() {
		_, err := io.Copy(stdout, conn)
		done <- err
	}()
	select {
	case <-ctx.Done():
		return nil
	case err := <-done:
		if err != nil {
			return err
		}
		// stdin ended: wait for the sidecar to finish answering.
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			return nil
		}
	}
}
