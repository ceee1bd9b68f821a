package output

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"strings"

	"golang.org/x/image/draw"
)

// ImageBudget bounds the images given to a vision model with an answer.
type ImageBudget struct {
	MaxSide      int // longest side in pixels; 0 = 1024; < 0 = full size
	MaxBytes     int // per image, encoded; 0 = 768 KiB
	MaxTotal     int // per answer; 0 = 2 MiB
	MaxImages    int // per answer; 0 = 4
	MaxPixels    int // larger images are not decoded at all; 0 = 50 M
	MaxEncodedIn int // larger base64 payloads are not decoded; 0 = 64 MiB
}

func (b ImageBudget) withDefaults() ImageBudget {
	if b.MaxSide == 0 {
		b.MaxSide = 1024
	}
	if b.MaxBytes <= 0 {
		b.MaxBytes = 768 << 10
	}
	if b.MaxTotal <= 0 {
		b.MaxTotal = 2 << 20
	}
	if b.MaxImages <= 0 {
		b.MaxImages = 4
	}
	if b.MaxPixels <= 0 {
		b.MaxPixels = 50_000_000
	}
	if b.MaxEncodedIn <= 0 {
		b.MaxEncodedIn = 64 << 20
	}
	return b
}

// Image is one output image prepared for a model.
type Image struct {
	Output       int    // index of the output it came from
	MIME         string // image/png or image/jpeg
	Data         []byte // encoded image
	Width        int
	Height       int
	SourceMIME   string
	SourceWidth  int
	SourceHeight int
}

// Note says what became of an image, for the text the model reads.
func (im Image) Note() string {
	if im.Width == im.SourceWidth && im.Height == im.SourceHeight {
		return fmt.Sprintf("[output %d: %s %dx%d attached]", im.Output, im.SourceMIME, im.Width, im.Height)
	}
	return fmt.Sprintf("[output %d: %s %dx%d attached, downscaled to %dx%d]", im.Output, im.SourceMIME, im.SourceWidth, im.SourceHeight, im.Width, im.Height)
}

// ModelImages picks the PNG and JPEG images of outputs, newest first, fits each
// into the budget (downscaled, re-encoded) and stops at the per-answer limits.
// An image it cannot use (corrupt, truncated, too large to decode safely) gets
// a line in notes instead; nothing here panics or decodes a 30,000 × 30,000 image.
func ModelImages(outputs []json.RawMessage, budget ImageBudget) (images []Image, notes []string) {
	budget = budget.withDefaults()
	total := 0
	for i := len(outputs) - 1; i >= 0; i-- {
		var o struct {
			Data map[string]json.RawMessage `json:"data"`
		}
		if json.Unmarshal(outputs[i], &o) != nil || o.Data == nil {
			continue
		}
		for _, mime := range []string{"image/png", "image/jpeg"} {
			raw, ok := o.Data[mime]
			if !ok {
				continue
			}
			if len(images) >= budget.MaxImages {
				notes = append(notes, fmt.Sprintf("[output %d: %s not attached: %d images per answer]", i, mime, budget.MaxImages))
				break
			}
			im, err := prepare(i, mime, raw, budget)
			if err != nil {
				notes = append(notes, fmt.Sprintf("[output %d: %s not attached: %v]", i, mime, err))
				break
			}
			if total+len(im.Data) > budget.MaxTotal {
				notes = append(notes, fmt.Sprintf("[output %d: %s not attached: the answer's image budget (%s) is spent]", i, mime, kb(budget.MaxTotal)))
				break
			}
			total += len(im.Data)
			images = append(images, im)
			break // one image per output: the bundle's best
		}
	}
	return images, notes
}

func prepare(index int, mime string, raw json.RawMessage, b ImageBudget) (Image, error) {
	var b64 multiline
	if err := json.Unmarshal(raw, &b64); err != nil {
		return Image{}, fmt.Errorf("not base64 text")
	}
	if len(b64) > b.MaxEncodedIn {
		return Image{}, fmt.Errorf("%s of base64 is over the %s limit", kb(len(b64)), kb(b.MaxEncodedIn))
	}
	data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b64)), ""))
	if err != nil {
		return Image{}, fmt.Errorf("undecodable base64")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Image{}, fmt.Errorf("unreadable image header (%v)", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > b.MaxPixels || cfg.Width > 1<<16 || cfg.Height > 1<<16 {
		return Image{}, fmt.Errorf("%dx%d is too large to decode safely (limit %d pixels); the full image is in raw_outputs", cfg.Width, cfg.Height, b.MaxPixels)
	}
	im := Image{Output: index, SourceMIME: mime, SourceWidth: cfg.Width, SourceHeight: cfg.Height}
	// Always decode (the size is bounded above): a model API refuses a whole request over one broken image.
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return Image{}, fmt.Errorf("corrupt or truncated image (%v)", err)
	}
	fits := b.MaxSide < 0 || max(cfg.Width, cfg.Height) <= b.MaxSide
	if fits && len(data) <= b.MaxBytes && (format == "png" || format == "jpeg") {
		im.MIME, im.Data, im.Width, im.Height = "image/"+format, data, cfg.Width, cfg.Height
		return im, nil
	}
	side := b.MaxSide
	if side < 0 {
		side = max(cfg.Width, cfg.Height)
	}
	for attempt := 0; attempt < 4; attempt++ {
		w, h := scaled(cfg.Width, cfg.Height, side)
		dst := image.Image(src)
		if w != cfg.Width || h != cfg.Height {
			rgba := image.NewRGBA(image.Rect(0, 0, w, h))
			draw.BiLinear.Scale(rgba, rgba.Bounds(), src, src.Bounds(), draw.Src, nil)
			dst = rgba
		}
		var buf bytes.Buffer
		encoded := "image/png"
		if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, dst); err != nil {
			return Image{}, fmt.Errorf("re-encode: %v", err)
		}
		if buf.Len() > b.MaxBytes {
			// Photos compress far better as JPEG than charts do as PNG.
			buf.Reset()
			encoded = "image/jpeg"
			if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 85}); err != nil {
				return Image{}, fmt.Errorf("re-encode: %v", err)
			}
		}
		if buf.Len() <= b.MaxBytes {
			im.MIME, im.Data, im.Width, im.Height = encoded, buf.Bytes(), w, h
			return im, nil
		}
		side = max(w, h) / 2
	}
	return Image{}, fmt.Errorf("still over %s per image after downscaling", kb(b.MaxBytes))
}

// scaled fits w×h into side×side, keeping the aspect ratio.
func scaled(w, h, side int) (int, int) {
	if max(w, h) <= side {
		return w, h
	}
	if w >= h {
		return side, max(1, h*side/w)
	}
	return max(1, w*side/h), side
}
