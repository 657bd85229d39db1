package stats

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// exactQuantile is the nearest-rank quantile of sorted values.
func exactQuantile(sorted []int64, q float64) int64 {
	r := int(math.Ceil(q * float64(len(sorted))))
	r = min(max(r, 1), len(sorted))
	return sorted[r-1]
}

func TestHistogramQuantilesAgainstSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		gen  func() int64
		n    int
	}{
		{"small", func() int64 { return rng.Int64N(300) }, 10001},
		{"lognormal", func() int64 { return int64(math.Exp(rng.NormFloat64()*1.2 + 6.5)) }, 50000},
		{"huge", func() int64 { return 1<<20 + rng.Int64N(1<<30) }, 2000},
		{"one", func() int64 { return 77777 }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h histogram
			vals := make([]int64, tc.n)
			for i := range vals {
				vals[i] = tc.gen()
				h.add(vals[i])
			}
			slices.Sort(vals)
			qs := []float64{0.01, 0.5, 0.9, 0.99, 1}
			got := h.quantiles(qs...)
			for i, q := range qs {
				want := exactQuantile(vals, q)
				if want < exactLimit && got[i] != want {
					t.Errorf("q%.2f = %d, want exactly %d", q, got[i], want)
				}
				if got[i] > want || float64(want-got[i]) > float64(want)/subBuckets {
					t.Errorf("q%.2f = %d, want %d within 0.1%% below", q, got[i], want)
				}
			}
			if h.min != vals[0] || h.max != vals[len(vals)-1] {
				t.Errorf("min/max %d/%d, want %d/%d", h.min, h.max, vals[0], vals[len(vals)-1])
			}
			var total int64
			for _, b := range h.bins() {
				if b.Hi <= b.Lo {
					t.Fatalf("empty bin range %+v", b)
				}
				total += b.Count
			}
			if total != int64(tc.n) {
				t.Errorf("bins hold %d values, want %d", total, tc.n)
			}
		})
	}
}

func TestDisplayBinsAreLogSpaced(t *testing.T) {
	var h histogram
	for v := int64(0); v < 5000; v++ {
		h.add(v)
	}
	bins := h.bins()
	if bins[0].Lo != 0 || bins[0].Hi != 1 || bins[0].Count != 1 {
		t.Fatalf("first bin %+v, want [0,1) with one value", bins[0])
	}
	for i, b := range bins {
		if i > 0 && b.Lo != bins[i-1].Hi {
			t.Fatalf("bins %d and %d are not contiguous: %+v %+v", i-1, i, bins[i-1], b)
		}
		// Below 2048 the bins are exact integer ranges; check the count.
		if b.Hi <= exactLimit && b.Count != b.Hi-b.Lo {
			t.Errorf("bin %+v: count %d, want %d", b, b.Count, b.Hi-b.Lo)
		}
		// Log spacing: from 16 on, each bin is about 2^(1/4) ≈ 1.19 times the previous edge.
		if b.Lo >= 16 {
			if r := float64(b.Hi) / float64(b.Lo); r < 1.12 || r > 1.26 {
				t.Errorf("bin %+v: ratio %.3f, want ≈ 1.19", b, r)
			}
		}
	}
}

// synthObs makes n observations with a mix of submixes, prompts, drops and duplicates; with manyPrompts,
// more distinct system prompts than MaxGroups, to exercise the overflow bucket.
func synthObs(n int, seed uint64, manyPrompts bool) []Observation {
	rng := rand.New(rand.NewPCG(seed, 7))
	subs := []string{"cot", "flan", "niv", "t0", "other"}
	reasons := []string{"refusal", "empty_response", "non_ascii", "exact_duplicate", "near_duplicate", ReasonNotSelected}
	out := make([]Observation, n)
	for i := range out {
		o := Observation{
			ID:            fmt.Sprintf("%s.%d", subs[rng.IntN(len(subs))], i),
			QuestionChars: int(math.Exp(rng.NormFloat64() + 5.5)),
			ResponseChars: int(math.Exp(rng.NormFloat64() + 5)),
			Tokens:        -1,
		}
		o.Submix = o.ID[:strings.IndexByte(o.ID, '.')]
		if manyPrompts {
			o.SystemPrompt = fmt.Sprintf("prompt %d", rng.IntN(2*MaxGroups))
		} else {
			o.SystemPrompt = fmt.Sprintf("You are an AI assistant %d.", rng.IntN(16))
		}
		o.SampleChars = o.QuestionChars + o.ResponseChars + len(o.SystemPrompt) + 60
		if i%3 != 0 {
			o.Tokens = o.SampleChars / 4
		}
		if rng.IntN(10) < 7 {
			o.Kept = true
		} else {
			o.Reason = reasons[rng.IntN(len(reasons))]
			o.Detail = fmt.Sprintf("matched %q", "as an AI language model")
			if strings.HasSuffix(o.Reason, "duplicate") && i > 0 {
				o.DuplicateOf = out[rng.IntN(i)].ID
			}
		}
		out[i] = o
	}
	return out
}

