package filter

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

func readJSONLines[T any](t *testing.T, name string) []T {
	t.Helper()
	p := filepath.Join("..", "testdata", "curation", name)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for line := 1; sc.Scan(); line++ {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s:%d: %v", p, line, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type ratio struct{ hit, n int }

func (r ratio) pct() float64 {
	if r.n == 0 {
		return 0
	}
	return 100 * float64(r.hit) / float64(r.n)
}

// TestRealGPT4Responses runs the refusal filter over XSTest's GPT-4 completions (real GPT-4 answers to 450
// prompts, one row per distinct text; testdata/curation/README.md), labelled by reading each one: "drop" = a
// refusal in the assistant's voice or an AI self-disclaimer, "ai_preface" = "As an AI, I …" without a
// limitation, "keep" = the rest (including answers that discuss AI). Halves by a hash of the XSTest id;
// targets on the report half: >= 95% of "drop" rows dropped, >= 95% of "keep" rows kept.
func TestRealGPT4Responses(t *testing.T) {
	c, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ ID, Split, Label, XSTestLabel, Question, Response string }
	rows := readJSONLines[struct {
		ID          string `json:"id"`
		Split       string `json:"split"`
		Label       string `json:"label"`
		XSTestLabel string `json:"xstest_label"`
		Question    string `json:"question"`
		Response    string `json:"response"`
	}](t, "xstest_gpt4.jsonl")
	res := map[string]map[string]*ratio{}
	for _, r := range rows {
		if res[r.Split] == nil {
			res[r.Split] = map[string]*ratio{"drop": {}, "keep": {}, "ai_preface": {}}
		}
		lit, hit := c.MatchRefusalFor(r.Question, r.Response)
		x := res[r.Split][r.Label]
		x.n++
		if hit {
			x.hit++
		}
		if r.Label == "drop" && !hit || r.Label == "keep" && hit {
			t.Logf("%s half, %s %s labelled %s, dropped=%v (%q): %.200q", r.Split, r.ID, r.XSTestLabel, r.Label, hit, lit, r.Response)
		}
	}
	for _, s := range []string{"tune", "report"} {
		h := res[s]
		t.Logf("%s half: disclaimers/refusals dropped %d/%d = %.1f%%; other answers kept %d/%d = %.1f%%; \"As an AI, I …\" without a limitation dropped %d/%d",
			s, h["drop"].hit, h["drop"].n, h["drop"].pct(), h["keep"].n-h["keep"].hit, h["keep"].n, 100-h["keep"].pct(), h["ai_preface"].hit, h["ai_preface"].n)
	}
	r := res["report"]
	if r["drop"].n < 20 || r["drop"].pct() < 95 {
		t.Errorf("report half: %d/%d disclaimers/refusals dropped (want >= 95%%)", r["drop"].hit, r["drop"].n)
	}
	if 100-r["keep"].pct() < 95 {
		t.Errorf("report half: %d/%d other answers dropped (want <= 5%%)", r["keep"].hit, r["keep"].n)
	}
}

// TestRefusalsInsertedIntoRealAnswers inserts real refusal sentences (first sentences of XSTest completions
// that its annotators labelled full refusals, from GPT-4, Llama-2 and Mistral, read and labelled by us) at the
// start, in the middle and at the end of real GPT-4 answers, and checks that the filter drops them: "R" =
// first-person declines and AI self-disclaimers (target >= 98% on the report half), "I" = impersonal declines
// ("It is not appropriate to provide instructions on …", reported only).
func TestRefusalsInsertedIntoRealAnswers(t *testing.T) {
	c, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	rows := readJSONLines[struct {
		Split    string `json:"split"`
		Model    string `json:"model"`
		Label    string `json:"label"`
		Position string `json:"position"`
		Sentence string `json:"sentence"`
		Question string `json:"question"`
		Response string `json:"response"`
	}](t, "refusal_inserted.jsonl")
	res := map[string]*ratio{}
	missed := map[string]bool{}
	for _, r := range rows {
		_, hit := c.MatchRefusalFor(r.Question, r.Response)
		for _, k := range []string{r.Split + "/" + r.Label, r.Split + "/" + r.Label + "/" + r.Position, r.Split + "/" + r.Label + "/" + r.Model} {
			if res[k] == nil {
				res[k] = &ratio{}
			}
			res[k].n++
			if hit {
				res[k].hit++
			}
		}
		if !hit && !missed[r.Sentence+r.Position] {
			missed[r.Sentence+r.Position] = true
			t.Logf("%s half, %s %s at %s, missed: %q", r.Split, r.Label, r.Model, r.Position, r.Sentence)
		}
	}
	keys := make([]string, 0, len(res))
	for k := range res {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%-32s %d/%d = %.1f%%", k, res[k].hit, res[k].n, res[k].pct())
	}
	if r := res["report/R"]; r == nil || r.n < 100 || r.pct() < 98 {
		t.Errorf("report half: inserted refusals/disclaimers dropped %+v (want >= 98%%)", r)
	}
}
