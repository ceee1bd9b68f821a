package remote

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
)

// Subprotocol is the binary WebSocket framing of jupyter_server 2.x.
const Subprotocol = "v1.kernel.websocket.jupyter.org"

var errFrame = errors.New("malformed websocket message")

// wireMsg is a message as the server's JSON framing carries it.
type wireMsg struct {
	Header       json.RawMessage `json:"header"`
	ParentHeader json.RawMessage `json:"parent_header"`
	Metadata     json.RawMessage `json:"metadata"`
	Content      json.RawMessage `json:"content"`
	Channel      string          `json:"channel"`
	Buffers      []any           `json:"buffers,omitempty"`
}

// encodeV1 frames a message in the v1 binary protocol: a little-endian
// uint64 count n, n offsets, then channel, header, parent_header, metadata,
// content and buffers; offset i starts part i, the last one ends the data.
func encodeV1(channel string, parts ...[]byte) []byte {
	n := 2 + len(parts) // offsets: start of channel, then the end of each part
	head := 8 * (n + 1)
	size := head + len(channel)
	for _, p := range parts {
		size += len(p)
	}
	out := make([]byte, 0, size)
	out = binary.LittleEndian.AppendUint64(out, uint64(n))
	off := uint64(head)
	out = binary.LittleEndian.AppendUint64(out, off)
	off += uint64(len(channel))
	out = binary.LittleEndian.AppendUint64(out, off)
	for _, p := range parts {
		off += uint64(len(p))
		out = binary.LittleEndian.AppendUint64(out, off)
	}
	out = append(out, channel...)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// decodeV1 parses a v1 binary message.
func decodeV1(b []byte) (kernel.Message, error) {
	if len(b) < 8 {
		return kernel.Message{}, fmt.Errorf("%w: %d bytes", errFrame, len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n < 6 || n+1 > uint64(len(b)/8) {
		return kernel.Message{}, fmt.Errorf("%w: %d offsets", errFrame, n)
	}
	offs := make([]int, n)
	prev := uint64(8 * (n + 1))
	for i := range offs {
		o := binary.LittleEndian.Uint64(b[8*(i+1):])
		if o < prev || o > uint64(len(b)) {
			return kernel.Message{}, fmt.Errorf("%w: offset %d out of range", errFrame, i)
		}
		offs[i], prev = int(o), o
	}
	part := func(i int) []byte { return b[offs[i]:offs[i+1]] }
	m := kernel.Message{Channel: string(part(0)), Metadata: clone(part(3)), Content: clone(part(4))}
	if err := parseHeaders(&m, part(1), part(2)); err != nil {
		return kernel.Message{}, err
	}
	for i := 5; i+1 < len(offs); i++ {
		m.Buffers = append(m.Buffers, clone(part(i)))
	}
	return m, nil
}

// decodeJSON parses a legacy JSON text message.
func decodeJSON(b []byte) (kernel.Message, error) {
	var w wireMsg
	if err := json.Unmarshal(b, &w); err != nil {
		return kernel.Message{}, fmt.Errorf("%w: %v", errFrame, err)
	}
	m := kernel.Message{Channel: w.Channel, Metadata: w.Metadata, Content: w.Content}
	if err := parseHeaders(&m, w.Header, w.ParentHeader); err != nil {
		return kernel.Message{}, err
	}
	return m, nil
}

// decodeLegacyBinary parses the legacy framing of a message with buffers: a
// big-endian uint32 count n, n uint32 offsets; the first part is the JSON
// message, the others its buffers.
func decodeLegacyBinary(b []byte) (kernel.Message, error) {
	if len(b) < 4 {
		return kernel.Message{}, fmt.Errorf("%w: %d bytes", errFrame, len(b))
	}
	n := int(binary.BigEndian.Uint32(b))
	if n < 1 || 4*(n+1) > len(b) {
		return kernel.Message{}, fmt.Errorf("%w: %d parts", errFrame, n)
	}
	offs := make([]int, n+1)
	for i := 0; i < n; i++ {
		offs[i] = int(binary.BigEndian.Uint32(b[4*(i+1):]))
	}
	offs[n] = len(b)
	for i := 0; i < n; i++ {
		if offs[i] < 4*(n+1) || offs[i] > offs[i+1] {
			return kernel.Message{}, fmt.Errorf("%w: offset %d out of range", errFrame, i)
		}
	}
	m, err := decodeJSON(b[offs[0]:offs[1]])
	if err != nil {
		return m, err
	}
	for i := 1; i < n; i++ {
		m.Buffers = append(m.Buffers, clone(b[offs[i]:offs[i+1]]))
	}
	return m, nil
}

func parseHeaders(m *kernel.Message, hb, pb []byte) error {
	if err := json.Unmarshal(hb, &m.Header); err != nil {
		return fmt.Errorf("%w: header: %v", errFrame, err)
	}
	if len(pb) > 2 && string(pb) != "null" {
		if err := json.Unmarshal(pb, &m.ParentHeader); err != nil {
			return fmt.Errorf("%w: parent header: %v", errFrame, err)
		}
	}
	return nil
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
