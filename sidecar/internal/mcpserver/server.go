package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/tools"
)

// Options configure a server.
type Options struct {
	Name, Version string
	Logger        *slog.Logger
}

// New builds an MCP server exposing every tool of reg, backed by core.
// Instructions are the server's instructions to the model. Some clients keep
// only the first ~250 characters (Codex), so the key rule comes first and the
// whole fits in 250.
const Instructions = "Notebooks shared live with a human: address cells by cell_id from get_notebook_outline " +
	"(a stale index is refused with the fresh outline). start_kernel, then run_cell or run_cell_async + " +
	"get_execution_stream. Edits go to the open editor."

func New(reg *tools.Registry, core *tools.Core, opts Options) *mcp.Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Name == "" {
		opts.Name = "mcp-jupyter"
	}
	sopts := &mcp.ServerOptions{
		Logger:       opts.Logger,
		Instructions: Instructions,
		// Only what is true: the tool and resource lists never change while
		// the server runs (and stateless HTTP could not push a change), and
		// the server sends no log messages.
		Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}, Resources: &mcp.ResourceCapabilities{}},
	}
	fixtureOptions(sopts)
	srv := mcp.NewServer(&mcp.Implementation{Name: opts.Name, Title: "MCP Jupyter", Version: opts.Version}, sopts)
	// A tool the policy hides is not listed; calling it anyway gets the reason, not "unknown tool".
	srv.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if call, ok := req.(*mcp.CallToolRequest); ok && call.Params != nil {
				if why, hidden := reg.Disabled(call.Params.Name); hidden {
					return ErrorResult(fmt.Errorf("%w: %s is not available because %s", tools.ErrDisabledTool, call.Params.Name, why)), nil
				}
			}
			return next(ctx, method, req)
		}
	})
	for _, t := range reg.List() {
		addTool(srv, core, t, opts.Logger)
	}
	srv.AddResourceTemplate(&mcp.ResourceTemplate{
		Name:        "execution-outputs",
		Title:       "Execution outputs",
		URITemplate: "notebook://outputs/{task_id}",
		Description: "Raw nbformat outputs of an execution too large to inline in a tool result.",
		MIMEType:    "application/json",
	}, func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		b, ok := core.Blob(req.Params.URI)
		if !ok {
			return nil, mcp.ResourceNotFoundError(req.Params.URI)
		}
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: b.URI, MIMEType: b.MIMEType, Text: string(b.Data)}}}, nil
	})
	srv.AddResourceTemplate(&mcp.ResourceTemplate{
		Name:        "notebook-outline",
		Title:       "Notebook outline",
		URITemplate: "notebook://outline/{path}",
		Description: "Outline of a notebook (path URL-escaped, relative to the workspace or absolute): cell ids, types, titles, execution state.",
		MIMEType:    "application/json",
	}, func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		raw := strings.TrimPrefix(req.Params.URI, "notebook://outline/")
		p, err := url.PathUnescape(raw)
		if err != nil {
			return nil, fmt.Errorf("bad outline uri %q: %w", req.Params.URI, err)
		}
		args, _ := json.Marshal(map[string]string{"notebook_path": p})
		out, err := reg.Invoke(ctx, &tools.Call{Core: core}, "get_notebook_outline", args)
		if err != nil {
			return nil, err
		}
		b, err := json.MarshalIndent(out, "", " ")
		if err != nil {
			return nil, err
		}
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: "application/json", Text: string(b)}}}, nil
	})
	addFixtures(srv)
	return srv
}

func addTool(srv *mcp.Server, core *tools.Core, t *tools.Tool, logger *slog.Logger) {
	// Every hint is stated (the spec's defaults are the unsafe ones): a
	// read-only tool is not destructive; a tool that runs code is open-world.
	openWorld := t.OpenWorld
	destructive := t.Destructive && !t.ReadOnly
	// No outputSchema: tools/list goes out with every agent request (M3:
	// ≤ 24 KB), the output schemas were more than half of it, and a model
	// never reads them: it reads the result, whose text content is written
	// for it (ModelText). structuredContent is still sent for programs.
	srv.AddTool(&mcp.Tool{
		Name:        t.Name,
		Title:       t.Title,
		Description: t.Description,
		InputSchema: t.InputSchema,
		Annotations: &mcp.ToolAnnotations{ // the title is the tool's own, not repeated here
			ReadOnlyHint:    t.ReadOnly,
			DestructiveHint: &destructive,
			IdempotentHint:  t.Idempotent,
			OpenWorldHint:   &openWorld,
		},
	}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		call := &tools.Call{Core: core, Agent: agentOf(req)}
		if token := req.Params.GetProgressToken(); token != nil && req.Session != nil {
			call.Progress = func(progress, total float64, message string) {
				// Progress is advisory: a failed notification must not fail the tool.
				_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token, Progress: progress, Total: total, Message: message})
			}
		}
		start := time.Now()
		out, err := t.Invoke(ctx, call, req.Params.Arguments)
		// Server-side time, so benchmarks can tell tool cost from transport cost.
		meta := mcp.Meta{"mcp-jupyter/serverMs": float64(time.Since(start).Microseconds()) / 1000}
		if err != nil {
			logger.Debug("tool failed", "tool", t.Name, "err", err)
			res := ErrorResult(err)
			res.Meta = meta
			return res, nil
		}
		res, err := Result(out)
		if res != nil {
			res.Meta = meta
		}
		return res, err
	})
}

// Result renders a tool's output: structuredContent plus a text fallback, and
// resource_link items for anything moved to a resource, image items for a vision model.
func Result(out any) (*mcp.CallToolResult, error) {
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("marshal tool output: %w", err)
	}
	res := &mcp.CallToolResult{StructuredContent: json.RawMessage(b)}
	text := string(b)
	if m, ok := out.(interface{ ModelText() string }); ok {
		text = m.ModelText()
	}
	res.Content = []mcp.Content{&mcp.TextContent{Text: text}}
	if l, ok := out.(interface{ ResourceLinks() []tools.Link }); ok {
		for _, link := range l.ResourceLinks() {
			res.Content = append(res.Content, &mcp.ResourceLink{URI: link.URI, Name: link.Name, MIMEType: link.MIMEType, Description: link.Description})
		}
	}
	if im, ok := out.(tools.Imager); ok {
		for _, img := range im.ModelImages() {
			res.Content = append(res.Content, &mcp.ImageContent{Data: img.Data, MIMEType: img.MIMEType})
		}
	}
	return res, nil
}

// ErrorResult is a failed call as the model sees it: isError and the reason.
func ErrorResult(err error) *mcp.CallToolResult {
	msg := err.Error()
	if errors.Is(err, context.Canceled) {
		msg = "cancelled: " + msg
	}
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: msg}}}
}

// agentOf names the agent session behind a call, for its view of notebooks
// (tools/view.go): the HTTP session id (one shared view for stateless HTTP
// clients), else the MCP session itself (a stdio process, an attach connection).
func agentOf(req *mcp.CallToolRequest) string {
	if req.Extra != nil && req.Extra.Header != nil {
		return "http:" + req.Extra.Header.Get("Mcp-Session-Id")
	}
	return fmt.Sprintf("mcp:%p", req.Session)
}
