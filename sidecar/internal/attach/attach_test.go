package attach_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/attach"
)

func TestListenFindDial(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(root, "notebooks")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := attach.Find(root); !errors.Is(err, attach.ErrNotRunning) {
		t.Fatalf("Find before Listen: %v", err)
	}
	ln, err := attach.Listen([]string{root}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ln.Serve(ctx, func(ctx context.Context, c io.ReadWriteCloser) {
		defer c.Close()
		line, _ := bufio.NewReader(c).ReadString('\n')
		io.WriteString(c, "echo:"+line)
	})
	dir, err := attach.Dir()
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("attach dir mode %v, want 0700", fi.Mode().Perm())
	}
	reg, err := attach.Find(sub) // a folder below the root finds it too
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(reg.TokenFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
	}
	c, err := attach.Dial(reg)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "hello\n")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, _ := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if got != "echo:hello\n" {
		t.Errorf("after the token the connection is the server's: got %q", got)
	}
	// A wrong token is refused: the connection is closed without serving.
	bad := reg
	badTok := filepath.Join(t.TempDir(), "tok")
	os.WriteFile(badTok, []byte("wrong"), 0o600)
	bad.TokenFile = badTok
	c, err = attach.Dial(bad)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "hello\n")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if got, err := bufio.NewReader(c).ReadString('\n'); err == nil {
		t.Errorf("wrong token was served: %q", got)
	}
	c.Close()
	ln.Close()
	if _, err := attach.Find(root); !errors.Is(err, attach.ErrNotRunning) {
		t.Errorf("Find after Close: %v", err)
	}
}
