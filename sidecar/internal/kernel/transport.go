package kernel

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/transport"
)

// zmq4 leaks the net.Conn of a Dial whose ZMTP greeting fails (a kernel still
// setting up resets the connection). Our own transports record every conn a
// socket dials, so a failed Dial and a stopped incarnation close them all.
const (
	tcpScheme = "mcpj-tcp"
	ipcScheme = "mcpj-ipc"
)

var registerOnce sync.Once

func registerTransports() {
	registerOnce.Do(func() {
		if err := zmq4.RegisterTransport(tcpScheme, trackingTransport{transport.New("tcp")}); err != nil {
			panic(fmt.Sprintf("register zmq4 transport: %v", err)) // only on a duplicate name: a programming error
		}
		if err := zmq4.RegisterTransport(ipcScheme, trackingTransport{transport.New("unix")}); err != nil {
			panic(fmt.Sprintf("register zmq4 transport: %v", err))
		}
	})
}

type trackerKey struct{}

// connTracker holds the conns dialed for one socket.
type connTracker struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (t *connTracker) closeAll() {
	t.mu.Lock()
	cs := t.conns
	t.conns = nil
	t.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

func withTracker(ctx context.Context, t *connTracker) context.Context {
	return context.WithValue(ctx, trackerKey{}, t)
}

type trackingTransport struct{ transport.Transport }

func (tt trackingTransport) Dial(ctx context.Context, d transport.Dialer, addr string) (net.Conn, error) {
	c, err := tt.Transport.Dial(ctx, d, addr)
	if err != nil {
		return nil, err
	}
	if t, ok := ctx.Value(trackerKey{}).(*connTracker); ok {
		t.mu.Lock()
		t.conns = append(t.conns, c)
		t.mu.Unlock()
	}
	return c, nil
}
