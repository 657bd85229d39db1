package report

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/orcaprep/orcaprep/chatml"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/stats"
	"github.com/orcaprep/orcaprep/synth"
)

var update = flag.Bool("update", false, "rewrite testdata/stats.json and the golden reports")

const fixturePath = "testdata/stats.json"

// buildFixture makes a realistic stats.json without the pipeline: synth rows with labelled defects go
// through a stand-in of the pipeline's stages (defect kind → stage and reason), the ledger and a Collector;
// tokens are a stand-in (sample chars / 4) and kept samples are packed first-fit-decreasing into 16,384.
func buildFixture(t *testing.T) *stats.Document {
	t.Helper()
	led := stats.NewLedger("select", "validate", "filter", "dedupe")
	col := stats.NewCollector()
	render := chatml.Options{Style: chatml.StyleChatML}
	var kept []int
	type verdict struct{ stage, reason, detail string }
	verdictOf := func(r *orca.Record, l synth.Label) (v verdict, ok bool) {
		switch l.Kinds[0] {
		case synth.KindInvalidUTF8:
			return verdict{"validate", stats.ReasonInvalidUTF8, "question: invalid UTF-8"}, false
		case synth.KindEmptyQuestion:
			return verdict{"filter", "empty_question", ""}, false
		case synth.KindEmptyResponse, synth.KindWhitespaceResponse, synth.KindNullResponse:
			return verdict{"filter", "empty_response", ""}, false
		case synth.KindRefusalOpening, synth.KindRefusalMid:
			return verdict{"filter", "refusal", fmt.Sprintf("matched %q", oneLine(r.Response, 40))}, false
		case synth.KindNonASCII:
			for _, c := range r.Question + r.Response {
				if c > 127 && !strings.ContainsRune("’–“”—", c) {
					return verdict{"filter", "non_ascii", fmt.Sprintf("%U %q", c, c)}, false
				}
			}
			return verdict{"filter", "non_ascii", ""}, false
		case synth.KindSpecialTokenText:
			return verdict{"filter", "special_token", "literal <|im_start|> | <|im_end|> in text"}, false
		case synth.KindHuge:
			return verdict{"filter", stats.ReasonTooLong, ""}, false
		case synth.KindExactDuplicate:
			return verdict{"dedupe", "exact_duplicate", ""}, false
		case synth.KindNearDuplicate:
			return verdict{"dedupe", "near_duplicate", "jaccard ≥ 0.8"}, false
		case synth.KindDuplicateID:
			return verdict{"dedupe", "duplicate_id", ""}, false
		}
		return verdict{}, true
	}
	stageIdx := map[string]int{"select": 0, "validate": 1, "filter": 2, "dedupe": 3}
	stages := []string{"select", "validate", "filter", "dedupe"}
	observe := func(r *orca.Record, l synth.Label, selected bool) {
		sub := r.Submix()
		led.Read(sub)
		for i, c := range orca.Columns {
			if r.Nulls&(1<<i) != 0 {
				led.Null(c)
			}
		}
		o := stats.Observation{ID: r.ID, Submix: sub, SystemPrompt: r.SystemPrompt, Tokens: -1}
		if !selected {
			led.Drop(sub, "select", stats.ReasonNotSelected)
			o.Reason = stats.ReasonNotSelected
			col.Observe(&o)
			return
		}
		o.QuestionChars, o.ResponseChars = utf8.RuneCountInString(r.Question), utf8.RuneCountInString(r.Response)
		v, ok := verdictOf(r, l)
		if v.stage != "validate" {
			o.SampleChars = utf8.RuneCountInString(chatml.Text(r, render))
			o.Tokens = (o.SampleChars + 3) / 4
		}
		last := len(stages)
		if !ok {
			last = stageIdx[v.stage]
		}
		for s := 0; s < last; s++ {
			led.Pass(stages[s])
		}
		if ok {
			led.Keep(sub)
			o.Kept = true
			kept = append(kept, o.Tokens)
		} else {
			led.Drop(sub, v.stage, v.reason)
			o.Reason, o.Detail, o.DuplicateOf = v.reason, v.detail, l.DupOf
		}
		col.Observe(&o)
	}
	cfg := synth.DefaultConfig(3000, 42)
	cfg.InvalidUTF8Rate = 0.002
	cfg.HugeRate = 0.002
	if err := synth.Generate(cfg, func(r orca.Record, l synth.Label) error { observe(&r, l, true); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := synth.Generate(synth.DefaultConfig(1000, 7), func(r orca.Record, l synth.Label) error { observe(&r, l, false); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := led.Check(); err != nil {
		t.Fatal(err)
	}
	// First-fit decreasing into 16,384-token bins.
	const seqLen = 16384
	slices.SortFunc(kept, func(a, b int) int { return b - a })
	var bins []int
	var tokens int64
	for _, n := range kept {
		n = min(n, seqLen)
		tokens += int64(n)
		placed := false
		for i := range bins {
			if bins[i]+n <= seqLen {
				bins[i] += n
				placed = true
				break
			}
		}
		if !placed {
			bins = append(bins, n)
		}
	}
	dist := col.Result()
	return &stats.Document{
		Ledger: led,
		Inputs: []stats.InputStat{
			{Source: "testdata/synth-gpt4.parquet", Name: "synth-gpt4.parquet", Bytes: 1843200, Rows: 3000, Selected: true},
			{Source: "testdata/synth-gpt35.parquet", Name: "synth-gpt35.parquet", Bytes: 611000, Rows: 1000, Selected: false},
		},
		Distributions: &dist,
		Packing:       stats.NewPackingStat(seqLen, int64(len(kept)), tokens, int64(len(bins))),
		Timing: stats.Timing{Seconds: 1.25, RowsPerSec: 3200, Workers: 2, Stages: []stats.StageTiming{
			{Name: "read", Seconds: 0.41, Rows: 4000, RowsPerSec: 9756},
			{Name: "filter", Seconds: 0.52, Rows: 2900, RowsPerSec: 5577},
		}},
	}
}

// loadFixture returns testdata/stats.json, rewriting it first with -update. The checked-in file, not the
// generator, is the input of the golden tests, so a change to synth does not change them by itself.
func loadFixture(t *testing.T) (*stats.Document, []byte) {
	t.Helper()
	if *update {
		b, err := buildFixture(t).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(fixturePath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fixturePath, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	d, err := stats.ParseDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	return d, raw
}
