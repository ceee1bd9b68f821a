package checkpoint

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernelpy"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/workspace"
)

//go:embed py/checkpoint.py
var pySource string

var module = kernelpy.Module{Name: "checkpoint", Source: pySource}

// FormatVersion is the manifest format this package writes and reads.
const FormatVersion = 1

var (
	ErrNotFound    = errors.New("checkpoint not found")
	ErrInvalidName = errors.New("invalid checkpoint name")
	// ErrTampered: the manifest or a blob changed after signing; nothing was loaded.
	ErrTampered = errors.New("checkpoint failed verification")
	// ErrForeignKey: signed with another key (another user or machine); nothing was loaded.
	ErrForeignKey = errors.New("checkpoint signed with a different key")
	// ErrCorrupt: unreadable or truncated; nothing was loaded.
	ErrCorrupt = errors.New("checkpoint is corrupt")
)

// Suggestion is offered when some variables could not be saved.
const Suggestion = "Delete these variables (del var_name) or recreate them after reload."

// Variable is one saved variable.
type Variable struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Serializer string `json:"serializer"`         // pickle | dill
	Digest     string `json:"digest"`             // sha256 of the blob file
	Size       int64  `json:"size"`               // blob bytes
	AliasOf    string `json:"alias_of,omitempty"` // another name bound to the same object
}

// Failure is a variable that could not be saved (or loaded), with the reason.
type Failure struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// String reads like `db_conn (socket): cannot pickle 'socket' object`.
func (f Failure) String() string { return fmt.Sprintf("%s (%s): %s", f.Name, f.Type, f.Reason) }

// RecordEntry is one execution of the kernel's history at save time.
type RecordEntry struct {
	CellID         string `json:"cellId"`
	SourceHash     string `json:"sourceHash"`
	Status         string `json:"status"`
	ExecutionCount int    `json:"executionCount"`
	Origin         string `json:"origin,omitempty"`
}

// Manifest is the signed description of a checkpoint.
type Manifest struct {
	Format    int           `json:"format"`
	Name      string        `json:"name"`
	Notebook  string        `json:"notebook"`
	Created   time.Time     `json:"created"`
	KeyID     string        `json:"keyId"`
	Variables []Variable    `json:"variables"`
	Failed    []Failure     `json:"failed,omitempty"`
	Record    []RecordEntry `json:"record,omitempty"`
	Restarts  int           `json:"restarts"`
}

type envelope struct {
	Manifest json.RawMessage `json:"manifest"`
	HMAC     string          `json:"hmac"`
}

// Store is the checkpoint folder of one notebook directory.
type Store struct {
	root     string // <dir>/.mcp/checkpoints
	notebook string
	key      []byte
	now      func() time.Time
}

// ForNotebook returns the store next to notebookPath, signing with key.
func ForNotebook(notebookPath string, key []byte) *Store {
	abs, err := filepath.Abs(notebookPath)
	if err != nil {
		abs = notebookPath
	}
	return &Store{root: filepath.Join(filepath.Dir(abs), ".mcp", "checkpoints"), notebook: filepath.Base(abs), key: key, now: time.Now}
}

// Root is the checkpoints folder.
func (s *Store) Root() string { return s.root }

func (s *Store) blobDir() string { return filepath.Join(s.root, "blobs") }

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func (s *Store) dir(name string) (string, error) {
	if !nameRE.MatchString(name) || name == "blobs" || strings.HasSuffix(name, ".tmp") {
		return "", fmt.Errorf("%w %q: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", ErrInvalidName, name)
	}
	return filepath.Join(s.root, name), nil
}

// One save/delete at a time per folder: a delete's blob collection must not
// race a save that is reusing those blobs.
var (
	locksMu sync.Mutex
	locks   = map[string]*sync.Mutex{}
)

func (s *Store) lock() func() {
	locksMu.Lock()
	m := locks[s.root]
	if m == nil {
		m = &sync.Mutex{}
		locks[s.root] = m
	}
	locksMu.Unlock()
	m.Lock()
	return m.Unlock
}

