package kernel

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

const protocolVersion = "5.4"

var delimiter = []byte("<IDS|MSG>")

// Errors from decoding a received message.
var (
	errBadSignature = errors.New("bad message signature")
	errMalformed    = errors.New("malformed message")
)

// signer computes the HMAC-SHA256 signature of the four signed frames.
type signer struct{ key []byte }

func (s signer) sign(frames ...[]byte) []byte {
	if len(s.key) == 0 {
		return nil
	}
	m := hmac.New(sha256.New, s.key)
	for _, f := range frames {
		m.Write(f)
	}
	sum := m.Sum(nil)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func newHeader(msgType, session string) Header {
	return Header{
		MsgID:    newID(),
		MsgType:  msgType,
		Session:  session,
		Username: "mcp-jupyter",
		Date:     time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"),
		Version:  protocolVersion,
	}
}

// encode builds the wire frames (without routing identities) of a message.
func (s signer) encode(h Header, parent *Header, content any) ([][]byte, error) {
	hb, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encode header: %w", err)
	}
	pb := []byte("{}")
	if parent != nil {
		if pb, err = json.Marshal(parent); err != nil {
			return nil, fmt.Errorf("encode parent header: %w", err)
		}
	}
	var cb []byte
	switch c := content.(type) {
	case json.RawMessage:
		cb = c
	case []byte:
		cb = c
	default:
		if cb, err = json.Marshal(content); err != nil {
			return nil, fmt.Errorf("encode %s content: %w", h.MsgType, err)
		}
	}
	md := []byte("{}")
	return [][]byte{delimiter, s.sign(hb, pb, md, cb), hb, pb, md, cb}, nil
}

// decode verifies and parses received frames. Anything before the delimiter
// (routing identities, a SUB topic) is skipped.
func (s signer) decode(channel string, frames [][]byte) (Message, error) {
	i := 0
	for i < len(frames) && !bytes.Equal(frames[i], delimiter) {
		i++
	}
	if i+6 > len(frames) {
		return Message{}, fmt.Errorf("%w: %d frames, no complete message after <IDS|MSG>", errMalformed, len(frames))
	}
	sig, hb, pb, md, cb := frames[i+1], frames[i+2], frames[i+3], frames[i+4], frames[i+5]
	if len(s.key) > 0 {
		want := s.sign(hb, pb, md, cb)
		if !hmac.Equal(want, sig) {
			return Message{}, errBadSignature
		}
	}
	m := Message{Channel: channel, Metadata: md, Content: cb}
	if err := json.Unmarshal(hb, &m.Header); err != nil {
		return Message{}, fmt.Errorf("%w: header: %v", errMalformed, err)
	}
	if len(pb) > 2 {
		if err := json.Unmarshal(pb, &m.ParentHeader); err != nil {
			return Message{}, fmt.Errorf("%w: parent header: %v", errMalformed, err)
		}
	}
	if rest := frames[i+6:]; len(rest) > 0 {
		m.Buffers = rest
	}
	return m, nil
}
