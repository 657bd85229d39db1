package filter

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

type heldoutItem struct {
	Label string `json:"label"`
	Text  string `json:"text"`
}

func loadHeldout(t testing.TB, name string) []heldoutItem {
	t.Helper()
	p := filepath.Join("..", "testdata", "curation", name)
	f, err := os.Open(p)
	if err != nil {
		t.Fatalf("open %s: %v", p, err)
	}
	defer f.Close()
	var items []heldoutItem
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var it heldoutItem
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("%s:%d: %v", p, line, err)
		}
		if it.Label != "refusal" && it.Label != "keep" {
			t.Fatalf("%s:%d: label %q", p, line, it.Label)
		}
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return items
}

// TestRefusalHeldOut measures the refusal matcher on hand-written responses that were not used to write the
// phrase list's tests (testdata/curation/refusal_heldout.jsonl) and holds it to the targets.
//
// refusal_heldout.jsonl was used for one round of phrase-set tuning (quoted speech, "help but", contractions);
// refusal_heldout2.jsonl was written afterwards and its figures are reported untuned.
func TestRefusalHeldOut(t *testing.T) {
	for _, name := range []string{"refusal_heldout.jsonl", "refusal_heldout2.jsonl", "refusal_heldout3.jsonl"} {
		t.Run(name, func(t *testing.T) { testHeldOut(t, name) })
	}
}

func testHeldOut(t *testing.T, name string) {
	c, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var tp, fn, fp, tn int
	for _, it := range loadHeldout(t, name) {
		lit, hit := c.MatchRefusal(it.Text)
		switch {
		case it.Label == "refusal" && hit:
			tp++
		case it.Label == "refusal":
			fn++
			t.Logf("MISSED: %s", it.Text)
		case hit:
			fp++
			t.Logf("FALSE POSITIVE (%q): %s", lit, it.Text)
		default:
			tn++
		}
	}
	recall := float64(tp) / float64(tp+fn)
	precision := float64(tp) / float64(tp+fp)
	keep := float64(tn) / float64(tn+fp)
	t.Logf("held-out: refusals %d, recall %.3f, precision %.3f, hard negatives kept %.3f (%d/%d)", tp+fn, recall, precision, keep, tn, tn+fp)
	if recall < 0.95 || precision < 0.95 {
		t.Errorf("held-out recall %.3f / precision %.3f below 0.95", recall, precision)
	}
}