func resultJSON(t *testing.T, c *Collector) string {
	t.Helper()
	b, err := json.Marshal(c.Result())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMergeEqualsSequential observes the same rows in one collector and in k collectors over consecutive
// ranges (filled concurrently, as workers would), merges them in range order and compares the JSON.
func TestMergeEqualsSequential(t *testing.T) {
	for _, many := range []bool{false, true} {
		obs := synthObs(6000, 3, many)
		seq := NewCollector()
		for i := range obs {
			seq.Observe(&obs[i])
		}
		want := resultJSON(t, seq)
		if many && (!seq.system.full || len(seq.system.m) != MaxGroups) {
			t.Fatal("test data did not overflow MaxGroups")
		}
		for _, k := range []int{1, 2, 4, 7} {
			rng := rand.New(rand.NewPCG(uint64(k), 9))
			cuts := []int{0}
			for i := 1; i < k; i++ {
				cuts = append(cuts, rng.IntN(len(obs)))
			}
			cuts = append(cuts, len(obs))
			slices.Sort(cuts)
			parts := make([]*Collector, k)
			var wg sync.WaitGroup
			for p := 0; p < k; p++ {
				wg.Go(func() {
					c := NewCollector()
					for i := cuts[p]; i < cuts[p+1]; i++ {
						c.Observe(&obs[i])
					}
					parts[p] = c
				})
			}
			wg.Wait()
			merged := parts[0]
			for _, p := range parts[1:] {
				merged.Merge(p)
			}
			if got := resultJSON(t, merged); got != want {
				t.Errorf("manyPrompts=%v k=%d: merged result differs from sequential\n got %.400s\nwant %.400s", many, k, got, want)
			}
		}
	}
}

// TestMergeAnyPartition deals rows to collectors round-robin in batches, as a worker pool would, merges
// them in any order and checks everything but the examples (which depend on input order) is the same.
func TestMergeAnyPartition(t *testing.T) {
	obs := synthObs(5000, 11, true)
	seq := NewCollector()
	for i := range obs {
		seq.Observe(&obs[i])
	}
	strip := func(d Distributions) string {
		for i := range d.DropReasons {
			d.DropReasons[i].Examples = nil
		}
		b, _ := json.Marshal(d)
		return string(b)
	}
	want := strip(seq.Result())
	parts := make([]*Collector, 4)
	for p := range parts {
		parts[p] = NewCollector()
	}
	for i := range obs {
		parts[(i/64)%4].Observe(&obs[i])
	}
	merged := parts[3]
	for _, p := range []int{1, 0, 2} {
		merged.Merge(parts[p])
	}
	if got := strip(merged.Result()); got != want {
		t.Errorf("interleaved merge differs from sequential")
	}
}

func TestResultContents(t *testing.T) {
	c := NewCollector()
	obs := []Observation{
		{ID: "flan.1", Submix: "flan", SystemPrompt: "", QuestionChars: 10, ResponseChars: 20, SampleChars: 80, Tokens: 25, Kept: true},
		{ID: "flan.2", Submix: "flan", SystemPrompt: "S", QuestionChars: 10, ResponseChars: 20, SampleChars: 90, Tokens: 28, Reason: "exact_duplicate", DuplicateOf: "flan.1"},
		{ID: "niv.3", Submix: "niv", SystemPrompt: "S", QuestionChars: 10, ResponseChars: 0, Tokens: -1, Reason: "empty_response", Detail: "response"},
		{ID: "t0.4", Submix: "t0", Tokens: -1, Reason: ReasonNotSelected},
		{ID: "flan.5", Submix: "flan", SystemPrompt: "S", QuestionChars: 11, ResponseChars: 21, SampleChars: 91, Tokens: 29, Reason: "near_duplicate", DuplicateOf: "flan.1", Detail: "jaccard 0.91"},
		{ID: "cot.6", Submix: "cot", SystemPrompt: "S", QuestionChars: 3000, ResponseChars: 5, SampleChars: 3100, Tokens: 800, Kept: true},
	}
	for i := range obs {
		c.Observe(&obs[i])
	}
	d := c.Result()
	if d.Rows != 6 || d.RowsKept != 2 || d.TokenizedRows != 4 {
		t.Errorf("rows %d kept %d tokenized %d", d.Rows, d.RowsKept, d.TokenizedRows)
	}
	wantSub := []GroupStat{
		{Name: "cot", RowsRead: 1, RowsKept: 1, CharsKept: 3100, TokensKept: 800},
		{Name: "flan", RowsRead: 3, RowsKept: 1, CharsKept: 80, TokensKept: 25},
		{Name: "niv", RowsRead: 1},
		{Name: "t0", RowsRead: 1},
	}
	if !slices.Equal(d.Submixes, wantSub) {
		t.Errorf("submixes %+v\nwant %+v", d.Submixes, wantSub)
	}
	if d.SystemPrompts[0].Name != "S" || d.SystemPrompts[0].RowsRead != 4 || d.SystemPrompts[1].Name != "" || d.SystemPrompts[1].RowsRead != 2 {
		t.Errorf("system prompts %+v", d.SystemPrompts)
	}
	q := d.Length(MeasureQuestionChars, RowsAll)
	if q == nil || q.Count != 5 || q.Min != 10 || q.Max != 3000 || q.P50 != 10 || q.P90 != 3000 || q.Sum != 3041 {
		t.Errorf("question chars (all, not_selected excluded): %+v", q)
	}
	s := d.Length(MeasureSampleChars, RowsAll)
	if s == nil || s.Count != 4 { // niv.3 was not rendered (SampleChars 0)
		t.Errorf("sample chars (all): %+v", s)
	}
	tk := d.Length(MeasureSampleTokens, RowsKept)
	if tk == nil || tk.Count != 2 || tk.P50 != 25 || tk.Max != 800 {
		t.Errorf("tokens (kept): %+v", tk)
	}
	if d.Duplicates.Source != "duplicate_of" || d.Duplicates.Clusters != 1 || d.Duplicates.DuplicateRows != 2 || d.Duplicates.MaxSize != 3 {
		t.Errorf("duplicates %+v", d.Duplicates)
	}
	c.ObserveCluster(2)
	c.ObserveCluster(2)
	c.ObserveCluster(5)
	if dd := c.Result().Duplicates; dd.Source != "dedupe" || dd.Clusters != 3 || dd.DuplicateRows != 6 || dd.MaxSize != 5 {
		t.Errorf("reported clusters %+v", dd)
	}
	if len(d.DropReasons) != 4 {
		t.Fatalf("drop reasons %+v", d.DropReasons)
	}
	for _, r := range d.DropReasons {
		if r.Reason == "near_duplicate" && (r.Rows != 1 || r.Examples[0] != Example{ID: "flan.5", Detail: "jaccard 0.91", DuplicateOf: "flan.1"}) {
			t.Errorf("near_duplicate %+v", r)
		}
	}
}

func TestExamplesAreFirstInInputOrder(t *testing.T) {
	c := NewCollector()
	for i := 0; i < 10; i++ {
		long := strings.Repeat("é", MaxDetailBytes) // 2 bytes a rune: must be clipped on a rune boundary
		c.Observe(&Observation{ID: fmt.Sprint("flan.", i), Submix: "flan", Reason: "refusal", Detail: long, Tokens: -1})
	}
	r := c.Result().DropReasons[0]
	if r.Rows != 10 || len(r.Examples) != ExamplesPerReason {
		t.Fatalf("%+v", r)
	}
	for i, e := range r.Examples {
		if e.ID != fmt.Sprint("flan.", i) {
			t.Errorf("example %d is %s", i, e.ID)
		}
		if len(e.Detail) > MaxDetailBytes+len("…") || !strings.HasSuffix(e.Detail, "…") || strings.ContainsRune(e.Detail, '\uFFFD') {
			t.Errorf("detail not clipped cleanly: %d bytes", len(e.Detail))
		}
	}
}

func TestLongSystemPromptIsBounded(t *testing.T) {
	c := NewCollector()
	a := strings.Repeat("a", 10*MaxGroupKeyBytes)
	b := a + "b"
	for _, p := range []string{a, b, a} {
		c.Observe(&Observation{ID: "t0.1", Submix: "t0", SystemPrompt: p, Kept: true, Tokens: -1})
	}
	sp := c.Result().SystemPrompts
	if len(sp) != 2 || sp[0].RowsRead != 2 || sp[1].RowsRead != 1 {
		t.Fatalf("long prompts not kept apart: %+v", sp)
	}
	for _, g := range sp {
		if len(g.Name) > MaxGroupKeyBytes+64 {
			t.Errorf("key of %d bytes", len(g.Name))
		}
	}
}

func TestPackingStat(t *testing.T) {
	p := NewPackingStat(16384, 10, 16384*3-1, 4)
	if p.LowerBoundBins != 3 || math.Abs(p.Efficiency-float64(16384*3-1)/(4*16384)) > 1e-12 {
		t.Errorf("%+v", p)
	}
}

func TestParseDocumentRejectsBadInput(t *testing.T) {
	for name, in := range map[string]string{
		"not json":      `{"rows_read": `,
		"no ledger":     `{"inputs": []}`,
		"does not add":  `{"rows_read": 3, "rows_kept": 1, "dropped": {}, "by_submix": {"flan": {"read": 3, "kept": 1, "dropped": {}}}, "stages": []}`,
		"null submix":   `{"rows_read": 0, "rows_kept": 0, "by_submix": {"flan": null}}`,
		"null stage":    `{"rows_read": 0, "rows_kept": 0, "by_submix": {}, "stages": [null]}`,
		"wrong type":    `{"rows_read": "many", "by_submix": {}}`,
		"array at root": `[]`,
	} {
		if _, err := ParseDocument([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	d, err := ParseDocument([]byte(`{"rows_read": 2, "rows_kept": 1, "dropped": {"x": 1}, "by_submix": {"flan": {"read": 2, "kept": 1, "dropped": {"x": 1}}}, "future_field": 1}`))
	if err != nil || d.RowsRead != 2 || d.Inputs == nil {
		t.Fatalf("valid document: %v %+v", err, d)
	}
}