// SaveOptions tune a save.
type SaveOptions struct {
	Names    []string      // only these variables (all when empty)
	Full     bool          // serialize every variable even when it looks unchanged
	Record   []RecordEntry // the kernel's execution record, kept in the manifest
	Restarts int
}

// SaveResult reports a save.
type SaveResult struct {
	Manifest   Manifest
	Written    int // blobs written by this save
	Reused     int // variables whose blob was reused without serializing
	Suggestion string
}

type pySaved struct {
	Variables []struct {
		Variable
		Written bool `json:"written"`
	} `json:"variables"`
	Failed  []Failure `json:"failed"`
	Written int       `json:"written"`
	Reused  int       `json:"reused"`
}

// Save asks the kernel to write every variable's blob, then writes the signed manifest.
func (s *Store) Save(ctx context.Context, run kernelpy.Runner, name string, opts SaveOptions) (*SaveResult, error) {
	dir, err := s.dir(name)
	if err != nil {
		return nil, err
	}
	unlock := s.lock()
	defer unlock()
	// The store's folders must be its own: a .mcp/checkpoints/blobs planted
	// as a link would send the blobs (and the leftover cleanup below) outside.
	if _, err := s.realDirs(true, ""); err != nil {
		return nil, err
	}
	if _, err := realDir(dir, false); err != nil {
		return nil, err
	}
	if err := ensureGitignore(filepath.Dir(filepath.Dir(s.root))); err != nil {
		return nil, err
	}
	// Leftovers of a save that was killed: never referenced by a manifest.
	_ = os.RemoveAll(filepath.Join(s.blobDir(), "tmp"))
	var res pySaved
	args := map[string]any{"blob_dir": s.blobDir(), "names": opts.Names, "full": opts.Full}
	if err := module.Call(ctx, run, "save", args, &res); err != nil {
		return nil, fmt.Errorf("save checkpoint %q: %w", name, err)
	}
	m := Manifest{
		Format: FormatVersion, Name: name, Notebook: s.notebook, Created: s.now().UTC().Round(time.Millisecond),
		KeyID: keyID(s.key), Failed: res.Failed, Record: opts.Record, Restarts: opts.Restarts,
		Variables: []Variable{},
	}
	for _, v := range res.Variables {
		if !validDigest(v.Digest) {
			return nil, fmt.Errorf("save checkpoint %q: kernel returned a bad digest for %s", name, v.Name)
		}
		m.Variables = append(m.Variables, v.Variable)
	}
	sort.Slice(m.Variables, func(i, j int) bool { return m.Variables[i].Name < m.Variables[j].Name })
	if err := s.writeManifest(dir, m); err != nil {
		return nil, fmt.Errorf("save checkpoint %q: %w", name, err)
	}
	out := &SaveResult{Manifest: m, Written: res.Written, Reused: res.Reused}
	if len(res.Failed) > 0 {
		out.Suggestion = Suggestion
	}
	return out, nil
}

func validDigest(d string) bool {
	if len(d) != 64 {
		return false
	}
	_, err := hex.DecodeString(d)
	return err == nil && strings.ToLower(d) == d
}

func (s *Store) writeManifest(dir string, m Manifest) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	// Plain Marshal keeps the compact manifest bytes exactly as signed (an
	// indenting encoder would reformat them).
	env, err := json.Marshal(envelope{Manifest: body, HMAC: sign(s.key, body)})
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	_, statErr := os.Lstat(dir)
	created := statErr != nil
	if _, err := realDir(dir, true); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "manifest.json.tmp-*")
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if _, err := f.Write(env); err != nil {
		f.Close()
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "manifest.json")); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	syncDir(dir)
	if created {
		syncDir(s.root) // each fsync costs milliseconds: only when the folder is new
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // not supported on every platform; the rename is what matters
		d.Close()
	}
}

