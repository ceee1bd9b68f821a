package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// DefaultMaxLineBytes bounds one inbound newline-delimited frame (the SDK's default).
const DefaultMaxLineBytes = 16 << 20

// LineTransport is newline-delimited JSON-RPC over a byte stream (stdio, the
// attach socket) that survives bad frames. The SDK's own IOTransport ends the
// session (and, on stdio, the process with its kernels) on the first line it
// cannot decode; this one answers such a line with a JSON-RPC error
// (-32700 not JSON, -32600 not a request: a batch array, no "jsonrpc":"2.0",
// an over-long line) and reads on.
//
// It also fixes two handshake answers of the SDK: errors without a code
// (tools/list before initialize, a second initialize) get -32600, and an
// initialize sent after a 2026-07-28 server/discover (a client that probes,
// then falls back to the handshake) is answered instead of refused.
type LineTransport struct {
	Reader io.ReadCloser
	Writer io.WriteCloser
	// MaxLineBytes bounds one frame; 0 means DefaultMaxLineBytes.
	MaxLineBytes int
	Logger       *slog.Logger
}

// Connect implements mcp.Transport.
func (t *LineTransport) Connect(context.Context) (mcp.Connection, error) {
	max := t.MaxLineBytes
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	logger := t.Logger
	if logger == nil {
		logger = slog.Default()
	}
	c := &lineConn{
		r:        t.Reader,
		w:        t.Writer,
		max:      max,
		logger:   logger,
		incoming: make(chan readResult),
		closed:   make(chan struct{}),
		pending:  map[jsonrpc.ID]string{},
	}
	go c.readLoop()
	return c, nil
}

type readResult struct {
	msg jsonrpc.Message
	err error
}

type lineConn struct {
	r      io.ReadCloser
	w      io.WriteCloser
	max    int
	logger *slog.Logger

	writeMu sync.Mutex

	incoming  chan readResult
	closeOnce sync.Once
	closed    chan struct{}

	mu          sync.Mutex
	pending     map[jsonrpc.ID]string // id → method of handshake calls in flight
	discovered  json.RawMessage       // the last server/discover result
	initialized bool                  // an initialize was answered
}

func (c *lineConn) SessionID() string { return "" }

// readLoop reads frames until the stream ends; bad frames are answered here
// and never reach the session.
func (c *lineConn) readLoop() {
	br := bufio.NewReaderSize(c.r, 64<<10)
	for {
		line, tooLong, err := readLine(br, c.max)
		if tooLong {
			c.reply(jsonrpc.ID{}, jsonrpc.CodeInvalidRequest, fmt.Sprintf("frame longer than %d bytes: dropped (send one JSON-RPC message per line; move large data to a file)", c.max))
		} else if len(bytes.TrimSpace(line)) > 0 {
			if msg := c.parse(line); msg != nil {
				if !c.deliver(readResult{msg: msg}) {
					return
				}
			}
		}
		if err != nil {
			c.deliver(readResult{err: err})
			return
		}
	}
}

func (c *lineConn) deliver(r readResult) bool {
	select {
	case c.incoming <- r:
		return true
	case <-c.closed:
		return false
	}
}

// readLine returns the next line without its newline. A line longer than max
// is discarded up to its newline and reported as tooLong.
func readLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > max+2 { // allow the \r\n
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, tooLong, err
	}
}

