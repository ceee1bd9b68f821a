package output

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"runtime"
	"strings"
	"testing"
)

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func displayData(mime string, data []byte) json.RawMessage {
	raw, _ := json.Marshal(map[string]any{"output_type": "display_data", "metadata": map[string]any{},
		"data": map[string]any{mime: base64.StdEncoding.EncodeToString(data), "text/plain": "<Figure size 640x480 with 1 Axes>"}})
	return raw
}

// hugeHeader is a PNG whose header claims width×height, with no pixel data.
func hugeHeader(width, height uint32) []byte {
	var b bytes.Buffer
	b.Write([]byte("\x89PNG\r\n\x1a\n"))
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], width)
	binary.BigEndian.PutUint32(ihdr[4:], height)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestModelImagesDownscaleToTheBudget(t *testing.T) {
	big := pngOf(t, 3000, 2000)
	images, notes := ModelImages([]json.RawMessage{displayData("image/png", big)}, ImageBudget{})
	if len(images) != 1 || len(notes) != 0 {
		t.Fatalf("images %d, notes %v", len(images), notes)
	}
	im := images[0]
	cfg, format, err := image.DecodeConfig(bytes.NewReader(im.Data))
	if err != nil {
		t.Fatalf("the attached bytes do not decode: %v", err)
	}
	if cfg.Width != 1024 || cfg.Height != 682 || im.Width != 1024 || im.Height != 682 {
		t.Errorf("downscaled to %dx%d (%s), want 1024x682", cfg.Width, cfg.Height, format)
	}
	if len(im.Data) > 768<<10 || im.MIME != "image/"+format {
		t.Errorf("%d bytes as %s (decoded as %s), want ≤ 768 KiB", len(im.Data), im.MIME, format)
	}
	if !strings.Contains(im.Note(), "3000x2000 attached, downscaled to 1024x682") {
		t.Errorf("note %q", im.Note())
	}
	// Full size when asked.
	full, _ := ModelImages([]json.RawMessage{displayData("image/png", pngOf(t, 1500, 100))}, ImageBudget{MaxSide: -1, MaxBytes: 8 << 20})
	if len(full) != 1 || full[0].Width != 1500 {
		t.Errorf("full size: %+v", full)
	}
	// A small image passes through untouched.
	small := pngOf(t, 200, 100)
	got, _ := ModelImages([]json.RawMessage{displayData("image/png", small)}, ImageBudget{})
	if len(got) != 1 || !bytes.Equal(got[0].Data, small) {
		t.Errorf("a small PNG must pass through as it is")
	}
}

func TestModelImagesRefuseHostileImagesWithoutMemorySpike(t *testing.T) {
	truncated := pngOf(t, 400, 400)
	truncated = truncated[:len(truncated)/2]
	outputs := []json.RawMessage{
		displayData("image/png", hugeHeader(30000, 30000)),
		displayData("image/png", truncated),
		displayData("image/png", []byte("not an image at all")),
		json.RawMessage(`{"output_type":"display_data","data":{"image/png":"@@@not base64"}}`),
		json.RawMessage(`{"output_type":"display_data","data":{"image/png":12}}`),
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	images, notes := ModelImages(outputs, ImageBudget{})
	runtime.ReadMemStats(&after)
	if len(images) != 0 || len(notes) != 5 {
		t.Fatalf("images %d, notes %q", len(images), notes)
	}
	for _, want := range []string{"too large to decode safely", "corrupt or truncated", "unreadable image header", "undecodable base64", "not base64"} {
		if !strings.Contains(strings.Join(notes, "\n"), want) {
			t.Errorf("no note says %q: %q", want, notes)
		}
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("refusing hostile images allocated %d MiB", grew>>20)
	}
}

func TestModelImagesNewestFirstWithinTheAnswerBudget(t *testing.T) {
	var outputs []json.RawMessage
	for i := 0; i < 6; i++ {
		outputs = append(outputs, displayData("image/png", pngOf(t, 50+i, 50)))
	}
	images, notes := ModelImages(outputs, ImageBudget{})
	if len(images) != 4 || images[0].Output != 5 || images[3].Output != 2 {
		t.Fatalf("got %d images starting at output %d; want 4 newest (5..2)", len(images), images[0].Output)
	}
	if len(notes) != 2 || !strings.Contains(notes[0], "4 images per answer") {
		t.Errorf("notes %q", notes)
	}
}
