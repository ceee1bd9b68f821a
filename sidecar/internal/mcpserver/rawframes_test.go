package mcpserver_test

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
)

// rawServer is the real binary's stdio MCP server driven with raw lines.
type rawServer struct {
	t     *testing.T
	in    io.WriteCloser
	lines chan string
	cmd   *exec.Cmd
}

type rawReply struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Method string `json:"method"`
}

func startRaw(t *testing.T) *rawServer {
	t.Helper()
	ws, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "nb.ipynb"), []byte(nbJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testenv.Binary(t), "mcp", "--standalone", "--workspace", ws)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+t.TempDir())
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &testLogWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &rawServer{t: t, in: in, lines: make(chan string, 64), cmd: cmd}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	t.Cleanup(func() {
		in.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return s
}

type testLogWriter struct{ t *testing.T }

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.t.Logf("server: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (s *rawServer) send(line string) {
	s.t.Helper()
	if _, err := io.WriteString(s.in, line+"\n"); err != nil {
		s.t.Fatalf("write %.80q: %v (the server is gone)", line, err)
	}
}

// next returns the next reply that is not a notification.
func (s *rawServer) next(what string) rawReply {
	s.t.Helper()
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				s.t.Fatalf("%s: the server closed stdout (exited)", what)
			}
			var r rawReply
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				s.t.Fatalf("%s: reply is not JSON: %.200s", what, l)
			}
			if r.Method != "" {
				continue
			}
			return r
		case <-time.After(3 * time.Minute):
			s.t.Fatalf("%s: no reply", what)
		}
	}
}

const rawInit = `{"jsonrpc":"2.0","id":%ID%,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

func (s *rawServer) handshake() {
	s.t.Helper()
	s.send(strings.ReplaceAll(rawInit, "%ID%", `"init"`))
	if r := s.next("initialize"); r.Error != nil {
		s.t.Fatalf("initialize: %+v", r.Error)
	}
	s.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
}

func (s *rawServer) callTool(id, name string, args map[string]any) string {
	s.t.Helper()
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": map[string]any{"name": name, "arguments": args}})
	s.send(string(b))
	r := s.next(name)
	if r.Error != nil {
		s.t.Fatalf("%s: %+v", name, r.Error)
	}
	var res struct {
		IsError bool `json:"isError"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	_ = json.Unmarshal(r.Result, &res)
	var text strings.Builder
	for _, c := range res.Content {
		text.WriteString(c.Text)
	}
	if res.IsError {
		s.t.Fatalf("%s: %s", name, text.String())
	}
	return text.String()
}

// TestStdioSurvivesBadFrames: each malformed frame gets a JSON-RPC error with
// a null id, and the server, its kernel and the kernel's variables survive.
func TestStdioSurvivesBadFrames(t *testing.T) {
	py := testenv.Python(t)
	s := startRaw(t)
	s.handshake()
	s.callTool("k", "start_kernel", map[string]any{"notebook_path": "nb.ipynb", "venv_path": filepath.Dir(filepath.Dir(py))})
	s.callTool("r1", "run_cell", map[string]any{"notebook_path": "nb.ipynb", "code_override": "survivor = 41", "timeout_s": 120})

	bad := []struct {
		name, line string
		code       int64
	}{
		{"not JSON", "this is not json", -32700},
		{"truncated object", `{"jsonrpc":"2.0","id":7,"method":"tools/li`, -32700},
		{"batch array", `[{"jsonrpc":"2.0","id":8,"method":"ping"}]`, -32600},
		{"no jsonrpc member", `{"id":9,"method":"ping"}`, -32600},
		{"not an object", `42`, -32600},
		{"over-long line", `{"jsonrpc":"2.0","id":10,"method":"ping","params":{"pad":"` + strings.Repeat("x", 17<<20) + `"}}`, -32600},
	}
	for _, b := range bad {
		s.send(b.line)
		r := s.next(b.name)
		if r.Error == nil || r.Error.Code != b.code {
			t.Errorf("%s: want error %d, got %+v", b.name, b.code, r.Error)
			continue
		}
		if b.code == -32700 || b.name == "batch array" || b.name == "over-long line" {
			if string(r.ID) != "null" {
				t.Errorf("%s: want id null, got %s", b.name, r.ID)
			}
		}
		t.Logf("%s → %d %s", b.name, r.Error.Code, r.Error.Message)
	}
	s.send(`{"jsonrpc":"2.0","id":"p","method":"ping"}`)
	if r := s.next("ping after bad frames"); r.Error != nil || string(r.ID) != `"p"` {
		t.Fatalf("ping after bad frames: %+v", r)
	}
	out := s.callTool("r2", "run_cell", map[string]any{"notebook_path": "nb.ipynb", "code_override": "print(survivor + 1)", "timeout_s": 120})
	if !strings.Contains(out, "42") {
		t.Fatalf("the kernel lost its state: %s", out)
	}
}

// TestStdioHandshakeErrors: a call before initialize is refused with a proper
// code, and a client that probes with server/discover and falls back to
// initialize is served.
func TestStdioHandshakeErrors(t *testing.T) {
	s := startRaw(t)
	s.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	if r := s.next("tools/list before initialize"); r.Error == nil || r.Error.Code != -32600 || !strings.Contains(r.Error.Message, "initialize") {
		t.Errorf("tools/list before initialize: want -32600 naming initialize, got %+v", r.Error)
	}
	s.send(`{"jsonrpc":"2.0","id":2,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`)
	if r := s.next("server/discover"); r.Error != nil {
		t.Logf("server/discover refused (%+v): the fallback is still tested", r.Error)
	}
	s.send(strings.ReplaceAll(rawInit, "%ID%", "3"))
	r := s.next("initialize after discover")
	if r.Error != nil {
		t.Fatalf("initialize after server/discover refused: %+v", r.Error)
	}
	var init struct {
		ProtocolVersion string                `json:"protocolVersion"`
		Capabilities    json.RawMessage       `json:"capabilities"`
		ServerInfo      struct{ Name string } `json:"serverInfo"`
	}
	_ = json.Unmarshal(r.Result, &init)
	if init.ProtocolVersion != "2025-11-25" || !strings.Contains(string(init.Capabilities), "tools") || init.ServerInfo.Name == "" {
		t.Errorf("fallback initialize result: %s", r.Result)
	}
	s.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	s.send(`{"jsonrpc":"2.0","id":4,"method":"tools/list"}`)
	if r := s.next("tools/list after fallback"); r.Error != nil || !strings.Contains(string(r.Result), "run_cell") {
		t.Errorf("tools/list after the fallback handshake: %+v", r.Error)
	}
	s.send(strings.ReplaceAll(rawInit, "%ID%", "5"))
	if r := s.next("second initialize"); r.Error == nil || r.Error.Code == 0 {
		t.Errorf("a second initialize must be refused with a code: %+v", r.Error)
	}
}
