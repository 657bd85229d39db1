package filter_test

import (
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/orcaprep/orcaprep/dedupe"
	"github.com/orcaprep/orcaprep/filter"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/synth"
)

// TestCurationEval runs the default filters and dedupe over labelled synth rows, in the pipeline's order
// (filters, then the dedupe index in input order), and checks the targets. Rows: ORCAPREP_EVAL_ROWS
// (default 50000). Run with -v to see the figures.
func TestCurationEval(t *testing.T) {
	rows := 50000
	if s := os.Getenv("ORCAPREP_EVAL_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1000 {
			t.Fatalf("ORCAPREP_EVAL_ROWS=%q: want an integer >= 1000", s)
		}
		rows = n
	}
	if testing.Short() || raceEnabled {
		rows = 10000
	}
	chain, err := filter.New(filter.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	dcfg := dedupe.DefaultConfig()
	ix, err := dedupe.NewIndex(dcfg)
	if err != nil {
		t.Fatal(err)
	}
	ix.Reserve(rows)
	type tally struct {
		n       int
		dropped map[string]int
	}
	byKind := map[string]*tally{}
	falseRefusals := map[string]int{} // label kind → dropped as refusal
	// First read, as the pipeline does: shingle document frequencies of the selected rows.
	sk := dedupe.NewDFSketch(64*rows, dcfg.Near.Seed)
	dc := dedupe.NewDFCounter(dcfg.Near)
	if err := synth.Generate(synth.DefaultConfig(rows, 20260127), func(r orca.Record, _ synth.Label) error {
		sk.Add(dc.Row(&r))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var sig []byte
	signer := dedupe.NewSigner(dcfg.Near, sk.Templates(dcfg.Near.MaxShingleDF))
	var refusalDrops, missed int
	texts := map[string][2]string{} // id → question, response of rows that reached the dedupe index
	var extraNear []float64         // true Jaccard of near_duplicate drops not labelled as duplicates
	err = synth.Generate(synth.DefaultConfig(rows, 20260127), func(r orca.Record, l synth.Label) error {
		kind := l.Kinds[0]
		tl := byKind[kind]
		if tl == nil {
			tl = &tally{dropped: map[string]int{}}
			byKind[kind] = tl
		}
		tl.n++
		reason, detail := chain.Apply(&r)
		if reason == "" {
			key := dedupe.ExactKey(dcfg.Exact, &r)
			sig = signer.Sign(&r, sig)
			var dupOf string
			reason, dupOf, detail = ix.Check(r.ID, key, sig)
			if reason == "" {
				texts[r.ID] = [2]string{r.Question, r.Response}
			} else if reason == dedupe.ReasonNearDuplicate && kind != synth.KindNearDuplicate {
				o := texts[dupOf]
				j := wordJaccard5(o[0]+" \x00 "+o[1], r.Question+" \x00 "+r.Response)
				extraNear = append(extraNear, j)
				t.Logf("near_duplicate drop of a %s row %s (%s): true word-5-gram Jaccard %.3f with %s", kind, r.ID, detail, j, dupOf)
			}
		}
		if reason != "" {
			tl.dropped[reason]++
		}
		if (kind == synth.KindRefusalOpening || kind == synth.KindRefusalMid) && reason != filter.ReasonRefusal {
			missed++
			if missed <= 6 {
				t.Logf("refusal missed (%s, reason %q): question %.80q response %.120q", kind, reason, r.Question, r.Response)
			}
		}
		if reason == filter.ReasonRefusal {
			refusalDrops++
			if kind != synth.KindRefusalOpening && kind != synth.KindRefusalMid {
				falseRefusals[kind]++
				if falseRefusals[kind] <= 5 {
					t.Logf("refusal false positive (%s, %q): %.200q", kind, detail, r.Response)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	total := func(k string) (n, d int) {
		if tl := byKind[k]; tl != nil {
			n = tl.n
			for _, c := range tl.dropped {
				d += c
			}
		}
		return
	}
	reasonCount := func(k, reason string) int {
		if tl := byKind[k]; tl != nil {
			return tl.dropped[reason]
		}
		return 0
	}
	pct := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return 100 * float64(a) / float64(b)
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		n, d := total(k)
		t.Logf("%-22s rows %6d  dropped %6d (%6.2f%%)  %v", k, n, d, pct(d, n), byKind[k].dropped)
	}
	exN, _ := total(synth.KindExactDuplicate)
	exD := reasonCount(synth.KindExactDuplicate, dedupe.ReasonExactDuplicate)
	nearN, _ := total(synth.KindNearDuplicate)
	nearD := reasonCount(synth.KindNearDuplicate, dedupe.ReasonNearDuplicate) + reasonCount(synth.KindNearDuplicate, dedupe.ReasonExactDuplicate)
	ro, _ := total(synth.KindRefusalOpening)
	rm, _ := total(synth.KindRefusalMid)
	refTP := reasonCount(synth.KindRefusalOpening, filter.ReasonRefusal) + reasonCount(synth.KindRefusalMid, filter.ReasonRefusal)
	hq, hqD := total(synth.KindMentionsAIQuestion)
	ha, haD := total(synth.KindDiscussesAIAnswer)
	cl, clD := total(synth.KindClean)
	t.Logf("exact duplicates removed: %d/%d = %.2f%%", exD, exN, pct(exD, exN))
	t.Logf("near duplicates removed:  %d/%d = %.2f%%", nearD, nearN, pct(nearD, nearN))
	t.Logf("refusal recall: opening %.2f%%, mid %.2f%%, all %d/%d = %.2f%%; precision %d/%d = %.2f%%",
		pct(reasonCount(synth.KindRefusalOpening, filter.ReasonRefusal), ro), pct(reasonCount(synth.KindRefusalMid, filter.ReasonRefusal), rm),
		refTP, ro+rm, pct(refTP, ro+rm), refTP, refusalDrops, pct(refTP, refusalDrops))
	t.Logf("hard negatives kept: %d/%d = %.2f%%", hq+ha-hqD-haD, hq+ha, pct(hq+ha-hqD-haD, hq+ha))
	t.Logf("clean rows dropped: %d/%d = %.3f%% %v", clD, cl, pct(clD, cl), byKind[synth.KindClean].dropped)
	t.Logf("index: %+v", ix.Stats())
	for _, j := range extraNear {
		if j < 0.7 {
			t.Errorf("a row not labelled near_duplicate was dropped as one at true Jaccard %.3f", j)
		}
	}

	if exD != exN {
		t.Errorf("exact duplicates removed %d/%d, want all", exD, exN)
	}
	if pct(nearD, nearN) < 95 {
		t.Errorf("near duplicates removed %.2f%% < 95%%", pct(nearD, nearN))
	}
	if pct(refTP, ro+rm) < 98 || pct(refTP, refusalDrops) < 99 {
		t.Errorf("refusal recall %.2f%% / precision %.2f%%, want >= 98%% / >= 99%%", pct(refTP, ro+rm), pct(refTP, refusalDrops))
	}
	if pct(clD, cl) > 0.2 {
		t.Errorf("clean rows dropped %.3f%% > 0.2%%", pct(clD, cl))
	}
}

// wordJaccard5 is the exact word-5-gram Jaccard of two texts (lower-cased letter/digit runs; \x00 becomes
// its own separator word so field boundaries count as in dedupe).
func wordJaccard5(a, b string) float64 {
	sh := func(s string) map[string]bool {
		w := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r != 0 && !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		m := map[string]bool{}
		if len(w) < 5 {
			m[strings.Join(w, " ")] = true
		}
		for i := 0; i+5 <= len(w); i++ {
			m[strings.Join(w[i:i+5], " ")] = true
		}
		return m
	}
	x, y := sh(a), sh(b)
	inter := 0
	for k := range x {
		if y[k] {
			inter++
		}
	}
	return float64(inter) / float64(len(x)+len(y)-inter)
}

// TestCurationEvalOptional turns on the optional MLPerf-style filters (non_ascii, too_long by characters,
// short_response, language) over synth rows and reports what each drops; clean rows may only lose genuinely
// short answers (synth makes some "Yes"/"(B)"-style responses, which short_response drops by design).
func TestCurationEvalOptional(t *testing.T) {
	rows := 20000
	if testing.Short() || raceEnabled {
		rows = 5000
	}
	cfg := filter.DefaultConfig()
	cfg.NonASCII.Enabled = true
	cfg.TooLong.Enabled = true
	cfg.ShortResponse.Enabled = true
	cfg.Language.Enabled = true
	chain, err := filter.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	drops := map[string]map[string]int{}
	n := map[string]int{}
	err = synth.Generate(synth.DefaultConfig(rows, 7), func(r orca.Record, l synth.Label) error {
		k := l.Kinds[0]
		n[k]++
		reason, detail := chain.Apply(&r)
		if reason == "" {
			return nil
		}
		if drops[k] == nil {
			drops[k] = map[string]int{}
		}
		drops[k][reason]++
		if k == synth.KindClean && reason != filter.ReasonShortResponse && drops[k][reason] <= 3 {
			t.Logf("clean row dropped by %s (%s): %.150q", reason, detail, r.Response)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range synth.Kinds {
		if n[k] > 0 {
			t.Logf("%-22s rows %6d  drops %v", k, n[k], drops[k])
		}
	}
	if got := drops[synth.KindNonASCII][filter.ReasonNonASCII]; got != n[synth.KindNonASCII] {
		t.Errorf("non_ascii rows dropped as non_ascii: %d/%d", got, n[synth.KindNonASCII])
	}
	if got := drops[synth.KindHuge][filter.ReasonTooLong]; got != n[synth.KindHuge] {
		t.Errorf("huge rows dropped as too_long: %d/%d", got, n[synth.KindHuge])
	}
	for _, reason := range []string{filter.ReasonNonASCII, filter.ReasonTooLong, filter.ReasonLanguage} {
		if c := drops[synth.KindClean][reason]; float64(c) > 0.002*float64(n[synth.KindClean]) {
			t.Errorf("clean rows dropped by %s: %d/%d > 0.2%%", reason, c, n[synth.KindClean])
		}
	}
}
