package kernel

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWireRoundTrip(t *testing.T) {
	s := signer{key: []byte("secret")}
	h := newHeader("execute_request", "sess")
	parent := newHeader("x", "sess")
	frames, err := s.encode(h, &parent, map[string]any{"code": "1"})
	if err != nil {
		t.Fatal(err)
	}
	// A SUB socket sees a topic frame first; a ROUTER peer adds identities.
	in := append([][]byte{[]byte("kernel.abc.status"), []byte("id")}, frames...)
	in = append(in, []byte("buf0"))
	m, err := s.decode("iopub", in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(h, m.Header); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if m.ParentHeader.MsgID != parent.MsgID || string(m.Content) != `{"code":"1"}` || len(m.Buffers) != 1 {
		t.Errorf("decoded %+v", m)
	}
}

func TestWireRejects(t *testing.T) {
	good := signer{key: []byte("secret")}
	forged := signer{key: []byte("other")}
	h := newHeader("stream", "s")
	frames, _ := forged.encode(h, nil, map[string]string{"text": "x"})
	tampered, _ := good.encode(h, nil, map[string]string{"text": "x"})
	tampered[5] = []byte(`{"text":"y"}`)
	tests := []struct {
		name   string
		frames [][]byte
		want   error
	}{
		{"wrong key", frames, errBadSignature},
		{"tampered content", tampered, errBadSignature},
		{"no delimiter", [][]byte{[]byte("a"), []byte("b")}, errMalformed},
		{"truncated", frames[:4], errMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := good.decode("shell", tc.frames); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSubstitute(t *testing.T) {
	got := substitute([]string{"py", "{resource_dir}/k.py", "-f", "{connection_file}", "--x={connection_file}"}, "/r/c.json", "/spec")
	want := []string{"py", "/spec/k.py", "-f", "/r/c.json", "--x=/r/c.json"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func FuzzDecode(f *testing.F) {
	s := signer{key: []byte("k")}
	frames, _ := s.encode(newHeader("status", "s"), nil, map[string]string{"execution_state": "idle"})
	f.Add(frames[2], frames[3], frames[5], true)
	f.Add([]byte("{"), []byte("[]"), []byte("null"), false)
	f.Fuzz(func(t *testing.T, header, parent, content []byte, sign bool) {
		sig := []byte("bad")
		if sign {
			sig = s.sign(header, parent, []byte("{}"), content)
		}
		// Must never panic; a bad signature must never decode.
		_, err := s.decode("iopub", [][]byte{delimiter, sig, header, parent, []byte("{}"), content})
		if !sign && err == nil {
			t.Fatal("unsigned message accepted")
		}
	})
}
