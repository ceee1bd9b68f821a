//go:build linux && benchprog

// Command checkpointbench (run by bench/groups/40-checkpoint, built by
// bench/gobuild.sh) measures C1–C3 of BENCHMARKS.md: save_checkpoint and
// load_checkpoint of 1 GiB of numeric state against the disk (dd with fsync,
// in the same folder), dill.dump, and re-running the cell that built the data
// from a CSV. It prints one JSON row per benchmark on stdout.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/checkpoint"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernel"
	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/kernelpy"
)

type row struct {
	ID        string   `json:"id"`
	What      string   `json:"what"`
	Ours      float64  `json:"ours"`
	Reference *float64 `json:"reference"`
	Ratio     *float64 `json:"ratio"`
	Unit      string   `json:"unit"`
	P95Ours   *float64 `json:"p95_ours,omitempty"`
	P95Ref    *float64 `json:"p95_reference,omitempty"`
	Goal      string   `json:"goal"`
	N         int      `json:"n"`
	Note      string   `json:"note"`
}

func emit(r row) {
	if r.Reference != nil && *r.Reference > 0 {
		ratio := round(r.Ours / *r.Reference)
		r.Ratio = &ratio
		ref := round(*r.Reference)
		r.Reference = &ref
	}
	r.Ours = round(r.Ours)
	for _, p := range []*float64{r.P95Ours, r.P95Ref} {
		if p != nil {
			*p = round(*p)
		}
	}
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

var rounds int

func ptr(f float64) *float64 { return &f }

func maxOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func round(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

func main() {
	python := flag.String("python", ".venv/bin/python", "python with ipykernel, numpy, pandas, dill")
	mib := flag.Int("mib", 512, "MiB of the ndarray and of the DataFrame each")
	flag.IntVar(&rounds, "rounds", 3, "measurements per benchmark (interleaved with their references)")
	dir := flag.String("dir", "", "work folder (default: a new temp folder, removed after)")
	flag.Parse()
	if err := run(*python, *mib, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "checkpointbench:", err)
		os.Exit(1)
	}
}

type bench struct {
	ctx  context.Context
	conn *kernel.Local
	run  kernelpy.Runner
	dir  string
}

// cell runs code as a user cell (history, post_run_cell hooks) and returns stdout.
func (b *bench) cell(code string) (string, error) {
	var out strings.Builder
	reply, err := b.conn.Execute(b.ctx, kernel.ExecuteRequest{Code: code, StoreHistory: true}, kernel.Handlers{OnIOPub: func(m kernel.Message) {
		if m.Header.MsgType == "stream" {
			var c struct{ Text string }
			_ = json.Unmarshal(m.Content, &c)
			out.WriteString(c.Text)
		}
	}})
	if err != nil {
		return "", err
	}
	if reply.Status != "ok" {
		return "", fmt.Errorf("cell failed: %s: %s", reply.Ename, reply.Evalue)
	}
	return out.String(), nil
}

func timed(f func() error) (float64, error) {
	t := time.Now()
	err := f()
	return time.Since(t).Seconds(), err
}

// dropCaches empties the page cache when we may (root); else the read is warm.
func dropCaches() bool {
	syscall.Sync()
	return os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o200) == nil
}

// evict drops just these files from the page cache (as when the data was
// saved long ago), leaving the libraries a restarted kernel imports as warm
// as they are after a restart, and checks with mincore that no page stayed.
func evict(paths []string) error {
	for _, p := range paths {
		if err := evictFile(p); err != nil {
			return fmt.Errorf("evict %s: %w", filepath.Base(p), err)
		}
	}
	return nil
}

func evictFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return err
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return err
	}
	defer unix.Munmap(m)
	vec := make([]byte, (len(m)+os.Getpagesize()-1)/os.Getpagesize())
	// x/sys/unix has no mincore wrapper on linux.
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		return fmt.Errorf("mincore: %w", e)
	}
	resident := 0
	for _, v := range vec {
		resident += int(v & 1)
	}
	if resident > 0 {
		return fmt.Errorf("%d of %d pages still cached", resident, len(vec))
	}
	return nil
}

