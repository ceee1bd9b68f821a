package remote

import (
	"encoding/binary"
	"encoding/json"
	"testing"
)

func TestV1FramingRoundTripAndGarbage(t *testing.T) {
	h := []byte(`{"msg_id":"a","msg_type":"display_data","session":"s","username":"u","date":"","version":"5.4"}`)
	p := []byte(`{"msg_id":"req"}`)
	b := encodeV1("iopub", h, p, []byte(`{}`), []byte(`{"data":{}}`), []byte{1, 2, 3}, []byte{})
	m, err := decodeV1(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Channel != "iopub" || m.Header.MsgID != "a" || m.ParentHeader.MsgID != "req" || string(m.Content) != `{"data":{}}` ||
		len(m.Buffers) != 2 || string(m.Buffers[0]) != "\x01\x02\x03" {
		t.Fatalf("round trip: %+v", m)
	}
	// Every truncation and a few forged counts/offsets: an error, never a panic.
	for i := 0; i < len(b); i++ {
		_, _ = decodeV1(b[:i])
	}
	for _, n := range []uint64{0, 5, 6, 7, uint64(len(b) / 8), 1 << 62} {
		c := append([]byte(nil), b...)
		binary.LittleEndian.PutUint64(c, n)
		_, _ = decodeV1(c)
	}
	c := append([]byte(nil), b...)
	binary.LittleEndian.PutUint64(c[16:], 1<<40)
	if _, err := decodeV1(c); err == nil {
		t.Fatal("offset past the end accepted")
	}
	exact := make([]byte, 64) // n = 8 offsets would need 72 bytes of header
	binary.LittleEndian.PutUint64(exact, 8)
	if _, err := decodeV1(exact); err == nil {
		t.Fatal("a header longer than the message accepted")
	}
	// Legacy framings.
	w, _ := json.Marshal(wireMsg{Header: h, ParentHeader: p, Metadata: []byte(`{}`), Content: []byte(`{}`), Channel: "shell"})
	if m, err := decodeJSON(w); err != nil || m.Channel != "shell" || m.Header.MsgType != "display_data" {
		t.Fatalf("json: %+v %v", m, err)
	}
	for i := 0; i < 12; i++ {
		_, _ = decodeLegacyBinary(make([]byte, i))
	}
	lb := binary.BigEndian.AppendUint32(nil, 2)
	lb = binary.BigEndian.AppendUint32(lb, 12)
	lb = binary.BigEndian.AppendUint32(lb, uint32(12+len(w)))
	lb = append(append(lb, w...), 9, 9)
	if m, err := decodeLegacyBinary(lb); err != nil || len(m.Buffers) != 1 || string(m.Buffers[0]) != "\x09\x09" {
		t.Fatalf("legacy binary: %+v %v", m, err)
	}
}
