package synth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/progress"
	"github.com/parquet-go/parquet-go"
)

type genRow struct {
	rec orca.Record
	lab Label
}

// gen20k is shared by the statistical tests: generating it once keeps `go test -race` fast.
var gen20k = sync.OnceValues(func() ([]genRow, error) { return collect(DefaultConfig(20000, 42)) })

func collect(cfg Config) ([]genRow, error) {
	var rows []genRow
	err := Generate(cfg, func(r orca.Record, l Label) error {
		rows = append(rows, genRow{r, l})
		return nil
	})
	return rows, err
}

func rows20k(t *testing.T) []genRow {
	t.Helper()
	rows, err := gen20k()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func digest(t *testing.T, cfg Config) string {
	t.Helper()
	h := sha256.New()
	err := Generate(cfg, func(r orca.Record, l Label) error {
		fmt.Fprintf(h, "%q %q %q %q %d %d|", r.ID, r.SystemPrompt, r.Question, r.Response, r.Nulls, r.Row)
		return json.NewEncoder(h).Encode(l)
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestGenerateDeterministic(t *testing.T) {
	cfg := DefaultConfig(3000, 7)
	cfg.InvalidUTF8Rate = 0.01
	a, b := digest(t, cfg), digest(t, cfg)
	if a != b {
		t.Fatalf("same config gave different rows: %s vs %s", a, b)
	}
	cfg.Seed = 8
	if c := digest(t, cfg); c == a {
		t.Fatal("different seeds gave identical rows")
	}
}

func TestWriteParquetByteIdentical(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig(2500, 3)
	var files [2][2][]byte
	for i := range 2 {
		p, l := filepath.Join(dir, fmt.Sprintf("s%d.parquet", i)), filepath.Join(dir, fmt.Sprintf("s%d.jsonl", i))
		if err := WriteParquetWith(context.Background(), cfg, WriteOptions{RowGroupSize: 1000}, p, l); err != nil {
			t.Fatal(err)
		}
		for j, f := range []string{p, l} {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			files[i][j] = b
		}
	}
	if !bytes.Equal(files[0][0], files[1][0]) {
		t.Error("two runs wrote different Parquet bytes")
	}
	if !bytes.Equal(files[0][1], files[1][1]) {
		t.Error("two runs wrote different labels")
	}
	// No temporary files may be left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 4 {
		t.Errorf("want exactly 4 files in %s, got %d", dir, len(ents))
	}
}

func TestSubmixProportions(t *testing.T) {
	rows := rows20k(t)
	count := map[string]int{}
	for _, r := range rows {
		count[r.rec.Submix()]++
	}
	want := map[string]float64{orca.SubmixFlan: 0.47, orca.SubmixT0: 0.35, orca.SubmixCoT: 0.09, orca.SubmixNIV: 0.09}
	for s, p := range want {
		got := float64(count[s]) / float64(len(rows))
		if math.Abs(got-p) > 0.015 {
			t.Errorf("submix %s: share %.3f, want %.2f ± 0.015", s, got, p)
		}
	}
	if count[orca.SubmixOther] != 0 {
		t.Errorf("%d rows with an unknown submix", count[orca.SubmixOther])
	}
}

func TestLengthDistribution(t *testing.T) {
	rows := rows20k(t)
	var lens []int
	for _, r := range rows {
		lens = append(lens, utf8.RuneCountInString(r.rec.Question)+utf8.RuneCountInString(r.rec.Response))
	}
	slices.Sort(lens)
	med := lens[len(lens)/2]
	if med < 500 || med > 720 {
		t.Errorf("median question+response length %d chars, want 500–720", med)
	}
	p99 := lens[len(lens)*99/100]
	if p99 < 2500 {
		t.Errorf("p99 length %d: the tail is not long enough", p99)
	}
	if mx := lens[len(lens)-1]; mx < 80000 || mx > 100000 {
		t.Errorf("longest row %d chars, want the huge rows at 80k–100k", mx)
	}
}

func TestLabelCountsMatchConfig(t *testing.T) {
	rows := rows20k(t)
	cfg := DefaultConfig(20000, 42)
	got := map[string]int{}
	for _, r := range rows {
		if len(r.lab.Kinds) != 1 {
			t.Fatalf("row %d: want exactly one kind, got %v", r.lab.Row, r.lab.Kinds)
		}
		got[r.lab.Kinds[0]]++
	}
	total := 0
	for _, k := range Kinds {
		if got[k] != cfg.ExpectedCount(k) {
			t.Errorf("kind %s: %d rows, want %d", k, got[k], cfg.ExpectedCount(k))
		}
		total += got[k]
	}
	if total != 20000 {
		t.Errorf("labels cover %d rows, want 20000", total)
	}
	if defects := 20000 - got[KindClean]; defects < 400 || defects > 2000 {
		t.Errorf("%d defect rows: want a few percent", defects)
	}
}

var (
	wordRE      = regexp.MustCompile(`[\p{L}\p{N}]+`)
	refusalLike = regexp.MustCompile(`(?i)\b(AI|language model|artificial intelligence|sorry|apologi[sz]e|apologies|unable|cannot|can't|can’t|not able)\b`)
	aiMention   = regexp.MustCompile(`(?i)\b(AI|language models?|chatbots?|ChatGPT|artificial intelligence)\b`)
)

// shingleJaccard is the test's own word 5-gram Jaccard (lower-cased letter/digit runs), independent of the generator's.
func shingleJaccard(a, b string) float64 {
	sh := func(s string) map[string]bool {
		w := wordRE.FindAllString(strings.ToLower(s), -1)
		m := map[string]bool{}
		for i := 0; i+5 <= len(w); i++ {
			m[strings.Join(w[i:i+5], " ")] = true
		}
		return m
	}
	sa, sb := sh(a), sh(b)
	inter := 0
	for k := range sa {
		if sb[k] {
			inter++
		}
	}
	if u := len(sa) + len(sb) - inter; u > 0 {
		return float64(inter) / float64(u)
	}
	return 0
}

// allowedRune reports whether a rune may appear in a row not labelled non_ascii.
func allowedRune(r rune) bool {
	return r < utf8.RuneSelf || strings.ContainsRune("’–“”—", r)
}

func TestDefectsSatisfyLabels(t *testing.T) {
	cfg := DefaultConfig(20000, 42)
	cfg.InvalidUTF8Rate = 0.002
	rows, err := collect(cfg)
	if err != nil {
		t.Fatal(err)
	}
	firstByID := map[string]int{}
	allowedSP := map[string]map[string]bool{}
	for sub, idx := range SystemPromptIndices {
		if sub == "flan_mc" {
			sub = orca.SubmixFlan
		}
		if allowedSP[sub] == nil {
			allowedSP[sub] = map[string]bool{}
		}
		for _, i := range idx {
			allowedSP[sub][SystemPrompts[i]] = true
		}
	}
	idRE := regexp.MustCompile(`^(cot|flan|niv|t0)\.[0-9]+$`)
	for i, gr := range rows {
		r, l := gr.rec, gr.lab
		kind := l.Kinds[0]
		text := r.Question + "\n" + r.Response
		fail := func(format string, args ...any) {
			t.Errorf("row %d %s (%s): %s", i, r.ID, kind, fmt.Sprintf(format, args...))
		}
		if l.ID != r.ID || l.Row != int64(i) || r.Row != int64(i) {
			fail("label id/row %q/%d do not match record %q/%d", l.ID, l.Row, r.ID, r.Row)
		}
		if !idRE.MatchString(r.ID) {
			fail("id not of the form <submix>.<n>")
		}
		first, seen := firstByID[r.ID]
		if seen != (kind == KindDuplicateID) {
			fail("id already used by row %d: %v", first, seen)
		}
		if !seen {
			firstByID[r.ID] = i
		}
		if r.Nulls&orca.NullSystemPrompt == 0 && !allowedSP[r.Submix()][r.SystemPrompt] {
			fail("system prompt %.40q not allowed for submix %s", r.SystemPrompt, r.Submix())
		}
		// Properties that only the labelled rows may have.
		valid := utf8.ValidString(text)
		if valid != (kind != KindInvalidUTF8) {
			fail("valid UTF-8 = %v", valid)
		}
		nonASCII := valid && strings.IndexFunc(text, func(c rune) bool { return !allowedRune(c) }) >= 0
		if nonASCII != (kind == KindNonASCII) {
			fail("contains disallowed non-ASCII = %v", nonASCII)
		}
		special := strings.Contains(text, "<|im_start|>") || strings.Contains(text, "<|im_end|>")
		if special != (kind == KindSpecialTokenText) {
			fail("contains ChatML markers = %v", special)
		}
		n := utf8.RuneCountInString(r.Question) + utf8.RuneCountInString(r.Response)
		if huge := n >= 80000; huge != (kind == KindHuge) {
			fail("length %d", n)
		} else if huge && n > 100000 {
			fail("huge row of %d chars, want ≤ 100k", n)
		}
		wantNulls := map[string]uint8{KindNullSystemPrompt: orca.NullSystemPrompt, KindNullResponse: orca.NullResponse}[kind]
		if r.Nulls != wantNulls {
			fail("null bits %04b, want %04b", r.Nulls, wantNulls)
		}
		blankQ := strings.TrimSpace(r.Question) == ""
		blankR := strings.TrimSpace(r.Response) == ""
		if blankQ != (kind == KindEmptyQuestion) {
			fail("blank question = %v", blankQ)
		}
		if blankR != (kind == KindEmptyResponse || kind == KindWhitespaceResponse || kind == KindNullResponse) {
			fail("blank response = %v", blankR)
		}
		if (l.DupOf != "") != (kind == KindExactDuplicate || kind == KindNearDuplicate || kind == KindDuplicateID) {
			fail("dup_of %q", l.DupOf)
		}

		switch kind {
		case KindClean:
			// Only text written in the first person on request may open like an apology (a review, an email…).
			writeTask := regexp.MustCompile(`^(Write|Compose|Translate|Continue|Imagine you are)`).MatchString(r.Question)
			if refusalStart := regexp.MustCompile(`^(As an AI|I'm sorry|I’m sorry|I apologi|Sorry)`); refusalStart.MatchString(r.Response) && !writeTask {
				fail("clean response to a %.40q question opens like a refusal", r.Question)
			}
			if aiMention.MatchString(text) {
				fail("clean row mentions AI")
			}
		case KindExactDuplicate, KindNearDuplicate:
			j, ok := firstByID[l.DupOf]
			if !ok || j >= i {
				fail("dup_of %q is not an earlier row", l.DupOf)
				continue
			}
			src := rows[j].rec
			if rows[j].lab.Kinds[0] != KindClean {
				fail("source row %d is %v, want clean", j, rows[j].lab.Kinds)
			}
			if src.Submix() != r.Submix() {
				fail("submix %s differs from source's %s", r.Submix(), src.Submix())
			}
			if kind == KindExactDuplicate {
				if src.SystemPrompt != r.SystemPrompt || src.Question != r.Question || src.Response != r.Response {
					fail("not identical to row %d", j)
				}
			} else {
				srcText := src.Question + "\n" + src.Response
				if srcText == text {
					fail("identical to row %d, want a few words changed", j)
				}
				if jac := shingleJaccard(srcText, text); jac < 0.8 {
					fail("word 5-gram Jaccard with row %d is %.3f, want ≥ 0.8", j, jac)
				}
			}
		case KindDuplicateID:
			j := firstByID[r.ID]
			if l.DupOf != r.ID || rows[j].rec.Question == r.Question {
				fail("dup_of %q, or content equal to row %d", l.DupOf, j)
			}
		case KindEmptyQuestion:
			if r.Question != "" {
				fail("question %q, want empty", r.Question)
			}
		case KindEmptyResponse, KindNullResponse:
			if r.Response != "" {
				fail("response %q, want empty", r.Response)
			}
		case KindWhitespaceResponse:
			if r.Response == "" {
				fail("response empty, want whitespace")
			}
		case KindRefusalOpening:
			first, _, _ := strings.Cut(r.Response, ".")
			if !refusalLike.MatchString(first) {
				fail("first sentence %q is not a refusal", first)
			}
		case KindRefusalMid:
			if len(r.Response) < 100 || aiMention.MatchString(r.Response[:60]) {
				fail("disclaimer is not mid-answer: %.80q", r.Response)
			}
			if !regexp.MustCompile(`(?i)\b(as an AI|as an artificial intelligence|as a language model|I am an AI|I'm an AI|since I am an AI|my knowledge is limited|training data)\b`).MatchString(r.Response) {
				fail("no AI disclaimer in response")
			}
		case KindMentionsAIQuestion:
			if !aiMention.MatchString(r.Question) || aiMention.MatchString(r.Response) {
				fail("question should mention AI, response should not")
			}
		case KindDiscussesAIAnswer:
			if !aiMention.MatchString(r.Response) || aiMention.MatchString(r.Question) {
				fail("response should discuss AI, question should not")
			}
			if regexp.MustCompile(`\b(I|I'm|I’m|my|me)\b`).MatchString(r.Response) {
				fail("AI discussion should be third person: %.100q", r.Response)
			}
		}
	}
}

func TestRefusalTemplatesAreVaried(t *testing.T) {
	rows := rows20k(t)
	openings := map[string]bool{}
	for _, r := range rows {
		if r.lab.Kinds[0] == KindRefusalOpening {
			w := strings.Fields(r.rec.Response)
			openings[strings.Join(w[:min(4, len(w))], " ")] = true
		}
	}
	if len(openings) < 15 {
		t.Errorf("only %d distinct 4-word refusal openings among 160 refusals", len(openings))
	}
}

// fileRow reads all four columns with NULLs kept apart from "".
type fileRow struct {
	ID           *string `parquet:"id"`
	SystemPrompt *string `parquet:"system_prompt"`
	Question     *string `parquet:"question"`
	Response     *string `parquet:"response"`
}

func TestParquetRoundTrip(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig(2000, 11)
	cfg.InvalidUTF8Rate = 0.005
	cfg.NullResponseRate = 0.01
	want, err := collect(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, comp := range []string{"zstd", "snappy", "gzip", "none"} {
		t.Run(comp, func(t *testing.T) {
			path, lpath := filepath.Join(dir, comp+".parquet"), filepath.Join(dir, comp+".jsonl")
			if err := WriteParquetWith(context.Background(), cfg, WriteOptions{RowGroupSize: 300, Compression: comp}, path, lpath); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			pf, err := parquet.OpenFile(f, st.Size())
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, fl := range pf.Schema().Fields() {
				names = append(names, fl.Name())
				if !fl.Optional() || fl.Type().LogicalType() == nil || fl.Type().LogicalType().String() != "STRING" {
					t.Errorf("column %s: want optional UTF-8 string", fl.Name())
				}
			}
			if !slices.Equal(names, orca.Columns) {
				t.Errorf("columns %v, want %v", names, orca.Columns)
			}
			if got := len(pf.RowGroups()); got != 7 {
				t.Errorf("%d row groups, want ceil(2000/300) = 7", got)
			}
			if md := pf.Metadata(); len(md.RowGroups) > 0 {
				if got := md.RowGroups[0].Columns[2].MetaData.Codec.String(); !strings.EqualFold(got, map[string]string{"none": "UNCOMPRESSED"}[comp]) && !strings.EqualFold(got, comp) {
					t.Errorf("codec %s, want %s", got, comp)
				}
			}
			rd := parquet.NewGenericReader[fileRow](pf)
			defer rd.Close()
			got := make([]fileRow, 0, len(want))
			buf := make([]fileRow, 128)
			for {
				n, err := rd.Read(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("read %d rows, want %d", len(got), len(want))
			}
			nulls := 0
			for i, g := range got {
				w := want[i].rec
				for c, pair := range []struct {
					p   *string
					s   string
					bit uint8
				}{{g.ID, w.ID, orca.NullID}, {g.SystemPrompt, w.SystemPrompt, orca.NullSystemPrompt}, {g.Question, w.Question, orca.NullQuestion}, {g.Response, w.Response, orca.NullResponse}} {
					if (pair.p == nil) != (w.Nulls&pair.bit != 0) {
						t.Fatalf("row %d column %s: NULL = %v, want null bits %04b", i, orca.Columns[c], pair.p == nil, w.Nulls)
					}
					if pair.p == nil {
						nulls++
					} else if *pair.p != pair.s {
						t.Fatalf("row %d column %s differs after the round trip", i, orca.Columns[c])
					}
				}
			}
			if want := cfg.ExpectedCount(KindNullResponse) + cfg.ExpectedCount(KindNullSystemPrompt); nulls != want || nulls == 0 {
				t.Errorf("%d NULLs read, want %d", nulls, want)
			}
			lf, err := os.Open(lpath)
			if err != nil {
				t.Fatal(err)
			}
			defer lf.Close()
			sc := bufio.NewScanner(lf)
			i := 0
			for ; sc.Scan(); i++ {
				var l Label
				if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
					t.Fatalf("labels line %d: %v", i+1, err)
				}
				if w := want[i].lab; l.ID != w.ID || l.Row != w.Row || !slices.Equal(l.Kinds, w.Kinds) || l.DupOf != w.DupOf {
					t.Fatalf("labels line %d = %+v, want %+v", i+1, l, w)
				}
			}
			if i != len(want) {
				t.Errorf("%d label lines, want %d", i, len(want))
			}
		})
	}
}

func TestRunSynthErrors(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cases := []struct {
		name string
		o    SynthOptions
		code int
	}{
		{"no out", SynthOptions{Rows: 10}, exitcode.Usage},
		{"negative rows", SynthOptions{Rows: -1, Out: filepath.Join(dir, "a.parquet")}, exitcode.Usage},
		{"bad compression", SynthOptions{Rows: 10, Out: filepath.Join(dir, "b.parquet"), Compression: "lz4"}, exitcode.Usage},
		{"bad length scale", SynthOptions{Rows: 10, Out: filepath.Join(dir, "h.parquet"), LengthScale: -1}, exitcode.Usage},
		{"bad rate", SynthOptions{Rows: 10, Out: filepath.Join(dir, "c.parquet"), InvalidUTF8Rate: 2}, exitcode.Usage},
		{"same file", SynthOptions{Rows: 10, Out: filepath.Join(dir, "d.parquet"), Labels: filepath.Join(dir, "d.parquet")}, exitcode.Usage},
		{"missing dir", SynthOptions{Rows: 10, Out: filepath.Join(dir, "nope", "e.parquet")}, exitcode.Output},
		{"labels in missing dir", SynthOptions{Rows: 10, Out: filepath.Join(dir, "f.parquet"), Labels: filepath.Join(dir, "nope", "f.jsonl")}, exitcode.Output},
	}
	for _, c := range cases {
		err := RunSynth(ctx, c.o)
		if got := exitcode.Code(err); got != c.code {
			t.Errorf("%s: exit code %d (%v), want %d", c.name, got, err, c.code)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("failed runs left %d files behind", len(ents))
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err := RunSynth(cctx, SynthOptions{Rows: 5000, Out: filepath.Join(dir, "g.parquet"), Labels: filepath.Join(dir, "g.jsonl")})
	if !errors.Is(err, context.Canceled) || exitcode.Code(err) != exitcode.Canceled {
		t.Errorf("canceled run: %v (code %d)", err, exitcode.Code(err))
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("canceled run left %d files behind", len(ents))
	}

	var log bytes.Buffer
	out := filepath.Join(dir, "ok.parquet")
	if err := RunSynth(ctx, SynthOptions{Rows: 0, Out: out, Log: &log}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "wrote 0 rows") {
		t.Errorf("summary %q", log.String())
	}
	f, _ := os.Open(out)
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil || pf.NumRows() != 0 {
		t.Errorf("zero-row file: %v, %d rows", err, pf.NumRows())
	}
}

func TestLengthScale(t *testing.T) {
	dir := t.TempDir()
	sizes := map[float64]int64{}
	for _, s := range []float64{1, 2} {
		p := filepath.Join(dir, fmt.Sprintf("s%v.parquet", s))
		if err := RunSynth(context.Background(), SynthOptions{Rows: 2000, Seed: 1, Out: p, Compression: "none", LengthScale: s}); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		sizes[s] = st.Size()
	}
	if r := float64(sizes[2]) / float64(sizes[1]); r < 1.6 || r > 2.4 {
		t.Errorf("--length-scale 2 made the file %.2f× as big, want about 2×", r)
	}
}

func TestValidate(t *testing.T) {
	c := DefaultConfig(10, 1)
	c.RefusalOpeningRate = 0.6
	if c.Validate() == nil {
		t.Error("rates adding up to > 0.5 accepted")
	}
	c = DefaultConfig(10, 1)
	c.NearDuplicateRate = -0.1
	if c.Validate() == nil {
		t.Error("negative rate accepted")
	}
	if err := Generate(c, func(orca.Record, Label) error { return nil }); err == nil {
		t.Error("Generate accepted an invalid config")
	}
}

func TestSmallFilesStillCorrect(t *testing.T) {
	// Tiny files: duplicate kinds may need to wait for a source row, but every label must still be true.
	for _, n := range []int{0, 1, 7, 60} {
		rows, err := collect(DefaultConfig(n, 5))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != n {
			t.Fatalf("%d rows, want %d", len(rows), n)
		}
		for _, r := range rows {
			if r.lab.Kinds[0] == KindExactDuplicate || r.lab.Kinds[0] == KindNearDuplicate {
				found := false
				for _, s := range rows[:r.lab.Row] {
					found = found || s.rec.ID == r.lab.DupOf
				}
				if !found {
					t.Errorf("n=%d row %d: dup_of %q not an earlier row", n, r.lab.Row, r.lab.DupOf)
				}
			}
		}
	}
}

// synth reports progress: every row is counted, whatever the row count's remainder modulo the batch.
func TestSynthReportsProgress(t *testing.T) {
	var log bytes.Buffer
	out := filepath.Join(t.TempDir(), "p.parquet")
	if err := RunSynth(context.Background(), SynthOptions{Rows: 2500, Seed: 3, Out: out, Log: &log, Progress: progress.Plain}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "synth: 2500 rows (100.0%)") {
		t.Fatalf("progress missing:\n%s", log.String())
	}
}