// Verify reads the manifest of name and checks its signature and that every
// blob is present with its recorded size. Digests are checked by Load.
func (s *Store) Verify(name string) (*Manifest, error) {
	dir, err := s.dir(name)
	if err != nil {
		return nil, err
	}
	if ok, err := s.realDirs(false, name); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("%w: %q in %s", ErrNotFound, name, s.root)
	}
	raw, err := readManifest(filepath.Join(dir, "manifest.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %q in %s", ErrNotFound, name, s.root)
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint %q: %w", name, err)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || len(env.Manifest) == 0 || env.HMAC == "" {
		return nil, fmt.Errorf("%w: %q: manifest unreadable (truncated or not a checkpoint)", ErrCorrupt, name)
	}
	// Decode only the signed bytes, and only after checking them.
	var head struct {
		KeyID string `json:"keyId"`
	}
	_ = json.Unmarshal(env.Manifest, &head)
	want := sign(s.key, env.Manifest)
	if !hmac.Equal([]byte(want), []byte(env.HMAC)) {
		if head.KeyID != "" && head.KeyID != keyID(s.key) {
			return nil, fmt.Errorf("%w: %q was signed with key %s, yours is %s (another user or machine made it); refusing to load it", ErrForeignKey, name, head.KeyID, keyID(s.key))
		}
		return nil, fmt.Errorf("%w: %q: the manifest was modified after it was signed; refusing to load it", ErrTampered, name)
	}
	var m Manifest
	if err := json.NewDecoder(bytes.NewReader(env.Manifest)).Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %q: manifest: %v", ErrCorrupt, name, err)
	}
	if m.Format != FormatVersion {
		return nil, fmt.Errorf("%w: %q has format %d, this sidecar reads %d", ErrCorrupt, name, m.Format, FormatVersion)
	}
	for _, v := range m.Variables {
		if !validDigest(v.Digest) {
			return nil, fmt.Errorf("%w: %q: bad digest for %s", ErrCorrupt, name, v.Name)
		}
		st, err := os.Lstat(filepath.Join(s.blobDir(), v.Digest))
		if err != nil {
			return nil, fmt.Errorf("%w: %q: the blob of %s is missing", ErrCorrupt, name, v.Name)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%w: %q: the blob of %s is not a regular file (a link or device was put in its place); refusing to load it", ErrTampered, name, v.Name)
		}
		if st.Size() != v.Size {
			return nil, fmt.Errorf("%w: %q: the blob of %s is %d bytes, the signed manifest says %d (truncated or replaced); refusing to load it", ErrTampered, name, v.Name, st.Size(), v.Size)
		}
	}
	return &m, nil
}

// LoadResult reports a load.
type LoadResult struct {
	Manifest Manifest
	Loaded   []string
	Failed   []Failure // blobs that verified but could not be unpickled (e.g. a module missing)
	// Timings (seconds) of the kernel's phases: read_verify (read + SHA-256 of
	// every blob), import_wait (value modules still importing after that),
	// unpickle.
	Timings map[string]float64
}

// Load verifies name and restores its variables into the kernel.
func (s *Store) Load(ctx context.Context, run kernelpy.Runner, name string) (*LoadResult, error) {
	m, err := s.Verify(name)
	if err != nil {
		return nil, err
	}
	var res struct {
		Loaded  []string           `json:"loaded"`
		Failed  []Failure          `json:"failed"`
		Timings map[string]float64 `json:"timings"`
	}
	args := map[string]any{"blob_dir": s.blobDir(), "variables": m.Variables}
	if err := module.Call(ctx, run, "load", args, &res); err != nil {
		var pe *kernelpy.PythonError
		if errors.As(err, &pe) && pe.Ename == "BlobVerificationError" {
			return nil, fmt.Errorf("%w: %q: %s; nothing was loaded", ErrTampered, name, pe.Evalue)
		}
		return nil, fmt.Errorf("load checkpoint %q: %w", name, err)
	}
	return &LoadResult{Manifest: *m, Loaded: res.Loaded, Failed: res.Failed, Timings: res.Timings}, nil
}

// Info describes one checkpoint for listing.
type Info struct {
	Name      string    `json:"name"`
	Created   time.Time `json:"created"`
	Variables []string  `json:"variables"`
	Bytes     int64     `json:"bytes"`
	Valid     bool      `json:"valid"`
	Problem   string    `json:"problem,omitempty"`
}

