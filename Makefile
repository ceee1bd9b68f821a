# mcp-jupyter build. `make` builds the sidecar, the WASM notebook model, the
# extension bundle and the VSIX for this platform; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := all

GO      ?= go
NPM     ?= npm
PYTHON  ?= python3
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)
GOOS    ?= $(shell $(GO) env GOOS)
GOARCH  ?= $(shell $(GO) env GOARCH)
LDFLAGS := -s -w -X github.com/mcp-jupyter/mcp-jupyter/sidecar.Version=$(VERSION)

BIN      := bin/mcp-jupyter
EXT_OUT  := extension/dist
VENV     := .venv
VENV_OK  := $(VENV)/.requirements.stamp
GO_SRC   := $(shell find sidecar protocol notebookmodel internal -name '*.go' -o -name '*.py' 2>/dev/null) go.mod go.sum

.PHONY: all sidecar wasm extension vsix vsix-all release reproducible venv test test-go test-node test-inspector test-conformance test-packaging test-clis test-vscode kernels-venv test-kernels bench fuzz generate clean

all: sidecar wasm extension vsix

## --- Go sidecar -------------------------------------------------------------
sidecar: $(BIN)
$(BIN): $(GO_SRC)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./sidecar/cmd/mcp-jupyter

## --- notebookmodel as WASM for the extension ---------------------------------
wasm: $(EXT_OUT)/notebookmodel.wasm
$(EXT_OUT)/notebookmodel.wasm: $(GO_SRC)
	@mkdir -p $(EXT_OUT)
	@if [ -d notebookmodel/wasm ]; then \
	  GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags '-s -w' -o $@ ./notebookmodel/wasm && \
	  cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(EXT_OUT)/wasm_exec.js; \
	else echo "notebookmodel/wasm not present yet: skipping"; touch $@; fi

## --- TypeScript extension -----------------------------------------------------
node_modules/.package-lock.json: package.json $(wildcard package-lock.json)
	npm_config_yes=true $(NPM) install --no-audit --no-fund
	@touch $@

generate:
	$(GO) generate ./protocol/... ./sidecar/internal/tools/...

extension: node_modules/.package-lock.json
	$(NPM) run --silent build

vsix: sidecar wasm extension
	$(NPM) run --silent package -- $(GOOS) $(GOARCH)

# Per-platform VSIXes, each with its own static sidecar.
vsix-all: wasm extension
	$(NPM) run --silent package:all

# Everything a release publishes, in dist/release: every VSIX, the npm tarballs, the wheels and SHA256SUMS.
release: vsix-all
	node packaging/build.mjs --targets all --out dist/release
	cp dist/mcp-jupyter-*-$$(node -p "require('./package.json').version").vsix dist/release/
	cd dist/release && sha256sum *.vsix *.tgz *.whl > SHA256SUMS && cat SHA256SUMS

# Two clean builds of the release binaries give the same bytes.
reproducible:
	./packaging/reproducible.sh

## --- Python venv for real kernels ---------------------------------------------
venv: $(VENV_OK)
$(VENV_OK): testfixtures/requirements.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check -q -r testfixtures/requirements.txt
	@cp testfixtures/requirements.txt $@

## --- tests ----------------------------------------------------------------------
export MCP_JUPYTER_REQUIRE_VENV := 1
export MCP_JUPYTER_REQUIRE_BWRAP := 1
GOTEST_FLAGS ?= -count=1 -timeout 30m

test: venv all test-go test-node test-inspector test-conformance test-packaging test-clis test-vscode

test-go: venv kernels-venv
	$(GO) vet ./...
	MCP_JUPYTER_BIN=$(abspath $(BIN)) $(GO) test $(GOTEST_FLAGS) ./...

# Real kernels from PyPI (bash_kernel, xeus-python, Deno, ipykernel) in their own venv, .cache/kernels-venv (about
# 70 s to build from nothing here, so not part of `test`; the tests that use it skip without it).
kernels-venv:
	./tests/kernels/setup.sh
test-kernels: kernels-venv
	$(GO) test $(GOTEST_FLAGS) -run 'TestRealKernels|TestNonPythonKernel|Kernelspec|NotebookKernelspec|PipInstalled' ./sidecar/internal/tools/

test-node: node_modules/.package-lock.json
	$(NPM) run --silent test:unit

# A third real MCP client: the MCP Inspector CLI (Node 24 and the Inspector from npm, cached in .cache/).
test-inspector: sidecar
	MCP_JUPYTER_BIN=$(abspath $(BIN)) ./tests/mcp/inspector_smoke.sh

# The official MCP conformance suite against `mcp --http` (test build with its fixtures, and the product build).
test-conformance: sidecar
	MCP_JUPYTER_BIN=$(abspath $(BIN)) ./tests/conformance/run.sh

# The npm and pip packages, installed offline with no Go on PATH, each pass a real MCP client check.
test-packaging: venv
	./tests/packaging/run.sh

# Claude Code, Codex, Gemini CLI and Copilot CLI (npm, cached in .cache/clis), each configured with its own
# `mcp add`, list every tool and run a cell (prompt modes against a scripted model on loopback; Codex's app-server).
test-clis: sidecar venv
	MCP_JUPYTER_BIN=$(abspath $(BIN)) ./tests/clis/run.sh

test-vscode: node_modules/.package-lock.json
	$(NPM) run --silent test:vscode

## --- benchmarks and fuzzing -----------------------------------------------------
bench: venv all
	./bench/run.sh

FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin $(EXT_OUT) *.vsix .test-output

## --- peers side by side (#14, #18: A1, A2) -----------------------------------------
.PHONY: peers-venv bench-peers
peers-venv:
	./bench/peers/setup.sh
bench-peers: venv sidecar
	BENCH_GROUPS="60-peers" BENCH_OUT=.cache/bench-peers ./bench/run.sh
