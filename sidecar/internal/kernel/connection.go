package kernel

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// connectionInfo is the Jupyter connection file.
type connectionInfo struct {
	ShellPort       int    `json:"shell_port"`
	IOPubPort       int    `json:"iopub_port"`
	StdinPort       int    `json:"stdin_port"`
	ControlPort     int    `json:"control_port"`
	HBPort          int    `json:"hb_port"`
	IP              string `json:"ip"`
	Key             string `json:"key"`
	Transport       string `json:"transport"`
	SignatureScheme string `json:"signature_scheme"`
	KernelName      string `json:"kernel_name"`
}

func (c connectionInfo) endpoint(port int) string {
	registerTransports()
	if c.Transport == "ipc" {
		return fmt.Sprintf("%s://%s-%d", ipcScheme, c.IP, port)
	}
	return fmt.Sprintf("%s://%s:%d", tcpScheme, c.IP, port)
}

func newKey() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate connection key: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// recentPorts are ports handed out lately: the OS may offer a port again
// as soon as our probe closes it, before the kernel had a chance to bind it.
var recentPorts = struct {
	sync.Mutex
	at map[int]time.Time
}{at: map[int]time.Time{}}

const portQuarantine = 2 * time.Minute

// freePorts asks the OS for n distinct free loopback ports, none handed out
// in the last portQuarantine. The listeners are held until all ports are
// picked so the same port is not handed out twice.
func freePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	recentPorts.Lock()
	defer recentPorts.Unlock()
	now := time.Now()
	for p, t := range recentPorts.at {
		if now.Sub(t) > portQuarantine {
			delete(recentPorts.at, p)
		}
	}
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries > 100*n {
			return nil, fmt.Errorf("find a free port: only recently used ports offered")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		p := l.Addr().(*net.TCPAddr).Port
		if _, recent := recentPorts.at[p]; recent {
			continue
		}
		ports = append(ports, p)
	}
	for _, p := range ports {
		recentPorts.at[p] = now
	}
	return ports, nil
}

// newConnectionInfo makes fresh ports (or ipc paths under dir) with key.
func newConnectionInfo(transport, dir, base, key, kernelName string) (connectionInfo, error) {
	ci := connectionInfo{Key: key, Transport: transport, SignatureScheme: "hmac-sha256", KernelName: kernelName}
	switch transport {
	case "", "tcp":
		ci.Transport = "tcp"
		ci.IP = "127.0.0.1"
		ps, err := freePorts(5)
		if err != nil {
			return ci, err
		}
		ci.ShellPort, ci.IOPubPort, ci.StdinPort, ci.ControlPort, ci.HBPort = ps[0], ps[1], ps[2], ps[3], ps[4]
	case "ipc":
		ci.IP = filepath.Join(dir, base+"-ipc")
		ci.ShellPort, ci.IOPubPort, ci.StdinPort, ci.ControlPort, ci.HBPort = 1, 2, 3, 4, 5
	default:
		return ci, fmt.Errorf("unknown transport %q: use tcp or ipc", transport)
	}
	return ci, nil
}

// writeConnectionFile writes ci to path with mode 0600 (it holds the key).
func writeConnectionFile(path string, ci connectionInfo) error {
	b, err := json.MarshalIndent(ci, "", "  ")
	if err != nil {
		return fmt.Errorf("encode connection file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write connection file: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("chmod connection file: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write connection file: %w", err)
	}
	return f.Close()
}