// List returns every checkpoint of the folder, newest first; ones that fail
// verification are listed with the problem.
func (s *Store) List() ([]Info, error) {
	if ok, err := s.realDirs(false, ""); err != nil {
		return nil, err
	} else if !ok {
		return []Info{}, nil
	}
	ents, err := os.ReadDir(s.root)
	if errors.Is(err, fs.ErrNotExist) {
		return []Info{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list checkpoints: %w", err)
	}
	out := []Info{}
	for _, e := range ents {
		if !e.IsDir() || e.Name() == "blobs" {
			continue
		}
		if _, err := os.Lstat(filepath.Join(s.root, e.Name(), "manifest.json")); err != nil {
			continue
		}
		info := Info{Name: e.Name(), Variables: []string{}}
		m, err := s.Verify(e.Name())
		if err != nil {
			info.Problem = err.Error()
		} else {
			info.Valid = true
			info.Created = m.Created
			for _, v := range m.Variables {
				info.Variables = append(info.Variables, v.Name)
				info.Bytes += v.Size
			}
		}
		out = append(out, info)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// Delete removes a checkpoint and the blobs no other checkpoint uses.
func (s *Store) Delete(name string) error {
	dir, err := s.dir(name)
	if err != nil {
		return err
	}
	unlock := s.lock()
	defer unlock()
	if ok, err := s.realDirs(false, name); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: %q in %s", ErrNotFound, name, s.root)
	}
	if _, err := os.Lstat(filepath.Join(dir, "manifest.json")); err != nil {
		return fmt.Errorf("%w: %q in %s", ErrNotFound, name, s.root)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("delete checkpoint %q: %w", name, err)
	}
	return s.collect()
}

// collect deletes blobs referenced by no manifest. A manifest that cannot be
// read keeps every blob: never lose data because of one bad file.
func (s *Store) collect() error {
	ents, err := os.ReadDir(s.root)
	if err != nil {
		return fmt.Errorf("collect blobs: %w", err)
	}
	used := map[string]bool{}
	for _, e := range ents {
		if !e.IsDir() || e.Name() == "blobs" {
			continue
		}
		raw, err := readManifest(filepath.Join(s.root, e.Name(), "manifest.json"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		var env envelope
		var m Manifest
		if err != nil || json.Unmarshal(raw, &env) != nil || json.Unmarshal(env.Manifest, &m) != nil {
			return nil
		}
		for _, v := range m.Variables {
			used[v.Digest] = true
		}
	}
	blobs, err := os.ReadDir(s.blobDir())
	if err != nil {
		return nil
	}
	for _, b := range blobs {
		if !b.IsDir() && validDigest(b.Name()) && !used[b.Name()] {
			_ = os.Remove(filepath.Join(s.blobDir(), b.Name()))
		}
	}
	return nil
}

// ensureGitignore adds `.mcp/` to dir's .gitignore unless a line already
// mentions .mcp (including a negation: the user's choice wins).
func ensureGitignore(dir string) error {
	path := filepath.Join(dir, ".gitignore")
	// A .gitignore that is a link (or a FIFO, device, huge file) is left
	// alone: appending through a link would write to a file outside the
	// folder, reading a FIFO would hang. The checkpoint still saves.
	if st, err := os.Lstat(path); err == nil && (!st.Mode().IsRegular() || st.Size() > maxGitignoreBytes) {
		return nil
	}
	data, err := workspace.ReadRegular(path, workspace.ReadOptions{Max: maxGitignoreBytes, NoFollow: true})
	if errors.Is(err, workspace.ErrNotRegular) || errors.Is(err, workspace.ErrTooLarge) {
		return nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		l = strings.TrimPrefix(strings.TrimPrefix(l, "!"), "/")
		if l == ".mcp" || l == ".mcp/" || strings.HasPrefix(l, ".mcp/") {
			return nil
		}
	}
	add := ".mcp/\n"
	if len(data) > 0 && data[len(data)-1] != '\n' {
		add = "\n" + add
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|workspace.NoFollowFlag, 0o644)
	if err != nil {
		return fmt.Errorf("update %s: %w", path, err)
	}
	if _, err := f.WriteString(add); err != nil {
		f.Close()
		return fmt.Errorf("update %s: %w", path, err)
	}
	return f.Close()
}
