package sidecar_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-jupyter/mcp-jupyter/internal/testenv"
)

// A vision model sees the figure a cell drew: run_cell and read_cell_smart return
// MCP image content (a real matplotlib figure from a real kernel, downscaled to
// the budget), and the text says what was attached.
func TestRunCellReturnsFiguresAsImageContent(t *testing.T) {
	py := testenv.Python(t)
	bin := testenv.Binary(t)
	ws := t.TempDir()
	// A saved 3000x300 px PNG output (for read_cell_smart) and a cell that draws a 2400x1200 px figure.
	var saved bytes.Buffer
	if err := png.Encode(&saved, image.NewGray(image.Rect(0, 0, 3000, 300))); err != nil {
		t.Fatal(err)
	}
	nb := map[string]any{"nbformat": 4, "nbformat_minor": 5, "metadata": map[string]any{}, "cells": []any{
		map[string]any{"cell_type": "code", "id": "saved", "metadata": map[string]any{}, "execution_count": 1, "source": "plot()",
			"outputs": []any{map[string]any{"output_type": "display_data", "metadata": map[string]any{},
				"data": map[string]any{"image/png": base64.StdEncoding.EncodeToString(saved.Bytes()), "text/plain": "<Figure>"}}}},
		map[string]any{"cell_type": "code", "id": "fig", "metadata": map[string]any{}, "execution_count": nil, "outputs": []any{}, "source": strings.Join([]string{
			"import matplotlib", "matplotlib.use('module://matplotlib_inline.backend_inline')",
			"import matplotlib.pyplot as plt", "fig = plt.figure(figsize=(24, 12), dpi=100)", "plt.plot([1, 3, 2])", "plt.show()",
		}, "\n")},
		map[string]any{"cell_type": "code", "id": "plain", "metadata": map[string]any{}, "execution_count": nil, "outputs": []any{}, "source": "print('no figure')"},
	}}
	b, _ := json.Marshal(nb)
	if err := os.WriteFile(filepath.Join(ws, "nb.ipynb"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cmd := exec.Command(bin, "mcp", "--standalone", "--workspace", ws)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "images-test", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	call := func(name string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil || res.IsError {
			if res != nil && len(res.Content) > 0 {
				if tc, ok := res.Content[0].(*mcp.TextContent); ok {
					t.Fatalf("%s: %s", name, tc.Text)
				}
			}
			t.Fatalf("%s: %v %+v", name, err, res)
		}
		return res
	}
	call("start_kernel", map[string]any{"notebook_path": "nb.ipynb", "venv_path": filepath.Dir(filepath.Dir(py))})
	defer call("stop_kernel", map[string]any{"notebook_path": "nb.ipynb"})
	// Larger than the budget's 1024 px side, so it must come back downscaled.
	images, text := parts(call("run_cell", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "fig"}))
	if len(images) != 1 {
		t.Fatalf("want 1 image content, got %d; text: %s", len(images), text)
	}
	if images[0].MIMEType != "image/png" && images[0].MIMEType != "image/jpeg" {
		t.Fatalf("image MIME %q", images[0].MIMEType)
	}
	if images[0].MIMEType == "image/png" {
		cfg, err := png.DecodeConfig(bytes.NewReader(images[0].Data))
		if err != nil {
			t.Fatalf("image content is not a PNG: %v", err)
		}
		if cfg.Width > 1024 || cfg.Height > 1024 || cfg.Width < 1000 {
			t.Fatalf("image %dx%d, want the long side fitted to 1024", cfg.Width, cfg.Height)
		}
	}
	if !regexp.MustCompile(`image/png \d+x\d+ attached, downscaled to 1024x\d+`).MatchString(text) {
		t.Fatalf("the text does not say the image was attached and downscaled: %s", text)
	}
	// Headless, the run's outputs are not in the file: read_cell_smart reads them from the session's last run.
	if images, text := parts(call("read_cell_smart", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "fig"})); len(images) != 1 || !strings.Contains(text, "last run of the cell") {
		t.Fatalf("read_cell_smart after a headless run: %d images, %s", len(images), text)
	}
	// A cell with no figure attaches nothing.
	if images, _ := parts(call("run_cell", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "plain"})); len(images) != 0 {
		t.Fatal("an image was attached to a cell without one")
	}
	// A saved output, read back: the image too.
	images, text = parts(call("read_cell_smart", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "saved"}))
	if len(images) != 1 || !strings.Contains(text, "image/png 3000x300 attached, downscaled to 1024x102") {
		t.Fatalf("read_cell_smart: %d images, text %s", len(images), text)
	}
	// images: full keeps the size; none attaches nothing.
	images, text = parts(call("read_cell_smart", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "saved", "images": "full"}))
	if len(images) != 1 || !strings.Contains(text, "image/png 3000x300 attached]") {
		t.Fatalf("read_cell_smart images=full: %d images, text %s", len(images), text)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(images[0].Data)); err != nil || cfg.Width != 3000 {
		t.Fatalf("images=full: %v %+v", err, cfg)
	}
	if images, _ = parts(call("read_cell_smart", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "saved", "images": "none"})); len(images) != 0 {
		t.Fatal("images=none attached an image")
	}
	if images, _ = parts(call("run_cell", map[string]any{"notebook_path": "nb.ipynb", "cell_id": "fig", "images": "none"})); len(images) != 0 {
		t.Fatal("run_cell images=none attached an image")
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "read_cell_smart", Arguments: map[string]any{"notebook_path": "nb.ipynb", "cell_id": "saved", "images": "huge"}})
	if err != nil || !res.IsError {
		t.Fatalf("images=huge must be refused by the schema: %v %+v", err, res)
	}
}

func parts(res *mcp.CallToolResult) (images []*mcp.ImageContent, text string) {
	for _, c := range res.Content {
		switch c := c.(type) {
		case *mcp.ImageContent:
			images = append(images, c)
		case *mcp.TextContent:
			text += c.Text
		}
	}
	return images, text
}
