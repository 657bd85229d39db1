package dedupe

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/orca"
)

func r4(id, sp, q, r string) orca.Record {
	return orca.Record{ID: id, SystemPrompt: sp, Question: q, Response: r}
}

func TestExactKeyNormalization(t *testing.T) {
	cfg := DefaultConfig().Exact
	base := r4("a", "You are helpful.", "What is the capital of France?", "Paris.")
	same := []orca.Record{
		r4("b", "  you ARE helpful. ", "What  is the\ncapital of\tFrance?", "PARIS."),
		r4("c", "You are helpful.", "Ｗｈａｔ is the capital of France?", "Paris."), // full-width → NFKC
		r4("d", "You are helpful.", "What is the capital of France?\u00a0", "Paris."),
	}
	differ := []orca.Record{
		r4("e", "", "You are helpful. What is the capital of France?", "Paris."), // field boundary moved
		r4("f", "You are helpful.", "What is the capital of France?", "Paris"),
		r4("g", "You are helpful.", "What is the capital of France", "?Paris."),
	}
	k := ExactKey(cfg, &base)
	for _, r := range same {
		if ExactKey(cfg, &r) != k {
			t.Errorf("%s should normalize to the same key as %s", r.ID, base.ID)
		}
	}
	for _, r := range differ {
		if ExactKey(cfg, &r) == k {
			t.Errorf("%s must not share %s's key", r.ID, base.ID)
		}
	}
	// ß folds to ss, ﬁ is NFKC fi.
	a, b := r4("x", "", "Straße ﬁsh", "ok"), r4("y", "", "STRASSE fish", "ok")
	if ExactKey(cfg, &a) != ExactKey(cfg, &b) {
		t.Errorf("case folding / NFKC: Straße ﬁsh != STRASSE fish")
	}
	// Fields are configurable: on question only, responses may differ.
	qOnly := ExactConfig{Enabled: true, Fields: []string{FieldQuestion}}
	c, d := r4("x", "s1", "Q", "r1"), r4("y", "s2", "q", "r2")
	if ExactKey(qOnly, &c) != ExactKey(qOnly, &d) {
		t.Errorf("question-only key differs")
	}
}

func TestIndexExact(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Near.Enabled = false
	ix, err := NewIndex(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rows := []orca.Record{
		r4("flan.1", "", "q1", "a1"),
		r4("niv.2", "", "q2", "a2"),
		r4("flan.3", "", "Q1", "A1"),
		r4("weird id/with spaces", "", "q3", "a3"),
		r4("t0.5", "", "q3", "a3 "),
		r4("niv.007", "", "q4", "a4"), // leading zero: not packable, must round-trip exactly
		r4("cot.8", "", "q4", "a4"),
	}
	want := []struct{ reason, dupOf string }{
		{"", ""}, {"", ""}, {ReasonExactDuplicate, "flan.1"}, {"", ""}, {ReasonExactDuplicate, "weird id/with spaces"},
		{"", ""}, {ReasonExactDuplicate, "niv.007"},
	}
	for i, r := range rows {
		reason, dupOf, _ := ix.Check(r.ID, ExactKey(cfg.Exact, &r), nil)
		if reason != want[i].reason || dupOf != want[i].dupOf {
			t.Errorf("row %d %s: got (%q,%q), want %+v", i, r.ID, reason, dupOf, want[i])
		}
	}
	s := ix.Stats()
	if s.Kept != 4 || s.ExactDuplicates != 3 || s.Clusters["2"] != 3 {
		t.Errorf("stats %+v", s)
	}
}

func TestIDStoreRoundTrip(t *testing.T) {
	var s idStore
	ids := []string{"flan.0", "niv.242684", "t0.18446744073709551615", "cot.72057594037927935", "cot.72057594037927936",
		"other.5", "flan.", ".5", "flan.5x", "", "niv.01", strings.Repeat("z", 5000), "ünïcode.1"}
	for i := 0; i < 3*chunkLen; i++ { // cross chunk boundaries
		ids = append(ids, fmt.Sprintf("t0.%d", i))
	}
	for _, id := range ids {
		s.add(id)
	}
	for i, id := range ids {
		if got := s.get(uint32(i)); got != id {
			t.Fatalf("id %d: got %q, want %q", i, got, id)
		}
	}
}

// TestExactTableGrowth inserts many keys so the table grows several times, then checks every lookup.
func TestExactTableGrowth(t *testing.T) {
	var tb exactTable
	rng := rand.New(rand.NewPCG(3, 4))
	keys := make([]Key, 50000)
	for i := range keys {
		for j := range keys[i] {
			keys[i][j] = byte(rng.Uint32())
		}
		if _, ok := tb.find(keys[i]); ok {
			t.Fatalf("key %d found before insert", i)
		}
		tb.insert(keys[i], uint32(i))
	}
	for i, k := range keys {
		if ord, ok := tb.find(k); !ok || ord != uint32(i) {
			t.Fatalf("key %d: got (%d,%v)", i, ord, ok)
		}
	}
	if load := float64(tb.used) / float64(len(tb.slots)); load < 0.5 || load > 0.75 {
		t.Errorf("load %.2f outside [0.5, 0.75]", load)
	}
}

// TestDeterministicAcrossWorkers computes keys and signatures with 1 and 4 goroutines and checks that the
// index decisions are identical, as the pipeline requires.
func TestDeterministicAcrossWorkers(t *testing.T) {
	rows := makeNearCorpus(9, 300, 200)
	for i := 0; i < 100; i++ { // add exact duplicates
		c := rows[i]
		c.rec.ID = fmt.Sprintf("cot.%d", 100000+i)
		rows = append(rows, c)
	}
	run := func(workers int) []string {
		cfg := DefaultConfig()
		keys := make([]Key, len(rows))
		sigs := make([][]byte, len(rows))
		done := make(chan bool)
		for w := 0; w < workers; w++ {
			go func(w int) {
				sg := NewSigner(cfg.Near, nil)
				for i := w; i < len(rows); i += workers {
					keys[i] = ExactKey(cfg.Exact, &rows[i].rec)
					sigs[i] = sg.Sign(&rows[i].rec, nil)
				}
				done <- true
			}(w)
		}
		for w := 0; w < workers; w++ {
			<-done
		}
		ix, err := NewIndex(cfg)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(rows))
		for i := range rows {
			reason, dupOf, detail := ix.Check(rows[i].rec.ID, keys[i], sigs[i])
			out[i] = reason + "|" + dupOf + "|" + detail
		}
		return out
	}
	a, b := run(1), run(4)
	drops := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("row %d: 1 worker %q, 4 workers %q", i, a[i], b[i])
		}
		if a[i] != "||" {
			drops++
		}
	}
	if drops < 100 {
		t.Errorf("only %d drops; expected at least the 100 exact duplicates", drops)
	}
}

