package filter

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestHumanFirstPerson runs the refusal filter over real human first-person text — 2,091 ham e-mails of the
// SpamAssassin public corpus (testdata/curation/README.md) — as answers to "Write an email …" questions.
// "before" ignores the question (the previous behaviour); "after" is the filter as configured. The halves
// are fixed by seed (scripts/curation/build-human.py); the target (<= 0.2% dropped) is asserted on "report".
func TestHumanFirstPerson(t *testing.T) {
	p := filepath.Join("..", "testdata", "curation", "human_firstperson.jsonl")
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	type tally struct{ n, before, after int }
	halves := map[string]*tally{"tune": {}, "report": {}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r struct{ Split, Source, Question, Response string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		h := halves[r.Split]
		h.n++
		if _, ok := c.MatchRefusal(r.Response); ok {
			h.before++
		}
		if lit, ok := c.MatchRefusalFor(r.Question, r.Response); ok {
			h.after++
			t.Logf("%s half: dropped %s (%q): %.160q", r.Split, r.Source, lit, r.Response)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"tune", "report"} {
		h := halves[s]
		t.Logf("%s half: %d e-mails; dropped as refusal before %d (%.2f%%), after %d (%.2f%%)", s, h.n,
			h.before, 100*float64(h.before)/float64(h.n), h.after, 100*float64(h.after)/float64(h.n))
	}
	if r := halves["report"]; r.n < 1000 || float64(r.after) > 0.002*float64(r.n) {
		t.Errorf("report half: %d of %d human e-mails dropped as refusal (want <= 0.2%%)", r.after, r.n)
	}
}
