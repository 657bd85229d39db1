package pipeline

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type label struct {
	ID    string   `json:"id"`
	Row   int64    `json:"row"`
	Kinds []string `json:"kinds"`
	DupOf string   `json:"dup_of"`
}

// wantReason maps the generator's defect labels to the reason the default recipe must drop the row for
// ("" = kept). Labels come from synth, which knows what it injected; the filters never saw its templates.
func wantReason(kinds []string) string {
	has := map[string]bool{}
	for _, k := range kinds {
		has[k] = true
	}
	switch {
	case has["empty_question"]:
		return "empty_question"
	case has["empty_response"] || has["whitespace_response"] || has["null_response"]:
		return "empty_response"
	case has["refusal_opening"] || has["refusal_mid"]:
		return "refusal"
	case has["special_token_text"]:
		return "special_token_text"
	case has["exact_duplicate"]:
		return "exact_duplicate"
	case has["near_duplicate"]:
		return "near_duplicate"
	}
	return ""
}

// TestSampleDefectsAreDroppedForTheirReason runs the shipped sample (written by DuckDB) with the shipped
// sample config and checks every row's fate against the generator's labels.
func TestSampleDefectsAreDroppedForTheirReason(t *testing.T) {
	cfg, err := LoadConfig("../configs/sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Inputs = []string{"../testdata/sample/openorca-sample.parquet"}
	cfg.Out = filepath.Join(t.TempDir(), "out")
	res, err := runOnce(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../testdata/sample/openorca-sample.labels.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var labels []label
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var l label
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		labels = append(labels, l)
	}
	type fate struct{ reason, dupOf string }
	got := map[int64]fate{}
	for _, r := range readJSONL[map[string]any](t, filepath.Join(cfg.Out, res.Manifest.Rejected[0].Path)) {
		d, _ := r["duplicate_of"].(string)
		got[int64(r["row"].(float64))] = fate{r["reason"].(string), d}
	}
	idOfRow := map[int64]string{}
	for _, l := range labels {
		idOfRow[l.Row] = l.ID
	}
	mismatch := 0
	for _, l := range labels {
		want := wantReason(l.Kinds)
		g := got[l.Row]
		if g.reason != want {
			mismatch++
			t.Errorf("row %d %s %v: dropped as %q, want %q", l.Row, l.ID, l.Kinds, g.reason, want)
			continue
		}
		if (want == "near_duplicate" || want == "exact_duplicate") && g.dupOf == "" {
			t.Errorf("row %d: duplicate without duplicate_of", l.Row)
		}
	}
	if int64(len(labels)) != res.Stats.RowsRead || mismatch > 0 {
		t.Fatalf("%d labels, %d rows read, %d mismatches", len(labels), res.Stats.RowsRead, mismatch)
	}
}
