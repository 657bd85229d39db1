package dedupe

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
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

// refSet is an independent reference for the plain rule (no templates): the words (maximal runs of
// lower-cased letters and digits) and word pairs of the fields, a "\x00sep" word between fields (which is
// not an element alone), as sorted distinct strings; and the number of words.
func refSet(fields ...string) ([]string, int) {
	var words []string
	n := 0
	for i, f := range fields {
		ws := strings.FieldsFunc(strings.ToLower(f), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if i > 0 && len(words) > 0 {
			words = append(words, "\x00sep")
		}
		words = append(words, ws...)
		n += len(ws)
	}
	set := make([]string, 0, 2*len(words))
	for i, w := range words {
		if w != "\x00sep" {
			set = append(set, w)
		}
		if i > 0 {
			set = append(set, words[i-1]+" "+w)
		}
	}
	slices.Sort(set)
	return slices.Compact(set), n
}

// refElems is a row's element sets as sorted uint64 (hashed strings for the reference, the signer's element
// hashes for the template rule), its word count and its response's element set.
type refElems struct {
	e, resp, tmpl []uint64
	words         int
}

func hashStrings(set []string) []uint64 {
	var out []uint64
	for _, k := range set {
		h := fnv.New64a()
		h.Write([]byte(k))
		out = append(out, h.Sum64())
	}
	slices.Sort(out)
	return out
}

// refRow is the independent reference for a row under the plain rule.
func refRow(q, r string) refElems {
	set, words := refSet(q, r)
	resp, _ := refSet(r)
	return refElems{e: hashStrings(set), resp: hashStrings(resp), words: words}
}

func fromSets(es ElementSets) refElems {
	r := refElems{e: slices.Clone(es.Elems), resp: slices.Clone(es.Response), tmpl: slices.Clone(es.Template), words: es.Words}
	slices.Sort(r.e)
	slices.Sort(r.resp)
	slices.Sort(r.tmpl)
	return r
}

// setSim is the exact Jaccard of two sorted sets and the containment of the smaller in the larger (two empty
// sets are identical).
func setSim(a, b []uint64) (j, c float64) {
	i, k, inter := 0, 0, 0
	for i < len(a) && k < len(b) {
		switch {
		case a[i] == b[k]:
			inter++
			i++
			k++
		case a[i] < b[k]:
			i++
		default:
			k++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 1, 1
	}
	if m := min(len(a), len(b)); m > 0 {
		c = float64(inter) / float64(m)
	}
	return float64(inter) / float64(union), c
}

// pairSim is the exact similarity of two rows under the rule.
type pairSim struct {
	j, c   float64 // Jaccard and containment of the element sets
	within bool    // word counts within max_growth
	rj, rc float64 // Jaccard and containment of the responses
	tc     float64 // containment of the template shingle sets (1 when either is empty)
}

func simOf(cfg NearConfig, a, b refElems) pairSim {
	var p pairSim
	p.j, p.c = setSim(a.e, b.e)
	d := math.Abs(float64(a.words - b.words))
	p.within = d <= cfg.MaxGrowth*float64(max(a.words, b.words))
	p.rj, p.rc = setSim(a.resp, b.resp)
	_, p.tc = setSim(a.tmpl, b.tmpl)
	if len(a.tmpl) == 0 || len(b.tmpl) == 0 {
		p.tc = 1
	}
	return p
}

// match is the documented rule (README.md, "The rule"): Jaccard >= threshold, or containment >= containment
// with word counts within max_growth; and the responses' Jaccard >= response_jaccard or their containment
// >= response_containment; and the template shingle sets' containment >= template_containment. slack
// lowers every threshold.
func (p pairSim) match(cfg NearConfig, slack float64) bool {
	main := p.j >= cfg.Threshold-slack || cfg.Containment > 0 && p.within && p.c >= cfg.Containment-slack
	resp := cfg.ResponseJaccard == 0 && cfg.ResponseContainment == 0 ||
		cfg.ResponseJaccard > 0 && p.rj >= cfg.ResponseJaccard-slack || cfg.ResponseContainment > 0 && p.rc >= cfg.ResponseContainment-slack
	tmpl := cfg.TemplateContainment == 0 || p.tc >= cfg.TemplateContainment-slack
	return main && resp && tmpl
}

// jaccard is the exact Jaccard of two sorted distinct string sets.
func jaccard(a, b []string) float64 {
	i, k, inter := 0, 0, 0
	for i < len(a) && k < len(b) {
		switch {
		case a[i] == b[k]:
			inter++
			i++
			k++
		case a[i] < b[k]:
			i++
		default:
			k++
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

// TestNearVsBruteForce checks the MinHash-LSH index against the documented rule computed exactly by brute
// force over every earlier kept row, on 4,000 rows (bases, edited variants at a spread of edit rates,
// unrelated rows). Two corpora: "plain" (max_shingle_df 0) against an independent string reference of the
// element sets, and "templates" (the defaults: half the rows carry one of 20 long shared instructions, a DF
// pass, then the template rule) against the exact similarity of the element sets the signer chooses
// (Signer.Elements). The defaults were tuned on seed 1; the targets are asserted on seed 2: recall >= 95% of
// the rows the rule calls near duplicates of an earlier kept row, and at most 2% of near_duplicate drops more
// than 0.05 below the rule (Jaccard < 0.75 and not contained at 0.85 within max_growth).
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
						t.Errorf("%.2f%% of near_duplicate drops are more than 0.05 below the rule (want <= 2%%)", 100*low)
					}
				}
			})
		}
	}
}

