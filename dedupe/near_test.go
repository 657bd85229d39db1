package dedupe

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"

	"github.com/orcaprep/orcaprep/orca"
)

// vocab is a Zipf-ish word list so that generated documents share common words like real text does.
func vocab(rng *rand.Rand, n int) []string {
	v := make([]string, n)
	for i := range v {
		l := 2 + rng.IntN(8)
		b := make([]byte, l)
		for j := range b {
			b[j] = byte('a' + rng.IntN(26))
		}
		v[i] = string(b)
	}
	return v
}

func randomDoc(rng *rand.Rand, v []string, words int) []string {
	z := rand.NewZipf(rng, 1.1, 2, uint64(len(v)-1))
	d := make([]string, words)
	for i := range d {
		d[i] = v[z.Uint64()]
	}
	return d
}

// mutate replaces, inserts or deletes about rate×len(d) words at random places.
func mutate(rng *rand.Rand, v []string, d []string, rate float64) []string {
	out := append([]string(nil), d...)
	edits := int(rate*float64(len(d)) + 0.5)
	for e := 0; e < edits; e++ {
		p := rng.IntN(len(out))
		switch rng.IntN(3) {
		case 0:
			out[p] = v[rng.IntN(len(v))]
		case 1:
			out = append(out[:p], append([]string{v[rng.IntN(len(v))]}, out[p:]...)...)
		default:
			if len(out) > 10 {
				out = append(out[:p], out[p+1:]...)
			}
		}
	}
	return out
}

