package nbsync

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// MetadataKey is the cell metadata key of the stamp.
const MetadataKey = "mcp-jupyter"

// Stamp is written into an executed cell's metadata (`"mcp-jupyter": {...}`).
type Stamp struct {
	SourceHash     string `json:"source_hash"`               // SourceHash of the code that ran
	Origin         string `json:"origin"`                    // agent | human
	Kernel         string `json:"kernel,omitempty"`          // id of the kernel process that ran it
	ExecutionCount int    `json:"execution_count,omitempty"` // the kernel's count for that run
	Status         string `json:"status,omitempty"`          // ok | error
}

// SourceHash identifies a cell's code; whitespace at the ends does not count.
func SourceHash(code string) string {
	sum := sha256.Sum256([]byte(trimSpace(code)))
	return "sha256:" + hex.EncodeToString(sum[:12])
}

func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// StampFor is the stamp of a run by the kernel kernelID.
func StampFor(r Run, kernelID string) Stamp {
	return Stamp{SourceHash: SourceHash(r.Code), Origin: r.Origin, Kernel: kernelID, ExecutionCount: r.ExecutionCount, Status: r.Status}
}

// ReadStamp returns the stamp in a cell's metadata, if any.
func ReadStamp(metadata json.RawMessage) (Stamp, bool) {
	if len(metadata) == 0 {
		return Stamp{}, false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(metadata, &m) != nil {
		return Stamp{}, false
	}
	raw, ok := m[MetadataKey]
	if !ok {
		return Stamp{}, false
	}
	var s Stamp
	if json.Unmarshal(raw, &s) != nil || s.SourceHash == "" {
		return Stamp{}, false
	}
	return s, true
}

// WithStamp returns the cell metadata with the stamp set; other keys are kept.
func WithStamp(metadata json.RawMessage, s Stamp) (json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if len(metadata) > 0 && string(metadata) != "null" {
		if err := json.Unmarshal(metadata, &m); err != nil {
			return nil, fmt.Errorf("cell metadata is not an object: %w", err)
		}
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode stamp: %w", err)
	}
	m[MetadataKey] = raw
	out, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode cell metadata: %w", err)
	}
	return out, nil
}
