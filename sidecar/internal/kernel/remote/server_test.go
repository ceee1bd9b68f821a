package remote

import (
	"os"
	"sync"
	"testing"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel/remote/remotetest"
)

type testServer = remotetest.Server

func tail(s string, n int) string { return remotetest.Tail(s, n) }

func freePort(t testing.TB) int { return remotetest.FreePort(t) }

func client(t *testing.T, s *testServer) *Client {
	t.Helper()
	c, err := NewClient(Config{URL: s.URL, Token: s.Token})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// shared is one server for the tests that do not break it (started by
// the first test that needs it, stopped by TestMain).
var (
	sharedMu  sync.Mutex
	sharedSrv *testServer
)

func sharedServer(t *testing.T) *testServer {
	t.Helper()
	venv := remotetest.Venv(t)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedSrv == nil {
		s := remotetest.Launch(t, venv)
		ok := false
		defer func() {
			if !ok {
				s.Stop(t)
			}
		}()
		s.WaitReady(t)
		ok = true
		sharedSrv = s
	}
	return sharedSrv
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedSrv != nil {
		sharedSrv.Stop(nil)
	}
	os.Exit(code)
}
