package kernel

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
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

// kernelPortRange is where kernel ports are picked: below (or above) the
// OS's ephemeral range. Every port the OS hands out by itself — bind to port
// 0 in any program, the source port of any outgoing connection — comes from
// that range; a port picked there could be handed to someone else between
// our probe and the kernel's bind. ipykernel then lives on without its
// heartbeat (the bind fails in a thread), which is how a start hung for its
// whole timeout. ok is false when no range of 4096 ports is left outside.
func kernelPortRange() (lo, hi int, ok bool) {
	elo, ehi := ephemeralPortRange()
	const floor = 10000 // clear of the usual fixed service ports
	switch {
	case elo-1-floor >= 4096:
		return floor, elo - 1, true
	case 65535-ehi >= 4096:
		return ehi + 1, 65535, true
	}
	return 0, 0, false
}

// ephemeralPortRange is the OS's range for automatically assigned ports.
func ephemeralPortRange() (lo, hi int) {
	if runtime.GOOS == "linux" {
		if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
			f := strings.Fields(string(b))
			if len(f) == 2 {
				l, err1 := strconv.Atoi(f[0])
				h, err2 := strconv.Atoi(f[1])
				if err1 == nil && err2 == nil && 0 < l && l <= h && h <= 65535 {
					return l, h
				}
			}
		}
		return 32768, 60999
	}
	return 49152, 65535 // IANA: macOS, Windows, the BSDs
}

// freePorts picks n distinct free loopback ports outside the ephemeral
// range, none handed out in the last portQuarantine in this process and none
// held by another of our processes starting a kernel (see portLock). The
// listeners are held until all ports are picked; release frees the
// cross-process locks: call it once the kernel bound its ports.
func freePorts(n int) (ports []int, release func(), err error) {
	ls := make([]net.Listener, 0, n)
	var locks []func()
	release = func() {
		for _, u := range locks {
			u()
		}
	}
	defer func() {
		for _, l := range ls {
			l.Close()
		}
		if err != nil {
			release()
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
	lo, hi, ranged := kernelPortRange()
	for tries := 0; len(ports) < n; tries++ {
		if tries > 200*n {
			return nil, nil, fmt.Errorf("find a free port: only used or recently used ports offered")
		}
		addr := "127.0.0.1:0"
		picked := ranged && tries < 150*n // then let the OS choose
		if picked {
			addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(lo+mrand.IntN(hi-lo+1)))
		}
		l, lerr := net.Listen("tcp", addr)
		if lerr != nil {
			if picked {
				continue // in use (or excluded by the OS): another
			}
			return nil, nil, fmt.Errorf("find a free port: %w", lerr)
		}
		ls = append(ls, l)
		p := l.Addr().(*net.TCPAddr).Port
		if _, recent := recentPorts.at[p]; recent {
			continue
		}
		unlock, ok := portLock(p)
		if !ok {
			continue // another of our processes is starting a kernel on it
		}
		locks = append(locks, unlock)
		ports = append(ports, p)
	}
	for _, p := range ports {
		recentPorts.at[p] = now
	}
	return ports, release, nil
}

// newConnectionInfo makes fresh ports (or ipc paths under dir) with key.
// release frees the ports' cross-process locks: call it once the kernel
// bound them (or gave up).
func newConnectionInfo(transport, dir, base, key, kernelName string) (ci connectionInfo, release func(), err error) {
	ci = connectionInfo{Key: key, Transport: transport, SignatureScheme: "hmac-sha256", KernelName: kernelName}
	release = func() {}
	switch transport {
	case "", "tcp":
		ci.Transport = "tcp"
		ci.IP = "127.0.0.1"
		ps, rel, err := freePorts(5)
		if err != nil {
			return ci, release, err
		}
		release = rel
		ci.ShellPort, ci.IOPubPort, ci.StdinPort, ci.ControlPort, ci.HBPort = ps[0], ps[1], ps[2], ps[3], ps[4]
	case "ipc":
		ci.IP = filepath.Join(dir, base+"-ipc")
		ci.ShellPort, ci.IOPubPort, ci.StdinPort, ci.ControlPort, ci.HBPort = 1, 2, 3, 4, 5
	default:
		return ci, release, fmt.Errorf("unknown transport %q: use tcp or ipc", transport)
	}
	return ci, release, nil
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
