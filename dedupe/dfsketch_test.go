package dedupe

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/orca"
)

// TestDFSketchExactWhenSparse: the estimate is never below the true count, equals it when the sketch is
// sparse, and merging per-part sketches gives the same bytes as one sketch over everything, in any order.
func TestDFSketchMergeAndRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rows := make([][]uint64, 3000)
	truth := map[uint64]int{}
	common := make([]uint64, 40)
	for i := range common {
		common[i] = rng.Uint64()
	}
	for i := range rows {
		seen := map[uint64]bool{}
		for j := 0; j < 50; j++ {
			h := rng.Uint64()
			if j < 10 {
				h = common[rng.IntN(len(common))]
			}
			if !seen[h] {
				seen[h] = true
				rows[i] = append(rows[i], h)
				truth[h]++
			}
		}
	}
	whole := NewDFSketch(1<<22, 42)
	parts := []*DFSketch{NewDFSketch(1<<22, 42), NewDFSketch(1<<22, 42), NewDFSketch(1<<22, 42)}
	for i, r := range rows {
		whole.Add(r)
		parts[i%3].Add(r)
	}
	merged := NewDFSketch(1<<22, 42)
	for _, p := range []int{2, 0, 1} {
		if err := merged.Merge(parts[p]); err != nil {
			t.Fatal(err)
		}
	}
	var a, b bytes.Buffer
	whole.WriteTo(&a)
	merged.WriteTo(&b)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("merged per-part sketches differ from one sketch over all rows")
	}
	back, err := ReadDFSketch(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	over := 0
	for h, n := range truth {
		e := back.Estimate(h)
		if e < min(n, 255) {
			t.Fatalf("estimate %d below true count %d", e, n)
		}
		if e != n {
			over++
		}
	}
	if over > len(truth)/100 {
		t.Errorf("%d of %d estimates over the true count in a sparse sketch", over, len(truth))
	}
	tm := back.Templates(8)
	for h, n := range truth {
		if (n > 8) != tm.Has(h) && back.Estimate(h) <= 8 == (n <= 8) {
			t.Fatalf("template set disagrees with the estimate for a count of %d", n)
		}
	}
	if err := whole.Merge(NewDFSketch(1<<23, 42)); err == nil {
		t.Error("merging sketches of different sizes must fail")
	}
	if _, err := ReadDFSketch(bytes.NewReader([]byte("not a sketch at all, no"))); err == nil {
		t.Error("bad magic must fail")
	}
}

// TestTemplateRuleEdgeCases: a row that is all template falls back to all its words (so repeated copies are
// still near duplicates), a template sibling with a different distinct part is kept, a copy with one word of
// the template changed has exactly the original's element set (the changed word is an island) and is
// dropped, a row whose only non-template words are islands is "pseudo", and a short row gets a signature.
func TestTemplateRuleEdgeCases(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Exact.Enabled = false
	def := "Detailed Instructions: In this task you are given a short sentence about an everyday event and you must write one question about how long the event usually lasts, using common sense rather than facts stated in the sentence. Q: "
	var rows []orca.Record
	for i := 0; i < 30; i++ {
		rows = append(rows, orca.Record{ID: "niv." + string(rune('a'+i%26)) + string(rune('a'+i/26)),
			Question: def + "Sentence " + string(rune('A'+i)) + ": the number " + randomWords(i) + "\nA:", Response: "How long did " + randomWords(i+100) + " take?"})
	}
	same := orca.Record{ID: "t0.1", Question: "What is the capital of France? Answer with the name of the city only please.", Response: "Paris"}
	for i := 0; i < 12; i++ { // the same row 12 times: every shingle is in more than 8 rows
		r := same
		r.ID = "t0." + string(rune('a'+i))
		rows = append(rows, r)
	}
	typo := rows[3]
	typo.ID = "niv.typo"
	typo.Question = "Detailed Instructions: In this task you are given a short sentence about an everyday happening and" + typo.Question[len("Detailed Instructions: In this task you are given a short sentence about an everyday event and"):]
	rows = append(rows, typo, orca.Record{ID: "cot.short", Question: "Yes?", Response: ""})

	sk := NewDFSketch(1<<16, cfg.Near.Seed)
	dc := NewDFCounter(cfg.Near)
	for i := range rows {
		sk.Add(dc.Row(&rows[i]))
	}
	sg := NewSigner(cfg.Near, sk.Templates(cfg.Near.MaxShingleDF))
	ix, _ := NewIndex(cfg)
	got := map[string]string{}
	kinds := map[string]byte{}
	for i := range rows {
		sig := sg.Sign(&rows[i], nil)
		if len(sig) > 0 {
			kinds[rows[i].ID] = sig[0]
		}
		reason, dupOf, _ := ix.Check(rows[i].ID, Key{}, sig)
		got[rows[i].ID] = reason + ":" + dupOf
	}
	for i := 0; i < 30; i++ {
		if got[rows[i].ID] != ":" {
			t.Errorf("template sibling %s dropped: %s", rows[i].ID, got[rows[i].ID])
		}
		if kinds[rows[i].ID] != SigDistinct {
			t.Errorf("template sibling %s kind %d, want distinct", rows[i].ID, kinds[rows[i].ID])
		}
	}
	// The question is all template; the answer is not counted (df_fields: question), so it is the
	// distinguishing content.
	if k := kinds["t0.a"]; k != SigDistinct || got["t0.b"] != ReasonNearDuplicate+":t0.a" {
		t.Errorf("all-template question: kind %d, second copy %q (want distinct, near_duplicate of t0.a)", k, got["t0.b"])
	}
	// Counting the answer too makes every word template: the row falls back to all its shingles.
	cfg2 := cfg
	cfg2.Near.DFFields = []string{FieldQuestion, FieldResponse}
	sk2 := NewDFSketch(1<<16, cfg.Near.Seed)
	dc2 := NewDFCounter(cfg2.Near)
	for i := range rows {
		sk2.Add(dc2.Row(&rows[i]))
	}
	r := rows[30]
	r.Response = ""
	if sig := NewSigner(cfg2.Near, sk2.Templates(8)).Sign(&r, nil); sig[0] != SigFallback {
		t.Errorf("all-template row: kind %d, want fallback", sig[0])
	}
	if got["niv.typo"] != ReasonNearDuplicate+":"+rows[3].ID {
		t.Errorf("copy with a template word changed: %q, want near_duplicate of %s", got["niv.typo"], rows[3].ID)
	}
	orig := fromSets(sg.Elements(&rows[3]))
	if typoSet := fromSets(sg.Elements(&typo)); !slices.Equal(typoSet.e, orig.e) {
		t.Errorf("copy with a template word changed: %d elements, original %d; want the same set", len(typoSet.e), len(orig.e))
	}
	// Only an edited template word and an empty answer: the island is all there is.
	island := rows[3]
	island.Question = typo.Question[:strings.Index(typo.Question, "Sentence ")]
	island.Response = ""
	if es := sg.Elements(&island); es.Kind != SigPseudo || len(es.Elems) != 2 {
		t.Errorf("island-only row: kind %d with %d elements, want pseudo with 2 (the edited word, it + the field separator)", es.Kind, len(es.Elems))
	}
	if kinds["cot.short"] == 0 {
		t.Error("short row got no signature")
	}
}

func randomWords(seed int) string {
	rng := rand.New(rand.NewPCG(uint64(seed), 5))
	v := vocab(rng, 3000)
	return joinWords(randomDoc(rng, v, 12))
}

func joinWords(w []string) string {
	var b bytes.Buffer
	for i, x := range w {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(x)
	}
	return b.String()
}