func TestNearSignatureProperties(t *testing.T) {
	cfg := DefaultConfig().Near
	sg := NewSigner(cfg, nil)
	a := r4("a", "", "What is the capital of France?", "The capital of France is Paris, a city on the Seine.")
	b := r4("b", "ignored system prompt", "WHAT is the capital of france", "The capital of France is Paris — a city on the Seine!")
	sa := sg.Sign(&a, nil)
	va := append([]uint64(nil), sg.Values()...)
	sb := sg.Sign(&b, nil)
	if len(sa) != SignatureBytes(cfg) || sa[0] != SigFull {
		t.Fatalf("len %d kind %d", len(sa), sa[0])
	}
	if string(sa) != string(sb) {
		t.Fatal("case and punctuation changed the signature")
	}
	for i, v := range sg.Values() {
		if v != va[i] {
			t.Fatalf("value %d differs", i)
		}
	}
	empty := r4("e", "", "?!", "...")
	if s := sg.Sign(&empty, nil); len(s) != 0 {
		t.Errorf("no words: signature len %d, want 0", len(s))
	}
	short := r4("s", "", "Yes", "")
	if s := sg.Sign(&short, nil); len(s) != SignatureBytes(cfg) {
		t.Errorf("short row: len %d", len(s))
	}
	// Reusing dst must give the same result as a fresh slice, without allocating.
	dst := make([]byte, 0, SignatureBytes(cfg))
	if s1 := sg.Sign(&a, dst); string(s1) != string(sa) {
		t.Fatal("dst reuse changed the result")
	}
	if n := testing.AllocsPerRun(50, func() { sg.Sign(&a, dst) }); n > 0 {
		t.Errorf("Sign allocates %.1f times with a reused dst", n)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.Exact.Fields = []string{"answer"} }, "dedupe.exact.fields"},
		{func(c *Config) { c.Near.NumPerm = 100 }, "dedupe.near.num_perm"},
		{func(c *Config) { c.Near.Bands, c.Near.Rows = 30, 10 }, "dedupe.near.bands"},
		{func(c *Config) { c.Near.Threshold = 0 }, "dedupe.near.threshold"},
		{func(c *Config) { c.Near.SigBits = 3 }, "dedupe.near.sig_bits"},
		{func(c *Config) { c.Near.NGram = 0 }, "dedupe.near.ngram"},
		{func(c *Config) { c.Near.Fields = []string{"question", "question"} }, "dedupe.near.fields"},
	} {
		cfg := DefaultConfig()
		tc.mut(&cfg)
		if _, err := NewIndex(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want error naming %q, got %v", tc.want, err)
		}
	}
	if _, err := NewIndex(DefaultConfig()); err != nil {
		t.Errorf("default config: %v", err)
	}
}

