package tools

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/mcp-jupyter/mcp-jupyter/notebookmodel"
)

// diskStore remembers the content hash of each notebook file as this server
// last read or wrote it, so a headless edit can refuse to overwrite changes
// another program made in between.
type diskStore struct {
	mu     sync.Mutex
	hashes map[string]string
	parsed map[string]parsedFile
}

// parsedFile caches the parse of a file's exact content: notebooks are
// immutable values (edits return copies), so a cache hit is always safe.
type parsedFile struct {
	hash string
	nb   *notebookmodel.Notebook
}

func newDiskStore() *diskStore {
	return &diskStore{hashes: map[string]string{}, parsed: map[string]parsedFile{}}
}

// parse returns the notebook for data, reusing the previous parse of path
// when the content is unchanged.
func (d *diskStore) parse(path string, data []byte) (*notebookmodel.Notebook, string, error) {
	h := contentHash(data)
	d.mu.Lock()
	p, ok := d.parsed[path]
	d.mu.Unlock()
	if ok && p.hash == h {
		return p.nb, h, nil
	}
	nb, err := notebookmodel.Parse(data)
	if err != nil {
		return nil, h, err
	}
	d.mu.Lock()
	d.parsed[path] = parsedFile{hash: h, nb: nb}
	d.mu.Unlock()
	return nb, h, nil
}

func contentHash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func (d *diskStore) seen(path, hash string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hashes[path] = hash
}

// last returns the hash recorded for path and whether there is one.
func (d *diskStore) last(path string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	h, ok := d.hashes[path]
	return h, ok
}

// blobStore keeps large outputs that are served as MCP resources instead of
// being inlined in a tool result. Bounded: the oldest entries go first.
type blobStore struct {
	mu    sync.Mutex
	order []string
	blobs map[string]Blob
	size  int
}

// Blob is one stored resource.
type Blob struct {
	URI, Name, MIMEType string
	Data                []byte
}

const blobBudget = 256 << 20

func newBlobStore() *blobStore { return &blobStore{blobs: map[string]Blob{}} }

func (s *blobStore) put(b Blob) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.blobs[b.URI]; ok {
		s.size -= len(old.Data)
	} else {
		s.order = append(s.order, b.URI)
	}
	s.blobs[b.URI] = b
	s.size += len(b.Data)
	for s.size > blobBudget && len(s.order) > 1 {
		oldest := s.order[0]
		s.order = s.order[1:]
		s.size -= len(s.blobs[oldest].Data)
		delete(s.blobs, oldest)
	}
}

func (s *blobStore) get(uri string) (Blob, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.blobs[uri]
	return b, ok
}

// Link points at a resource holding content moved out of a tool result.
type Link struct {
	URI, Name, MIMEType, Description string
}

// Blob returns a stored resource by URI.
func (c *Core) Blob(uri string) (Blob, bool) { return c.blobs.get(uri) }
