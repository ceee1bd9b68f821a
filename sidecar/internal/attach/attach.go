package attach

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrNotRunning is returned by Find when no sidecar is registered for the workspace.
var ErrNotRunning = errors.New("no running sidecar for this workspace")

// Registration is what serve writes next to its socket.
type Registration struct {
	Socket    string `json:"socket"`
	TokenFile string `json:"tokenFile"`
	PID       int    `json:"pid"`
	Root      string `json:"root"`
}

// Dir is the private directory holding sockets and registrations:
// $XDG_RUNTIME_DIR/mcp-jupyter, else <tmp>/mcp-jupyter-<uid>. It is created
// 0700 and refused when another user owns it or it is open to others.
func Dir() (string, error) {
	base := os.Getenv("XDG_RUNTIME_DIR")
	name := "mcp-jupyter"
	if base == "" {
		base = os.TempDir()
		name = fmt.Sprintf("mcp-jupyter-%d", os.Getuid())
	}
	dir := filepath.Join(base, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("attach dir %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", fmt.Errorf("attach dir %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("attach dir %s is not a directory", dir)
	}
	if err := checkOwner(fi); err != nil {
		return "", fmt.Errorf("attach dir %s: %w", dir, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return "", fmt.Errorf("attach dir %s is accessible to other users and cannot be fixed: %w", dir, err)
		}
	}
	return dir, nil
}

// Key is a short stable name for a folder (its path hashed), used to name
// per-workspace files in Dir.
func Key(root string) string { return key(root) }

func key(root string) string {
	h := sha256.Sum256([]byte(root))
	return hex.EncodeToString(h[:])[:16]
}

// Listener accepts attach connections for one sidecar.
type Listener struct {
	ln     net.Listener
	token  string
	files  []string
	logger *slog.Logger
	wg     sync.WaitGroup
}

// Listen opens the socket and registers it for each workspace root.
func Listen(roots []string, logger *slog.Logger) (*Listener, error) {
	if logger == nil {
		logger = slog.Default()
	}
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("attach token: %w", err)
	}
	tok := hex.EncodeToString(b[:])
	id := fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(b[:4]))
	sock := filepath.Join(dir, id+".sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("attach socket %s: %w", sock, err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("attach socket %s: %w", sock, err)
	}
	l := &Listener{ln: ln, token: tok, logger: logger, files: []string{sock}}
	tokenFile := filepath.Join(dir, id+".token")
	if err := os.WriteFile(tokenFile, []byte(tok), 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("attach token file: %w", err)
	}
	l.files = append(l.files, tokenFile)
	for _, root := range roots {
		reg := Registration{Socket: sock, TokenFile: tokenFile, PID: os.Getpid(), Root: root}
		data, _ := json.Marshal(reg)
		f := filepath.Join(dir, key(root)+".json")
		if err := writeFile0600(f, data); err != nil {
			l.Close()
			return nil, err
		}
		l.files = append(l.files, f)
	}
	return l, nil
}

func writeFile0600(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Socket is the socket path.
func (l *Listener) Socket() string { return l.ln.Addr().String() }

// Serve accepts connections; each one that presents the token is handed to
// serve (which owns the connection) on its own goroutine.
func (l *Listener) Serve(ctx context.Context, serve func(ctx context.Context, conn io.ReadWriteCloser)) error {
	go func() {
		<-ctx.Done()
		l.ln.Close()
	}()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("attach accept: %w", err)
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			br := bufio.NewReader(c)
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			line, err := br.ReadString('\n')
			_ = c.SetReadDeadline(time.Time{})
			if err != nil || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(line)), []byte(l.token)) != 1 {
				l.logger.Warn("attach: refused a connection without the right token")
				c.Close()
				return
			}
			serve(ctx, &bufferedConn{Reader: br, Conn: c})
		}()
	}
}

// Close stops listening and removes the socket and registrations.
func (l *Listener) Close() error {
	err := l.ln.Close()
	for _, f := range l.files {
		_ = os.Remove(f)
	}
	return err
}

type bufferedConn struct {
	*bufio.Reader
	net.Conn
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.Reader.Read(p) }

// Find returns the registration of a live sidecar serving dir (or one of its
// parent folders). Stale registrations (dead socket) are removed.
func Find(dir string) (Registration, error) {
	rdir, err := Dir()
	if err != nil {
		return Registration{}, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Registration{}, err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	for cur := abs; ; cur = filepath.Dir(cur) {
		f := filepath.Join(rdir, key(cur)+".json")
		if data, err := os.ReadFile(f); err == nil {
			var reg Registration
			if json.Unmarshal(data, &reg) == nil {
				if c, err := net.DialTimeout("unix", reg.Socket, 2*time.Second); err == nil {
					c.Close()
					return reg, nil
				}
				_ = os.Remove(f)
			}
		}
		if filepath.Dir(cur) == cur {
			break
		}
	}
	return Registration{}, fmt.Errorf("%w %s", ErrNotRunning, abs)
}

// Dial connects to a registered sidecar and authenticates.
func Dial(reg Registration) (net.Conn, error) {
	tok, err := os.ReadFile(reg.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("attach token: %w", err)
	}
	c, err := net.DialTimeout("unix", reg.Socket, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("attach to %s: %w", reg.Socket, err)
	}
	if _, err := c.Write(append(tok, '\n')); err != nil {
		c.Close()
		return nil, fmt.Errorf("attach to %s: %w", reg.Socket, err)
	}
	return c, nil
}

// MinTokenLength is the shortest bearer token accepted from the user
// (MCP_JUPYTER_TOKEN): a generated one has 48 hex characters.
const MinTokenLength = 32

// CheckToken refuses a user-chosen token too short to resist guessing.
func CheckToken(tok string) error {
	if len(tok) < MinTokenLength {
		return fmt.Errorf("MCP_JUPYTER_TOKEN is %d characters, the minimum is %d: use a random one (e.g. `openssl rand -hex 24`), or unset it and a token is generated", len(tok), MinTokenLength)
	}
	return nil
}