// parse turns one line into a message, or answers it and returns nil.
func (c *lineConn) parse(line []byte) jsonrpc.Message {
	line = bytes.TrimSpace(line)
	if !json.Valid(line) {
		var v any
		why := json.Unmarshal(line, &v)
		c.reply(jsonrpc.ID{}, jsonrpc.CodeParseError, fmt.Sprintf("parse error: the line is not JSON (%v)", why))
		return nil
	}
	switch line[0] {
	case '[':
		c.reply(jsonrpc.ID{}, jsonrpc.CodeInvalidRequest, "invalid request: JSON-RPC batches are not supported (MCP 2025-06-18 removed them): send one message per line")
		return nil
	case '{':
	default:
		c.reply(jsonrpc.ID{}, jsonrpc.CodeInvalidRequest, "invalid request: a JSON-RPC message must be a JSON object")
		return nil
	}
	var head struct {
		JSONRPC *string         `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
	}
	_ = json.Unmarshal(line, &head)
	id := parseID(head.ID)
	if head.JSONRPC == nil || *head.JSONRPC != "2.0" {
		c.reply(id, jsonrpc.CodeInvalidRequest, `invalid request: the message must carry "jsonrpc": "2.0"`)
		return nil
	}
	msg, err := jsonrpc.DecodeMessage(line)
	if err != nil {
		c.reply(id, jsonrpc.CodeInvalidRequest, "invalid request: "+err.Error())
		return nil
	}
	if req, ok := msg.(*jsonrpc.Request); ok && req.IsCall() {
		if answered := c.handshake(req); answered {
			return nil
		}
	}
	return msg
}

// parseID returns the request id when it is a valid one, else the null id.
func parseID(raw json.RawMessage) jsonrpc.ID {
	if len(raw) == 0 {
		return jsonrpc.ID{}
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return jsonrpc.ID{}
	}
	id, err := jsonrpc.MakeID(v)
	if err != nil {
		return jsonrpc.ID{}
	}
	return id
}

// handshake tracks initialize and server/discover calls; it answers an
// initialize that follows a discover itself (the SDK refuses it as a second
// initialize) and reports whether it did.
func (c *lineConn) handshake(req *jsonrpc.Request) bool {
	switch req.Method {
	case "server/discover":
		c.mu.Lock()
		c.pending[req.ID] = req.Method
		c.mu.Unlock()
	case "initialize":
		c.mu.Lock()
		discovered, initialized := c.discovered, c.initialized
		c.initialized = true
		c.mu.Unlock()
		if discovered == nil || initialized {
			return false
		}
		res, err := fallbackInitialize(discovered, req.Params)
		if err != nil {
			c.reply(req.ID, jsonrpc.CodeInvalidParams, err.Error())
			return true
		}
		c.send(&jsonrpc.Response{ID: req.ID, Result: res})
		return true
	}
	return false
}

// fallbackInitialize builds the initialize result from what server/discover
// answered: the same capabilities, instructions and server info, and the
// client's protocol version when the server speaks it (else its newest
// handshake-era version).
func fallbackInitialize(discovered, params json.RawMessage) (json.RawMessage, error) {
	var d struct {
		SupportedVersions []string        `json:"supportedVersions"`
		Capabilities      json.RawMessage `json:"capabilities"`
		Instructions      string          `json:"instructions,omitempty"`
		Meta              map[string]any  `json:"_meta"`
	}
	if err := json.Unmarshal(discovered, &d); err != nil {
		return nil, err
	}
	var p struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if err := json.Unmarshal(params, &p); err != nil || p.ProtocolVersion == "" {
		return nil, fmt.Errorf("invalid params: initialize needs params.protocolVersion")
	}
	version := ""
	for _, v := range d.SupportedVersions {
		if v >= "2026-07-28" {
			continue // sessionless revisions have no handshake
		}
		if v == p.ProtocolVersion {
			version = v
			break
		}
		if v > version {
			version = v
		}
	}
	res := map[string]any{"protocolVersion": version, "capabilities": d.Capabilities}
	if d.Instructions != "" {
		res["instructions"] = d.Instructions
	}
	if info, ok := d.Meta[mcp.MetaKeyServerInfo]; ok {
		res["serverInfo"] = info
	}
	return json.Marshal(res)
}

func (c *lineConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-c.incoming:
		return r.msg, r.err
	case <-c.closed:
		return nil, io.EOF
	}
}

func (c *lineConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	default:
	}
	if resp, ok := msg.(*jsonrpc.Response); ok {
		c.observe(resp)
		if resp.Error != nil {
			resp = &jsonrpc.Response{ID: resp.ID, Result: resp.Result, Error: coded(resp.Error)}
		}
		msg = resp
	}
	return c.send(msg)
}

// observe keeps the server/discover result for a later fallback initialize.
func (c *lineConn) observe(resp *jsonrpc.Response) {
	c.mu.Lock()
	defer c.mu.Unlock()
	method, ok := c.pending[resp.ID]
	if !ok {
		return
	}
	delete(c.pending, resp.ID)
	if method == "server/discover" && resp.Error == nil {
		c.discovered = append(json.RawMessage(nil), resp.Result...)
	}
}

// coded gives an SDK error without a JSON-RPC code (which would go out as
// code 0) a proper one, with advice where the SDK's message has none.
func coded(err error) error {
	var w *jsonrpc.Error
	if errors.As(err, &w) && w.Code != 0 {
		return err
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "invalid during session initialization"):
		return &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: msg + ": send initialize (then notifications/initialized) first"}
	case strings.Contains(msg, `duplicate "initialize"`):
		return &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: msg + ": the session is already initialized"}
	}
	return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: msg}
}

// reply answers a frame the session never saw.
func (c *lineConn) reply(id jsonrpc.ID, code int64, message string) {
	c.logger.Warn("mcp: bad frame answered", "code", code, "reason", message)
	_ = c.send(&jsonrpc.Response{ID: id, Error: &jsonrpc.Error{Code: code, Message: message}})
}

func (c *lineConn) send(msg jsonrpc.Message) error {
	data, err := jsonrpc.EncodeMessage(msg)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	if resp, ok := msg.(*jsonrpc.Response); ok && !resp.ID.IsValid() {
		// The SDK omits a null id; JSON-RPC wants "id": null on errors about an unreadable request.
		data = nullID(data)
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_, err = c.w.Write(append(data, '\n'))
	return err
}

func nullID(data []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return data
	}
	if _, ok := m["id"]; ok {
		return data
	}
	m["id"] = json.RawMessage("null")
	out, err := json.Marshal(m)
	if err != nil {
		return data
	}
	return out
}

func (c *lineConn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closed)
		err = errors.Join(c.r.Close(), c.w.Close())
	})
	return err
}
