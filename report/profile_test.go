package report

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/orcaprep/orcaprep/chatml"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/stats"
	"github.com/orcaprep/orcaprep/synth"
)

// writeSynth writes a synth Parquet file with small row groups (so profiling has several to merge) and
// returns the rows it holds.
func writeSynth(t *testing.T, path string, rows int, seed uint64) []orca.Record {
	t.Helper()
	cfg := synth.DefaultConfig(rows, seed)
	if err := synth.WriteParquetWith(context.Background(), cfg, synth.WriteOptions{RowGroupSize: 250}, path, ""); err != nil {
		t.Fatal(err)
	}
	var recs []orca.Record
	if err := synth.Generate(cfg, func(r orca.Record, _ synth.Label) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestProfileMatchesInputAndIsWorkerIndependent(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.parquet"), filepath.Join(dir, "b.parquet")
	recs := append(writeSynth(t, a, 1500, 5), writeSynth(t, b, 700, 6)...)
	render := chatml.Options{Style: chatml.StyleChatML}

	docs := map[int]string{}
	var doc *stats.Document
	for _, w := range []int{1, 4} {
		d, err := Profile(context.Background(), ProfileOptions{Files: []string{a, b}, Render: render, Workers: w, BatchSize: 64})
		if err != nil {
			t.Fatal(err)
		}
		if d.Timing.Workers != w {
			t.Errorf("timing says %d workers, want %d", d.Timing.Workers, w)
		}
		d.Timing = stats.Timing{}
		js, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		docs[w] = string(js)
		doc = d
	}
	if docs[1] != docs[4] {
		t.Errorf("profile differs between 1 and 4 workers")
	}

	// Compare with the rows themselves.
	if doc.RowsRead != int64(len(recs)) || doc.RowsKept != doc.RowsRead || doc.Distributions.Rows != doc.RowsRead {
		t.Errorf("rows read %d kept %d observed %d, want %d", doc.RowsRead, doc.RowsKept, doc.Distributions.Rows, len(recs))
	}
	bySub := map[string]int64{}
	nulls := map[string]int64{}
	var maxQ, maxS, sumR int64
	for i := range recs {
		r := &recs[i]
		bySub[r.Submix()]++
		for c, col := range orca.Columns {
			if r.Nulls&(1<<c) != 0 {
				nulls[col]++
			}
		}
		maxQ = max(maxQ, int64(utf8.RuneCountInString(r.Question)))
		maxS = max(maxS, int64(utf8.RuneCountInString(chatml.Text(r, render))))
		sumR += int64(utf8.RuneCountInString(r.Response))
	}
	for s, n := range bySub {
		if got := doc.BySubmix[s]; got == nil || got.Read != n || got.Kept != n {
			t.Errorf("submix %s: %+v, want %d", s, got, n)
		}
	}
	for c, n := range nulls {
		if doc.Nulls[c] != n {
			t.Errorf("NULLs in %s: %d, want %d", c, doc.Nulls[c], n)
		}
	}
	q := doc.Distributions.Length(stats.MeasureQuestionChars, stats.RowsKept)
	s := doc.Distributions.Length(stats.MeasureSampleChars, stats.RowsAll)
	r := doc.Distributions.Length(stats.MeasureResponseChars, stats.RowsAll)
	if q.Max != maxQ || s.Max != maxS || r.Sum != sumR || q.Count != int64(len(recs)) {
		t.Errorf("lengths: question max %d (want %d), sample max %d (want %d), response sum %d (want %d)", q.Max, maxQ, s.Max, maxS, r.Sum, sumR)
	}
	if doc.Distributions.Length(stats.MeasureSampleTokens, stats.RowsAll) != nil {
		t.Errorf("token lengths reported without a tokenizer")
	}
	if len(doc.Inputs) != 2 || doc.Inputs[0].Name != "a.parquet" || doc.Inputs[1].Rows != 700 {
		t.Errorf("inputs %+v", doc.Inputs)
	}
}

func TestRunProfileMarkdown(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.parquet")
	writeSynth(t, a, 400, 9)
	var out bytes.Buffer
	if err := Run(context.Background(), Options{Inputs: []string{a}, Format: Markdown, Workers: 2}, &out); err != nil {
		t.Fatal(err)
	}
	md := out.String()
	if !strings.HasPrefix(md, "# orcaprep input profile") || strings.Contains(md, "## Ledger") || !strings.Contains(md, "| read | 400 |") {
		t.Errorf("profile markdown:\n%.600s", md)
	}
	checkGFMTables(t, md, 5)
}