// TestSigBitsVariants runs the brute-force corpus with other b values to make sure every packing works.
func TestSigBitsVariants(t *testing.T) {
	rows := makeNearCorpus(5, 200, 100)
	for _, b := range []int{4, 8} {
		cfg := DefaultConfig()
		cfg.Exact.Enabled = false
		cfg.Near.SigBits = b
		ix, err := NewIndex(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var sig []byte
		sg := NewSigner(cfg.Near, nil)
		hit, n := 0, 0
		for i, c := range rows {
			sig = sg.Sign(&c.rec, sig)
			reason, dupOf, _ := ix.Check(c.rec.ID, Key{}, sig)
			if c.base >= 0 {
				a, _ := refSet(c.rec.Question, c.rec.Response)
				o, _ := refSet(rows[c.base].rec.Question, rows[c.base].rec.Response)
				j := jaccard(a, o)
				if j >= 0.85 {
					n++
					if reason == ReasonNearDuplicate && dupOf == rows[c.base].rec.ID {
						hit++
					}
				}
				if j < 0.5 && reason != "" {
					t.Errorf("b=%d row %d dropped at true J %.2f", b, i, j)
				}
			}
		}
		if n == 0 || float64(hit) < 0.95*float64(n) {
			t.Errorf("b=%d: caught %d of %d pairs with J >= 0.85", b, hit, n)
		}
	}
}

// TestMemoryPerKeptRow fills an index with 200k distinct rows (synthetic keys and signatures, which is all the
// index sees) and checks the per-row memory budget of README.md: exact ≤ 24 bytes; near, with Reserve, ≤ the
// stored signature part + one band slot (uint32 ordinal + fingerprint byte) per band at the table's lowest
// load (50%) + the slack of one partly filled signature chunk.
func TestMemoryPerKeptRow(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a 200k-row index")
	}
	n := 200000
	if raceEnabled {
		n = 30000
	}
	for _, reserve := range []bool{true, false} {
		cfg := DefaultConfig()
		ix, err := NewIndex(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if reserve {
			ix.Reserve(n)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		sig := make([]byte, SignatureBytes(cfg.Near))
		for i := 0; i < n; i++ {
			var k Key
			for j := 0; j < 16; j += 8 {
				v := rng.Uint64()
				for b := 0; b < 8; b++ {
					k[j+b] = byte(v >> (8 * b))
				}
			}
			randomSig(rng, sig)
			if reason, _, _ := ix.Check(fmt.Sprintf("flan.%d", i), k, sig); reason != "" {
				t.Fatalf("random row %d dropped: %s", i, reason)
			}
		}
		s := ix.Stats()
		t.Logf("reserve=%v: %.1f bytes/kept (exact %.1f, near %.1f, ids %.1f)", reserve, s.BytesPerKept, s.ExactBytesPerKept, s.NearBytesPerKept, s.IDBytesPerKept)
		if s.ExactBytesPerKept > 24.5 {
			t.Errorf("exact %.1f bytes per kept row > 24", s.ExactBytesPerKept)
		}
		nc := cfg.Near
		bound := float64(storedBytes(nc)) + float64(nc.Bands)*5/0.5 + float64(rowsPerSigChunk*storedBytes(nc))/float64(n)
		if reserve && s.NearBytesPerKept > bound {
			t.Errorf("near %.1f bytes per kept row > %.1f", s.NearBytesPerKept, bound)
		}
	}
}

func BenchmarkNearSignature1KB(b *testing.B) {
	cfg := DefaultConfig().Near
	rng := rand.New(rand.NewPCG(1, 1))
	v := vocab(rng, 5000)
	text := strings.Join(randomDoc(rng, v, 400), " ")[:1024]
	r := r4("flan.1", "", text[:200], text[200:])
	sg := NewSigner(cfg, nil)
	var dst []byte
	b.SetBytes(1024)
	b.ReportAllocs()
	for b.Loop() {
		dst = sg.Sign(&r, dst)
	}
}

func BenchmarkExactKey1KB(b *testing.B) {
	cfg := DefaultConfig().Exact
	text := strings.Repeat("The Quick brown fox jumps over the lazy dog. ", 23)[:1024]
	r := r4("flan.1", "You are an AI assistant.", text[:300], text[300:])
	b.SetBytes(int64(len(r.SystemPrompt) + 1024))
	b.ReportAllocs()
	for b.Loop() {
		ExactKey(cfg, &r)
	}
}

func BenchmarkIndexCheck(b *testing.B) {
	cfg := DefaultConfig()
	ix, _ := NewIndex(cfg)
	ix.Reserve(1 << 20)
	rng := rand.New(rand.NewPCG(1, 2))
	sig := make([]byte, SignatureBytes(cfg.Near))
	var k Key
	b.ReportAllocs()
	for b.Loop() {
		randomSig(rng, sig)
		for j := range k {
			k[j] = byte(rng.Uint32())
		}
		ix.Check("flan.1", k, sig)
	}
}

// randomSig fills sig with a random full-kind signature (random band hashes and codes) with plausible counts
// (300 elements, 150 words, 100 response elements).
func randomSig(rng *rand.Rand, sig []byte) {
	for j := range sig {
		sig[j] = byte(rng.Uint32())
	}
	sig[0] = SigFull
	c := sig[len(sig)-countBytes:]
	for i, v := range []uint32{300, 150, 100, 0} {
		binary.LittleEndian.PutUint32(c[4*i:], v)
	}
}
