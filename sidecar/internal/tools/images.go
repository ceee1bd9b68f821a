package tools

import (
	"encoding/json"
	"strings"

	"github.com/mcp-jupyter/mcp-jupyter/sidecar/internal/output"
)

// Image is a picture for a vision model, already fitted to the answer's budget.
type Image struct {
	MIMEType string
	Data     []byte
}

// Imager is a tool output that carries images for the model (both doors attach them).
type Imager interface{ ModelImages() []Image }

// attachImages picks the outputs' images for the model (newest first, downscaled
// to output's default budget) and returns them with the summary amended: each
// attached image and each image left out (corrupt, too large, over the budget)
// gets a line, so the text always says what the model can see.
func attachImages(raws []json.RawMessage, summary string) ([]Image, string) {
	return attachImagesAs(raws, summary, "")
}

// attachImagesAs is attachImages with the caller's images argument: "fit" (or
// empty: the default budget), "full" (no downscaling; larger byte caps) or "none".
func attachImagesAs(raws []json.RawMessage, summary, mode string) ([]Image, string) {
	budget := output.ImageBudget{}
	switch mode {
	case "none":
		return nil, summary
	case "full":
		budget = output.ImageBudget{MaxSide: -1, MaxBytes: 5 << 20, MaxTotal: 10 << 20}
	}
	picked, notes := output.ModelImages(raws, budget)
	if len(picked) == 0 && len(notes) == 0 {
		return nil, summary
	}
	lines := make([]string, 0, len(picked)+len(notes))
	images := make([]Image, 0, len(picked))
	for _, im := range picked {
		images = append(images, Image{MIMEType: im.MIME, Data: im.Data})
		lines = append(lines, im.Note())
	}
	lines = append(lines, notes...)
	if summary != "" {
		summary += "\n"
	}
	return images, summary + strings.Join(lines, "\n")
}

// ModelImages are the execution's images, attached once it is done.
func (o ExecutionOut) ModelImages() []Image { return o.images }

// ModelImages are the cell's output images.
func (o CellOut) ModelImages() []Image { return o.images }
