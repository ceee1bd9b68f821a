package notebookmodel

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// BigNotebook builds an n-cell notebook in Jupyter's format: every third cell
// markdown, code cells with a stream output every other cell.
func bigNotebook(n int) []byte {
	var b strings.Builder
	b.WriteString("{\n \"cells\": [")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if i%3 == 0 {
			fmt.Fprintf(&b, "\n  {\n   \"cell_type\": \"markdown\",\n   \"id\": \"m%05d\",\n   \"metadata\": {},\n   \"source\": [\n    \"## Section %d\\n\",\n    \"Some explanation of step %d with *emphasis*.\"\n   ]\n  }", i, i, i)
			continue
		}
		outputs := "[]"
		if i%2 == 0 {
			outputs = fmt.Sprintf("[\n    {\n     \"name\": \"stdout\",\n     \"output_type\": \"stream\",\n     \"text\": [\n      \"value %d\\n\",\n      \"done\\n\"\n     ]\n    }\n   ]", i)
		}
		fmt.Fprintf(&b, "\n  {\n   \"cell_type\": \"code\",\n   \"execution_count\": %d,\n   \"id\": \"c%05d\",\n   \"metadata\": {},\n   \"outputs\": %s,\n   \"source\": [\n    \"import numpy as np\\n\",\n    \"df_%d = load(%d)\\n\",\n    \"df_%d.describe()\"\n   ]\n  }", i, i, outputs, i, i, i)
	}
	b.WriteString("\n ],\n \"metadata\": {\n  \"language_info\": {\n   \"name\": \"python\"\n  }\n },\n \"nbformat\": 4,\n \"nbformat_minor\": 5\n}\n")
	return []byte(b.String())
}

var (
	big5kOnce sync.Once
	big5k     []byte
)

// Big5k is the M2 notebook (5,000 cells).
func Big5k() []byte {
	big5kOnce.Do(func() { big5k = bigNotebook(5000) })
	return big5k
}

// BenchmarkM2 is benchmark M2: outline + search of a 5,000-cell notebook,
// including parsing the document (what a tool call on a file or snapshot pays).
func BenchmarkM2(b *testing.B) {
	data := Big5k()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		nb, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		if len(nb.Outline()) != 5000 {
			b.Fatal("outline")
		}
		hits, err := nb.Search(SearchQuery{Pattern: "df_4999", Sources: true, Outputs: true})
		if err != nil || len(hits) == 0 {
			b.Fatal("search", err)
		}
	}
}

// BenchmarkM2Parsed is M2 on an already parsed notebook (a cached document).
func BenchmarkM2Parsed(b *testing.B) {
	nb, err := Parse(Big5k())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_ = nb.Outline()
		if _, err := nb.Search(SearchQuery{Pattern: "df_4999", Sources: true, Outputs: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	data := Big5k()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSearchRegex(b *testing.B) {
	nb, _ := Parse(Big5k())
	for b.Loop() {
		if _, err := nb.Search(SearchQuery{Pattern: `df_49\d\d\.describe`, Regex: true, Outputs: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkApplyReplaceSource(b *testing.B) {
	nb, _ := Parse(Big5k())
	i := 2500
	for b.Loop() {
		if _, _, err := nb.Apply(Edit{Op: EditReplaceSource, Ref: CellRef{Index: &i}, Source: "x = 1\n"}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBigNotebookIsValid(t *testing.T) {
	nb, err := Parse(bigNotebook(50))
	if err != nil || nb.Len() != 50 || string(nb.Bytes()) != string(bigNotebook(50)) {
		t.Fatalf("bench notebook: %v", err)
	}
}