// nearVsBruteForce returns the recall of the rule's near duplicates and the share of drops more than 0.05
// below the rule.
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
	sets := make([]refElems, len(rows))
	for i, c := range rows {
		if templates {
			sets[i] = fromSets(sg.Elements(&c.rec))
		} else {
			sets[i] = refRow(c.rec.Question, c.rec.Response)
		}
	}
	bf := newBruteForce(sets, 0.75) // every pair the rule (or its 0.05 slack) can match
	ix, err := NewIndex(cfg)
	if err != nil {
		t.Fatal(err)
	}
	idx := map[string]int{}
	for i, c := range rows {
		idx[c.rec.ID] = i
	}
	var sig []byte
	type bucket struct{ n, dropped int }
	hist := map[int]*bucket{}
	var ruleN, ruleHit, drops, dropsLow, contained int
	for i, c := range rows {
		// The truth: the rule against every earlier KEPT row (first occurrence wins, as in the index).
		best, isDup := 0.0, false
		for _, k := range bf.candidates(i) {
			p := simOf(cfg.Near, sets[i], sets[k])
			best = max(best, p.j)
			isDup = isDup || p.match(cfg.Near, 0)
		}
		sig = sg.Sign(&c.rec, sig)
		reason, dupOf, detail := ix.Check(c.rec.ID, Key{}, sig)
		dropped := reason == ReasonNearDuplicate
		if !dropped {
			bf.keep(i)
		} else {
			drops++
			if p := simOf(cfg.Near, sets[i], sets[idx[dupOf]]); !p.match(cfg.Near, 0.05) {
				dropsLow++
				t.Logf("row %d dropped as near dup of %s (%s): true %+v", i, dupOf, detail, p)
			}
			if strings.Contains(detail, "containment") {
				contained++
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
		if isDup {
			ruleN++
			if dropped {
				ruleHit++
			}
		}
	}
	for b := 0; b <= 20; b++ {
		if h := hist[b]; h != nil && b >= 15 { // below 0.75 "best" is not exact (prefix filter)
			t.Logf("best true J %.2f–%.2f: %4d rows, %4d dropped (%.1f%%)", float64(b)/20, float64(b+1)/20, h.n, h.dropped, 100*float64(h.dropped)/float64(h.n))
		}
	}
	recall := float64(ruleHit) / float64(ruleN)
	low := float64(dropsLow) / float64(max(drops, 1))
	t.Logf("recall of the rule's near duplicates: %d/%d = %.3f; drops %d (%d by containment), more than 0.05 below the rule: %d (%.2f%%); signatures %v",
		ruleHit, ruleN, recall, drops, contained, dropsLow, 100*low, ix.Stats().NearSignatures)
	if ruleN < 300 {
		t.Fatalf("corpus has only %d near duplicates under the rule; the generator is off", ruleN)
	}
	return recall, low
}

// bruteForce finds, for a row, every earlier kept row whose containment with it can reach minOverlap, by
// prefix filtering (Chaudhuri et al. 2006): elements are ordered rarest first, and two sets with
// |A∩B| >= minOverlap·min(|A|,|B|) share an element of the smaller set's prefix of
// |S| - ceil(minOverlap·|S|) + 1 elements. Every pair at or above minOverlap is compared exactly; pairs
// below it cannot reach Jaccard minOverlap either (Jaccard <= containment). Elements get dense ids, so the
// indexes are slices (the test runs under the race detector too).
type bruteForce struct {
	ordered  [][]int32 // each set's element ids, rarest first
	prefix   []int
	full     [][]int32 // kept rows by element id
	prefixIx [][]int32 // kept rows by prefix element id
	seen     []int32   // per row: the last query that met it (+1)
	query    int32
	out      []int
}

func newBruteForce(sets []refElems, minOverlap float64) *bruteForce {
	ids := map[uint64]int32{}
	var freq []int32
	bf := &bruteForce{seen: make([]int32, len(sets))}
	for _, s := range sets {
		o := make([]int32, len(s.e))
		for k, e := range s.e {
			id, ok := ids[e]
			if !ok {
				id = int32(len(freq))
				ids[e] = id
				freq = append(freq, 0)
			}
			freq[id]++
			o[k] = id
		}
		bf.ordered = append(bf.ordered, o)
	}
	for i, o := range bf.ordered {
		slices.SortFunc(o, func(a, b int32) int {
			if d := freq[a] - freq[b]; d != 0 {
				return int(d)
			}
			return int(a - b)
		})
		bf.prefix = append(bf.prefix, len(o)-int(math.Ceil(minOverlap*float64(len(o))))+1)
		_ = i
	}
	bf.full = make([][]int32, len(freq))
	bf.prefixIx = make([][]int32, len(freq))
	return bf
}

// candidates lists the kept rows that can reach the overlap with row i, each once, in ascending order.
func (bf *bruteForce) candidates(i int) []int {
	bf.query++
	bf.out = bf.out[:0]
	add := func(k int32) {
		if bf.seen[k] != bf.query {
			bf.seen[k] = bf.query
			bf.out = append(bf.out, int(k))
		}
	}
	o := bf.ordered[i]
	for _, e := range o[:min(bf.prefix[i], len(o))] { // i is the smaller set: its prefix meets the other row
		for _, k := range bf.full[e] {
			add(k)
		}
	}
	for _, e := range o { // the other row is the smaller set: its prefix meets row i
		for _, k := range bf.prefixIx[e] {
			add(k)
		}
	}
	slices.Sort(bf.out)
	return bf.out
}

func (bf *bruteForce) keep(i int) {
	for n, e := range bf.ordered[i] {
		bf.full[e] = append(bf.full[e], int32(i))
		if n < bf.prefix[i] {
			bf.prefixIx[e] = append(bf.prefixIx[e], int32(i))
		}
	}
}

// TestLongFieldsSignedOnTheirFirstWords: a field past maxFieldWords signs as its first maxFieldWords words
// (and the DF pass counts the same prefix), and the signer does not keep a long row's scratch.
func TestLongFieldsSignedOnTheirFirstWords(t *testing.T) {
	defer func(n int) { maxFieldWords = n }(maxFieldWords)
	maxFieldWords = 50
	cfg := DefaultConfig().Near
	words := make([]string, 120)
	for i := range words {
		words[i] = fmt.Sprintf("w%d", i)
	}
	long := orca.Record{Question: strings.Join(words, " "), Response: strings.Join(words[:90], ", ") + "."}
	short := orca.Record{Question: strings.Join(words[:50], " "), Response: strings.Join(words[:50], ", ")}
	sg := NewSigner(cfg, nil)
	a := append([]byte(nil), sg.Sign(&long, nil)...)
	b := sg.Sign(&short, nil)
	if !bytes.Equal(a, b) {
		t.Fatal("a field past the word limit does not sign as its first words")
	}
	other := orca.Record{Question: strings.Join(words[1:51], " "), Response: short.Response}
	if bytes.Equal(sg.Sign(&other, nil), b) {
		t.Fatal("the test cannot fail: another prefix signs the same")
	}
	df := NewDFCounter(cfg)
	x := slices.Clone(df.Row(&long))
	slices.Sort(x)
	y := slices.Clone(df.Row(&short))
	slices.Sort(y)
	if !slices.Equal(x, y) {
		t.Fatal("the DF pass does not count the same prefix")
	}
	maxFieldWords = 1 << 20
	huge := orca.Record{Question: strings.Repeat("alpha beta gamma ", retainWords)}
	sg.Sign(&huge, nil)
	if cap(sg.sh.words) > retainWords || cap(sg.table) > 0 {
		t.Fatalf("the signer kept a long row's scratch (%d words)", cap(sg.sh.words))
	}
}