// refShingles is an independent reference: word 5-gram strings over lower-cased letter/digit runs.
func refShingles(fields ...string) map[string]struct{} {
	var words []string
	for i, f := range fields {
		ws := strings.FieldsFunc(strings.ToLower(f), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if i > 0 && len(words) > 0 {
			words = append(words, "\x00sep")
		}
		words = append(words, ws...)
	}
	set := map[string]struct{}{}
	if len(words) < 5 {
		set[strings.Join(words, " ")] = struct{}{}
		return set
	}
	for i := 0; i+5 <= len(words); i++ {
		set[strings.Join(words[i:i+5], " ")] = struct{}{}
	}
	return set
}

func jaccard(a, b map[string]struct{}) float64 {
	inter := 0
	for k := range a {
		if _, ok := b[k]; ok {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

type nearCase struct {
	rec  orca.Record
	base int // index of the row it was derived from, or -1
}

// makeNearCorpus builds bases, variants of bases with a spread of edit rates (true Jaccard from ~0.2 to 1),
// and unrelated rows, interleaved so that a variant always comes after its base.
func makeNearCorpus(seed uint64, bases, unrelated int) []nearCase {
	rng := rand.New(rand.NewPCG(seed, 7))
	v := vocab(rng, 5000)
	var out []nearCase
	var docs [][]string
	for i := 0; i < bases; i++ {
		q := randomDoc(rng, v, 15+rng.IntN(40))
		r := randomDoc(rng, v, 60+rng.IntN(300))
		docs = append(docs, append(append([]string{}, q...), r...))
		out = append(out, nearCase{rec: orca.Record{ID: fmt.Sprintf("flan.%d", len(out)), Question: strings.Join(q, " "), Response: strings.Join(r, " ")}, base: -1})
		_ = docs
	}
	n := len(out)
	for i := 0; i < n; i++ {
		b := out[i].rec
		rate := rng.Float64() * 0.12 // 0–12% of words edited → Jaccard roughly 0.4–1
		q := mutate(rng, v, strings.Fields(b.Question), rate)
		r := mutate(rng, v, strings.Fields(b.Response), rate)
		out = append(out, nearCase{rec: orca.Record{ID: fmt.Sprintf("t0.%d", len(out)), Question: strings.Join(q, " "), Response: strings.Join(r, " ")}, base: i})
	}
	for i := 0; i < unrelated; i++ {
		q := randomDoc(rng, v, 15+rng.IntN(40))
		r := randomDoc(rng, v, 60+rng.IntN(300))
		out = append(out, nearCase{rec: orca.Record{ID: fmt.Sprintf("niv.%d", len(out)), Question: strings.Join(q, " "), Response: strings.Join(r, " ")}, base: -1})
	}
	return out
}

// TestNearVsBruteForce checks the MinHash-LSH index against exact Jaccard computed by brute force over every
// earlier kept row that shares a shingle, on 4,000 rows (bases, edited variants at a spread of edit rates,
// unrelated rows). Two rules: "plain" (max_shingle_df 0) against an independent string-shingle reference, and
// "templates" (the defaults: a DF pass over the corpus, then the template rule) against the exact Jaccard of
// the shingle sets the rule chooses. The defaults were tuned on seed 1; the targets are asserted on seed 2:
// recall >= 95% for true J >= 0.8, and at most 2% of near_duplicate drops below true J 0.75.
func TestNearVsBruteForce(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		for _, rule := range []string{"plain", "templates"} {
			t.Run(fmt.Sprintf("seed%d/%s", seed, rule), func(t *testing.T) {
				recall, low := nearVsBruteForce(t, seed, rule == "templates")
				if seed == 2 {
					if recall < 0.95 {
						t.Errorf("recall %.3f < 0.95", recall)
					}
					if low > 0.02 {
						t.Errorf("%.2f%% of near_duplicate drops have true J < 0.75 (want <= 2%%)", 100*low)
					}
				}
			})
		}
	}
}

// nearVsBruteForce returns recall at true J >= 0.8 and the share of drops whose true J is below 0.75.
func nearVsBruteForce(t *testing.T, seed uint64, templates bool) (float64, float64) {
	cfg := DefaultConfig()
	cfg.Exact.Enabled = false
	if !templates {
		cfg.Near.MaxShingleDF = 0
	}
	rows := makeNearCorpus(seed, 1500, 1000)
	var tmpl *TemplateSet
	if templates {
		// Half of the rows get one of 20 long shared instructions before their question (a variant keeps its
		// base's), so the template rule has something to remove.
		rng := rand.New(rand.NewPCG(seed, 99))
		v := vocab(rng, 5000)
		var instr []string
		for k := 0; k < 20; k++ {
			instr = append(instr, "Detailed Instructions: "+strings.Join(randomDoc(rng, v, 60+rng.IntN(100)), " ")+"\nQ: ")
		}
		for i := range rows {
			b := i
			if rows[i].base >= 0 {
				b = rows[i].base
			}
			if b%2 == 0 {
				rows[i].rec.Question = instr[(b/2)%20] + rows[i].rec.Question
			}
		}
		sk := NewDFSketch(64*len(rows), cfg.Near.Seed)
		dc := NewDFCounter(cfg.Near)
		for i := range rows {
			sk.Add(dc.Row(&rows[i].rec))
		}
		tmpl = sk.Templates(cfg.Near.MaxShingleDF)
	}
	sg := NewSigner(cfg.Near, tmpl)
	sets := make([]map[string]struct{}, len(rows))
	inv := map[string][]int{}
	for i, c := range rows {
		if templates {
			sg.Sign(&c.rec, nil)
			_, chosen := sg.choose()
			sets[i] = map[string]struct{}{}
			for _, h := range chosen {
				sets[i][fmt.Sprint(h)] = struct{}{}
			}
		} else {
			sets[i] = refShingles(c.rec.Question, c.rec.Response)
		}
		for s := range sets[i] {
			inv[s] = append(inv[s], i)
		}
	}
	ix, err := NewIndex(cfg)
	if err != nil {
		t.Fatal(err)
	}
	idx := map[string]int{}
	for i, c := range rows {
		idx[c.rec.ID] = i
	}
	var sig []byte
	// Per-row outcome against the brute-force truth: the best true Jaccard with an earlier KEPT row.
	type bucket struct{ n, dropped int }
	hist := map[int]*bucket{}
	var recallN, recallHit, drops, dropsLow int
	kept := map[int]bool{}
	for i, c := range rows {
		best := 0.0
		seen := map[int]bool{}
		for s := range sets[i] {
			for _, j := range inv[s] {
				if j >= i || !kept[j] || seen[j] {
					continue
				}
				seen[j] = true
				if jj := jaccard(sets[i], sets[j]); jj > best {
					best = jj
				}
			}
		}
		sig = sg.Sign(&c.rec, sig)
		reason, dupOf, detail := ix.Check(c.rec.ID, Key{}, sig)
		dropped := reason == ReasonNearDuplicate
		if !dropped {
			kept[i] = true
		} else {
			drops++
			tj := jaccard(sets[i], sets[idx[dupOf]])
			if tj < 0.75 {
				dropsLow++
				t.Logf("row %d dropped as near dup of %s (%s) at true Jaccard %.3f", i, dupOf, detail, tj)
			}
		}
		b := int(best * 20)
		if hist[b] == nil {
			hist[b] = &bucket{}
		}
		hist[b].n++
		if dropped {
			hist[b].dropped++
		}
		if best >= 0.8 {
			recallN++
			if dropped {
				recallHit++
			}
		}
	}
	for b := 0; b <= 20; b++ {
		if h := hist[b]; h != nil && b >= 12 {
			t.Logf("true J %.2f–%.2f: %4d rows, %4d dropped (%.1f%%)", float64(b)/20, float64(b+1)/20, h.n, h.dropped, 100*float64(h.dropped)/float64(h.n))
		}
	}
	recall := float64(recallHit) / float64(recallN)
	low := float64(dropsLow) / float64(max(drops, 1))
	t.Logf("recall at true J >= 0.8: %d/%d = %.3f; drops %d, below true J 0.75: %d (%.2f%%); signatures %v",
		recallHit, recallN, recall, drops, dropsLow, 100*low, ix.Stats().NearSignatures)
	if recallN < 300 {
		t.Fatalf("corpus has only %d rows at J >= 0.8; the generator is off", recallN)
	}
	return recall, low
}