func run(python string, mib int, dir string) error {
	ctx := context.Background()
	py, err := filepath.Abs(python)
	if err != nil {
		return err
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "checkpointbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	rows := mib * 1024 * 1024 / 8 / 8 // 8 float64 columns
	csv := filepath.Join(dir, "data.csv")
	if err := writeCSV(csv, rows); err != nil {
		return err
	}
	conn, err := kernel.Start(ctx, kernel.LaunchSpec{
		Name: "python3", Language: "python", Dir: dir,
		Argv: []string{py, "-m", "ipykernel_launcher", "-f", "{connection_file}"},
	}, kernel.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return fmt.Errorf("start kernel: %w", err)
	}
	defer conn.Shutdown(context.Background())
	b := &bench{ctx: ctx, conn: conn, run: kernelpy.ConnRunner(conn), dir: dir}
	key, err := checkpoint.LoadKey(filepath.Join(dir, "key"))
	if err != nil {
		return err
	}
	st := checkpoint.ForNotebook(filepath.Join(dir, "nb.ipynb"), key)

	build := fmt.Sprintf("import numpy as np, pandas as pd\ndf = pd.read_csv(%q)\narr = np.random.default_rng(0).random(%d)\nsmall = 1", csv, mib*1024*1024/8)
	if _, err := b.cell(build); err != nil {
		return fmt.Errorf("build data: %w", err)
	}
	gib := float64(2*mib) / 1024
	what := fmt.Sprintf("%.2g GiB: %d MiB ndarray + %d MiB DataFrame", gib, mib, mib)

	cache := "cold page cache (drop_caches before each read)"
	if !dropCaches() {
		cache = "WARM page cache (not root: could not drop caches)"
	}
	load := loadAvg()

	// C1 / C1d: save vs dd of the same size with fsync (same folder) vs
	// dill.dump, interleaved round by round so a noisy neighbour hits all three.
	var saved *checkpoint.SaveResult
	var c1, ddW, c1d []float64
	src := filepath.Join(dir, "random.bin")
	ddOut := filepath.Join(dir, "dd.out")
	dillPath := filepath.Join(dir, "state.dill")
	var total int64
	for r := 0; r < rounds; r++ {
		_ = st.Delete("bench") // a full write each round, not an incremental one
		t, err := timed(func() error {
			var err error
			saved, err = st.Save(ctx, b.run, "bench", checkpoint.SaveOptions{Full: true})
			return err
		})
		if err != nil {
			return fmt.Errorf("save: %w", err)
		}
		c1 = append(c1, t)
		if total == 0 {
			for _, v := range saved.Manifest.Variables {
				total += v.Size
			}
			if err := writeRandom(src, total); err != nil {
				return err
			}
		}
		t, err = timed(func() error {
			return exec.Command("dd", "if="+src, "of="+ddOut, "bs=4M", "conv=fsync", "status=none").Run()
		})
		if err != nil {
			return fmt.Errorf("dd write: %w", err)
		}
		os.Remove(ddOut)
		ddW = append(ddW, t)
		t, err = timed(func() error {
			_, err := b.run(ctx, fmt.Sprintf("exec(%q, {'__name__': '__bench__', 'ns': get_ipython().user_ns})",
				fmt.Sprintf("import dill, os\nwith open(%q, 'wb') as f:\n    dill.dump({'arr': ns['arr'], 'df': ns['df'], 'small': ns['small']}, f)\n    f.flush()\n    os.fsync(f.fileno())\n", dillPath)))
			return err
		})
		if err != nil {
			return fmt.Errorf("dill.dump: %w", err)
		}
		os.Remove(dillPath)
		c1d = append(c1d, t)
	}
	os.Remove(src)
	emit(row{ID: "C1", What: "save_checkpoint of " + what, Ours: median(c1), Reference: ptr(median(ddW)), Unit: "s", Goal: "ratio ≤ 1.18", N: rounds,
		P95Ours: ptr(maxOf(c1)), P95Ref: ptr(maxOf(ddW)),
		Note: fmt.Sprintf("reference: dd bs=4M conv=fsync of the same %d bytes (random data from page cache) into the same folder; ours hashes every blob (SHA-256) while writing; rounds interleaved with C1d; p95 = max of %d; load average %s", total, rounds, load)})
	emit(row{ID: "C1d", What: "save_checkpoint of " + what + " vs dill.dump", Ours: median(c1), Reference: ptr(median(c1d)), Unit: "s", Goal: "ratio ≤ 0.33", N: rounds,
		P95Ours: ptr(maxOf(c1)), P95Ref: ptr(maxOf(c1d)),
		Note: "reference: dill.dump of the same variables to one file in the kernel, then fsync; both are bound by the same disk"})

	// C2: restart (state lost), load vs dd read of the blobs.
	var blobs []string
	for _, v := range saved.Manifest.Variables {
		blobs = append(blobs, filepath.Join(st.Root(), "blobs", v.Digest))
	}
	// Two kinds of cold, interleaved round by round: only the blobs evicted
	// (C2: the data was saved long ago, the libraries are as warm as after a
	// restart) and the whole page cache dropped (C2c: numpy/pandas are
	// imported from disk too, competing with the blob reads).
	type coldLoad struct {
		name                              string
		cool                              func() error
		load, dd, read, imports, unpickle []float64
	}
	blobCold := &coldLoad{name: "blobs", cool: func() error { return evict(blobs) }}
	allCold := &coldLoad{name: "all", cool: func() error {
		if !dropCaches() {
			return errors.New("cannot drop caches (not root)")
		}
		return nil
	}}
	modes := []*coldLoad{blobCold}
	if dropCaches() {
		modes = append(modes, allCold)
	}
	blobNote := "only the blob files evicted (fadvise DONTNEED, checked with mincore)"
	if err := evict(blobs); err != nil {
		// No way to evict single files here: drop everything instead.
		blobNote = "page cache dropped (could not evict the blob files alone: " + err.Error() + ")"
		blobCold.cool = allCold.cool
		if !dropCaches() {
			blobNote = cache
		}
	}
	for r := 0; r < rounds; r++ {
		for _, m := range modes {
			if err := conn.Restart(ctx); err != nil {
				return fmt.Errorf("restart: %w", err)
			}
			_ = m.cool()
			var lr *checkpoint.LoadResult
			t, err := timed(func() error {
				var err error
				lr, err = st.Load(ctx, b.run, "bench")
				return err
			})
			if err != nil {
				return fmt.Errorf("load: %w", err)
			}
			m.load = append(m.load, t)
			m.read = append(m.read, lr.Timings["read_verify"])
			m.imports = append(m.imports, lr.Timings["import_wait"])
			m.unpickle = append(m.unpickle, lr.Timings["unpickle"])
			if out, err := b.cell("print(df.shape[0] > 0, arr.size > 0, small)"); err != nil || strings.TrimSpace(out) != "True True 1" {
				return fmt.Errorf("state after load: %q %v", out, err)
			}
			_ = m.cool()
			t, err = timed(func() error {
				for _, p := range blobs {
					if err := exec.Command("dd", "if="+p, "of=/dev/null", "bs=4M", "status=none").Run(); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("dd read: %w", err)
			}
			m.dd = append(m.dd, t)
		}
	}
	phases := func(m *coldLoad) string {
		return fmt.Sprintf("medians in the kernel: read+verify %.2f s, waiting for imports %.2f s, unpickle %.3f s; the rest is the kernel round trip",
			median(m.read), median(m.imports), median(m.unpickle))
	}
	c2 := blobCold.load
	emit(row{ID: "C2", What: "load_checkpoint of " + what + " after a kernel restart", Ours: median(c2), Reference: ptr(median(blobCold.dd)), Unit: "s", Goal: "ratio ≤ 1.25", N: rounds,
		P95Ours: ptr(maxOf(c2)), P95Ref: ptr(maxOf(blobCold.dd)),
		Note: fmt.Sprintf("reference: dd bs=4M read of the same blob files; cold blobs: %s before each read; ours includes verifying the signature and every blob's SHA-256 before unpickling, and importing numpy/pandas in the fresh kernel (%s); rounds interleaved with C2c; load average %s",
			blobNote, phases(blobCold), loadAvg())})
	if len(allCold.load) > 0 {
		emit(row{ID: "C2c", What: "load_checkpoint of " + what + " after a kernel restart, whole page cache dropped", Ours: median(allCold.load), Reference: ptr(median(allCold.dd)), Unit: "s", Goal: "none (shows the cost of importing numpy/pandas from disk)", N: rounds,
			P95Ours: ptr(maxOf(allCold.load)), P95Ref: ptr(maxOf(allCold.dd)),
			Note: fmt.Sprintf("as C2 but drop_caches before each read, so the fresh kernel also imports numpy/pandas from disk while the blobs are read (%s); load average %s",
				phases(allCold), loadAvg())})
	}

	// C2r: re-running the cell that built the data, in a fresh kernel.
	var c2r []float64
	for r := 0; r < rounds; r++ {
		if err := conn.Restart(ctx); err != nil {
			return fmt.Errorf("restart: %w", err)
		}
		dropCaches()
		t, err := timed(func() error { _, err := b.cell(build); return err })
		if err != nil {
			return fmt.Errorf("rebuild: %w", err)
		}
		c2r = append(c2r, t)
	}
	emit(row{ID: "C2r", What: "load_checkpoint vs re-running the cell that built the data", Ours: median(c2), Reference: ptr(median(c2r)), Unit: "s", Goal: "ratio ≤ 0.05", N: rounds,
		P95Ours: ptr(maxOf(c2)), P95Ref: ptr(maxOf(c2r)),
		Note: fmt.Sprintf("reference: pd.read_csv of a %d-row, 8-column CSV + a %d MiB random ndarray in a fresh kernel, %s; a real load (database, network, feature engineering) is slower than this local CSV", rows, mib, cache)})

	// C3: load, change one small variable, save again.
	if _, err := st.Load(ctx, b.run, "bench"); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	before, err := blobStats(filepath.Join(st.Root(), "blobs"))
	if err != nil {
		return err
	}
	var times []float64
	rewritten := 0
	written := 0
	for i := 0; i < 5; i++ {
		if _, err := b.cell(fmt.Sprintf("small = %d", i+2)); err != nil {
			return err
		}
		var res *checkpoint.SaveResult
		t, err := timed(func() error {
			var err error
			res, err = st.Save(ctx, b.run, "bench", checkpoint.SaveOptions{})
			return err
		})
		if err != nil {
			return fmt.Errorf("second save: %w", err)
		}
		times = append(times, t*1000)
		written += res.Written
	}
	after, err := blobStats(filepath.Join(st.Root(), "blobs"))
	if err != nil {
		return err
	}
	for name, s := range before {
		if after[name] != s {
			rewritten++
		}
	}
	var fsyncs []float64
	for i := 0; i < 5; i++ {
		t, err := timed(func() error {
			f, err := os.Create(filepath.Join(dir, "fsync.probe"))
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := f.Write([]byte("x")); err != nil {
				return err
			}
			return f.Sync()
		})
		if err != nil {
			return err
		}
		fsyncs = append(fsyncs, t*1000)
	}
	med := median(times)
	emit(row{ID: "C3", What: "second save_checkpoint after changing one small variable (" + what + " unchanged)", Ours: med, Unit: "ms", Goal: "ours ≤ 50 ms, no unchanged blob rewritten", N: len(times),
		P95Ours: ptr(maxOf(times)),
		Note:    fmt.Sprintf("median of %d saves (p95 = max); blobs written %d (want %d: the small variable each time), unchanged blobs rewritten %d; a save makes 3 fsyncs (blob, blob folder, manifest) + 1 folder sync, and one small write+fsync here takes %.1f ms (median); load average %s", len(times), written, len(times), rewritten, median(fsyncs), loadAvg())})
	if rewritten != 0 || written != len(times) {
		return errors.New("C3: an unchanged blob was rewritten")
	}
	return nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

type stat struct {
	ino   uint64
	mtime int64
}

func blobStats(dir string) (map[string]stat, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]stat{}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil || e.IsDir() {
			continue
		}
		st, _ := fi.Sys().(*syscall.Stat_t)
		var ino uint64
		if st != nil {
			ino = st.Ino
		}
		out[e.Name()] = stat{ino, fi.ModTime().UnixNano()}
	}
	return out, nil
}

// writeCSV writes rows of 8 float columns with 3 decimals (fast to produce here,
// realistic to parse for pandas).
func writeCSV(path string, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("a,b,c,d,e,f,g,h\n")
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 0, 64)
	for i := 0; i < rows; i++ {
		buf = buf[:0]
		for c := 0; c < 8; c++ {
			if c > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendFloat(buf, float64(r.IntN(100000))/1000, 'f', 3, 64)
		}
		buf = append(buf, '\n')
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeRandom(path string, n int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, 1<<22)
	for n > 0 {
		for i := 0; i+8 <= len(buf); i += 8 {
			v := r.Uint64()
			for j := 0; j < 8; j++ {
				buf[i+j] = byte(v >> (8 * j))
			}
		}
		k := int64(len(buf))
		if n < k {
			k = n
		}
		if _, err := f.Write(buf[:k]); err != nil {
			f.Close()
			return err
		}
		n -= k
	}
	return f.Close()
}
