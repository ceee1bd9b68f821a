//go:build unix

package checkpoint_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/checkpoint"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernelpy/kernelpytest"
)

func TestKillDuringSaveKeepsPreviousCheckpoint(t *testing.T) {
	dir := t.TempDir()
	k := kernelpytest.Start(t, dir)
	st := newStore(t, dir)
	ctx := context.Background()
	k.Run("import numpy as np\nbig = np.arange(1000, dtype=np.int64)\nv = 1")
	if _, err := st.Save(ctx, k.Runner(), "cp", checkpoint.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	reached := filepath.Join(dir, "reached")
	k.Run(fmt.Sprintf(`big = np.ones(20_000_000)
v = 2
class Blocker:
    def __reduce__(self):
        import time
        open(%q, "w").close()
        time.sleep(600)
zz = Blocker()`, reached))
	pid := k.PID()
	done := make(chan error, 1)
	go func() {
		_, err := st.Save(ctx, k.Runner(), "cp", checkpoint.SaveOptions{})
		done <- err
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(reached); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("save never reached the blocking variable")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil {
		t.Fatal("save of a killed kernel reported success")
	} else {
		t.Logf("save failed as expected: %v", err)
	}
	if _, err := st.Verify("cp"); err != nil {
		t.Fatalf("previous checkpoint damaged: %v", err)
	}
	k.Restart()
	if _, err := st.Load(ctx, k.Runner(), "cp"); err != nil {
		t.Fatal(err)
	}
	if out := k.Run("print(v, big.shape)"); strings.TrimSpace(out) != "1 (1000,)" {
		t.Errorf("restored %q", out)
	}
	// The next save cleans the killed save's partial file.
	if _, err := st.Save(ctx, k.Runner(), "cp", checkpoint.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(st.Root(), "blobs", "tmp")); len(ents) != 0 {
		t.Errorf("partial files left: %v", ents)
	}
}
