//go:build unix

package kernel_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
)

// TestOrphanHelper is not a test: run by TestKernelDiesWithCrashedParent as
// a child process that starts a kernel and exits without shutting it down.
func TestOrphanHelper(t *testing.T) {
	if os.Getenv("KERNEL_TEST_ORPHAN_PY") == "" {
		t.Skip("helper process only")
	}
	spec := kernel.LaunchSpec{Name: "python3", Argv: []string{os.Getenv("KERNEL_TEST_ORPHAN_PY"), "-m", "ipykernel_launcher", "-f", "{connection_file}"}}
	k, err := kernel.Start(context.Background(), spec, kernel.Options{StartTimeout: 90 * time.Second})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println("PID", k.PID())
	os.Exit(0) // a crash: no Shutdown
}

func TestKernelDiesWithCrashedParent(t *testing.T) {
	t.Parallel()
	py := ipykernelSpec(t).Argv[0]
	cmd := exec.Command(os.Args[0], "-test.run=^TestOrphanHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "KERNEL_TEST_ORPHAN_PY="+py)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	pid := 0
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "PID" {
			pid, _ = strconv.Atoi(f[1])
		}
	}
	if pid == 0 {
		t.Fatalf("no kernel pid from helper:\n%s", out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for alive(pid) && !zombieOrGone(pid) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if alive(pid) && !zombieOrGone(pid) {
		t.Errorf("kernel %d outlived its crashed parent", pid)
	}
}

func zombieOrGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}
