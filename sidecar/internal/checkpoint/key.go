package checkpoint

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// KeyFileEnv overrides the key file location (tests, or a user who keeps keys elsewhere).
const KeyFileEnv = "MCP_JUPYTER_CHECKPOINT_KEY_FILE"

const keySize = 32

// KeyPath is where the per-user signing key lives: $MCP_JUPYTER_CHECKPOINT_KEY_FILE,
// else <os.UserConfigDir()>/mcp-jupyter/checkpoint.key.
func KeyPath() (string, error) {
	if p := os.Getenv(KeyFileEnv); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("checkpoint key: no user config directory: %w", err)
	}
	return filepath.Join(dir, "mcp-jupyter", "checkpoint.key"), nil
}

// LoadKey reads the signing key at path, creating it (0600, in a 0700
// directory) on first use.
func LoadKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if err := checkKeyFile(path); err != nil {
			return nil, err
		}
		if len(key) != keySize {
			return nil, fmt.Errorf("checkpoint key %s: %d bytes, want %d (delete it to make a new one; existing checkpoints will no longer load)", path, len(key), keySize)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read checkpoint key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create checkpoint key directory: %w", err)
	}
	key = make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate checkpoint key: %w", err)
	}
	// Written whole to a temp file, then linked into place: link fails if the
	// key appeared meanwhile, so two sidecars starting together agree on one key
	// and no reader ever sees a half-written file.
	f, err := os.CreateTemp(filepath.Dir(path), ".checkpoint.key.tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create checkpoint key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		f.Close()
		return nil, fmt.Errorf("create checkpoint key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("write checkpoint key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("write checkpoint key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write checkpoint key: %w", err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadKey(path)
		}
		// No hard links here (some filesystems): a rename is still atomic.
		if err := os.Rename(tmp, path); err != nil {
			return nil, fmt.Errorf("install checkpoint key: %w", err)
		}
	}
	return key, nil
}

// keyID names a key without revealing it, so a foreign checkpoint can be told
// apart from a tampered one.
func keyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("mcp-jupyter checkpoint key id"))
	return hex.EncodeToString(m.Sum(nil))[:16]
}

func sign(key, manifest []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("mcp-jupyter checkpoint v1\n"))
	m.Write(manifest)
	return hex.EncodeToString(m.Sum(nil))
}

// checkKeyFile refuses a key others could have read (and so could have
// signed checkpoints with): group or world permissions, or another owner.
func checkKeyFile(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("checkpoint key: %w", err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("checkpoint key %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("checkpoint key %s has mode %04o: other users may have read it and signed checkpoints with it, so it is not used. "+
			"Delete it to make a new one (existing checkpoints will no longer load), or if only you could ever read it: chmod 600 %s", path, perm, path)
	}
	if uid, ok := fileOwner(st); ok && uid != os.Getuid() {
		return fmt.Errorf("checkpoint key %s belongs to user %d, not you (%d); not used", path, uid, os.Getuid())
	}
	return nil
}
