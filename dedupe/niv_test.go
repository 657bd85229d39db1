package dedupe

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/orcaprep/orcaprep/orca"
)

// nivSystemPrompts are the Orca system messages niv rows are drawn from (index → text), enough for exact keys.
var nivSystemPrompts = map[int]string{
	0: "", 1: "You are an AI assistant. Provide a detailed answer so user don’t need to search outside to understand the answer.",
	4: "You are an AI assistant that follows instruction extremely well. Help as much as you can.",
	6: "You are an AI assistant. User will you give you a task. Your goal is to complete the task as faithfully as you can. While performing the task think step-by-step and justify your steps.",
	8: "Explain how you used the definition to come up with the answer.", 11: "User will you give you a task with some instruction. Your job is follow the instructions as faithfully as you can. While answering think step-by-step and justify your answer.",
	12: "You are a teacher. Given a task, you explain in simple steps what the task is asking, any guidelines it provides and how to use those guidelines to find the answer.",
	13: "You are an AI assistant, who knows every language and how to translate one language to another. Given a task, you explain in simple steps what the task is asking, any guidelines that it provides. You solve the task and show how you used the guidelines to solve the task.",
	14: "Given a definition of a task and a sample input, break the definition into small parts.",
}

type nivRow struct {
	rec   orca.Record
	task  string
	split string
	dupOf string
	edit  string
}

// loadNIV reads testdata/curation/niv: real Super-NaturalInstructions examples as OpenOrca niv rows
// (scripts/curation/build-niv.py; provenance in testdata/curation/README.md).
func loadNIV(t testing.TB) []nivRow {
	t.Helper()
	dir := filepath.Join("..", "testdata", "curation", "niv")
	defs := map[string]string{}
	readJSONL(t, filepath.Join(dir, "tasks.jsonl"), func(m map[string]any) {
		defs[m["task"].(string)] = m["definition"].(string)
	})
	var rows []nivRow
	readJSONL(t, filepath.Join(dir, "rows.jsonl"), func(m map[string]any) {
		str := func(k string) string { s, _ := m[k].(string); return s }
		r := nivRow{task: str("task"), split: str("split"), dupOf: str("dup_of"), edit: str("edit")}
		r.rec = orca.Record{ID: str("id"), SystemPrompt: nivSystemPrompts[int(m["sp"].(float64))]}
		if r.dupOf != "" {
			r.rec.Question, r.rec.Response = str("question"), str("response")
		} else {
			r.rec.Question = "Detailed Instructions: " + defs[r.task] + "\nQ: " + str("input") + "\nA:"
			r.rec.Response = str("output")
		}
		rows = append(rows, r)
	})
	return rows
}

func readJSONL(t testing.TB, path string, fn func(map[string]any)) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for line := 1; sc.Scan(); line++ {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		fn(m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// templateRunQuiet is templateRun without the log line.
func templateRunQuiet(t testing.TB, cfg Config, rows []nivRow) []string {
	return templateRunLog(t, cfg, rows, false)
}

// templateRun dedupes rows as the pipeline does: a first pass counting shingle document frequencies (when
// cfg.Near.MaxShingleDF > 0), then signatures and the index in input order. It returns each row's reason.
func templateRun(t testing.TB, cfg Config, rows []nivRow) []string {
	return templateRunLog(t, cfg, rows, true)
}

func templateRunLog(t testing.TB, cfg Config, rows []nivRow, logSigs bool) []string {
	var tmpl *TemplateSet
	if cfg.Near.MaxShingleDF > 0 {
		sk := NewDFSketch(64*len(rows), cfg.Near.Seed)
		dc := NewDFCounter(cfg.Near)
		for i := range rows {
			sk.Add(dc.Row(&rows[i].rec))
		}
		tmpl = sk.Templates(cfg.Near.MaxShingleDF)
	}
	ix, err := NewIndex(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sg := NewSigner(cfg.Near, tmpl)
	out := make([]string, len(rows))
	var sig []byte
	for i := range rows {
		sig = sg.Sign(&rows[i].rec, sig)
		out[i], _, _ = ix.Check(rows[i].rec.ID, ExactKey(cfg.Exact, &rows[i].rec), sig)
	}
	if logSigs {
		t.Logf("  signatures %v", ix.Stats().NearSignatures)
	}
	return out
}

// mainBranchConfig is the near-dedupe rule before issue 15: word 5-grams of question+response, no templates,
// Jaccard 0.8 only, 256 bins, 10 bands × 5 rows.
func mainBranchConfig() Config {
	c := DefaultConfig()
	n := &c.Near
	n.MaxShingleDF, n.NGram, n.MinNGram, n.Containment, n.ResponseJaccard, n.ResponseContainment = 0, 5, 5, 0, 0, 0
	n.NumPerm, n.Bands, n.Rows = 256, 10, 5
	return c
}

// TestNIVTemplates checks template-aware near-dedupe on real Super-NaturalInstructions tasks laid out as
// OpenOrca niv rows: distinct examples of one task share a long definition and must be kept (<= 1% dropped),
// while copies of them with small edits must be removed (>= 95%). The tasks are split in two halves by a
// fixed seed; defaults were chosen on the "tune" half, and the targets are asserted on the "report" half.
// Two sets of copies: the 162 committed with the data (scripts/curation/build-niv.py), and one copy of every
// distinct example per edit kind made here by the same edit rules (editCopies), so that each half's figure
// rests on about 5,000 copies rather than 80. Run with -v for the figures.
func TestNIVTemplates(t *testing.T) {
	all := loadNIV(t)
	for _, split := range []string{"tune", "report"} {
		var rows []nivRow
		for _, r := range all {
			if r.split == split {
				rows = append(rows, r)
			}
		}
		for _, c := range []struct {
			name string
			cfg  Config
		}{{"before (main branch rule)", mainBranchConfig()}, {"after (defaults)", DefaultConfig()}} {
			t.Logf("%s half, %s:", split, c.name)
			reasons := templateRun(t, c.cfg, rows)
			var base, baseNear, dups, dupsHit int
			byEdit := map[string][2]int{}
			for i, r := range rows {
				if r.dupOf == "" {
					base++
					if reasons[i] == ReasonNearDuplicate {
						baseNear++
					}
					continue
				}
				dups++
				e := byEdit[r.edit]
				e[0]++
				if reasons[i] != "" {
					dupsHit++
					e[1]++
				}
				byEdit[r.edit] = e
			}
			distinctDropped := 100 * float64(baseNear) / float64(base)
			removed := 100 * float64(dupsHit) / float64(dups)
			t.Logf("  distinct examples dropped as near_duplicate: %d/%d = %.2f%%", baseNear, base, distinctDropped)
			t.Logf("  committed near-duplicates removed: %d/%d = %.2f%% %s", dupsHit, dups, removed, editSummary(byEdit))
			gHit, gN, gBy := generatedRecall(t, c.cfg, rows)
			gRemoved := 100 * float64(gHit) / float64(gN)
			t.Logf("  generated near-duplicates removed: %d/%d = %.2f%% %s", gHit, gN, gRemoved, editSummary(gBy))
			if split == "report" && c.name == "after (defaults)" {
				if distinctDropped > 1 {
					t.Errorf("report half: %.2f%% of distinct examples dropped as near_duplicate (want <= 1%%)", distinctDropped)
				}
				if removed < 95 {
					t.Errorf("report half: %.2f%% of committed near-duplicates removed (want >= 95%%)", removed)
				}
				if gRemoved < 95 {
					t.Errorf("report half: %.2f%% of generated near-duplicates removed (want >= 95%%)", gRemoved)
				}
			}
		}
	}
}

func editSummary(by map[string][2]int) string {
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s %d/%d", k, by[k][1], by[k][0])
	}
	return "(" + strings.TrimSpace(b.String()) + ")"
}

// editKinds are the edits of scripts/curation/build-niv.py: format = case/whitespace/punctuation, words1–3 =
// 1–3 words replaced, cut/add = 2–10% of the words removed or inserted (one contiguous run).
var editKinds = []string{"format", "words1", "words2", "words3", "cut", "add"}

// generatedRecall makes, for each edit kind, one edited copy of every distinct example in rows, and runs the
// distinct examples followed by the copies (shuffled) through templateRun; it returns the copies removed,
// the copies made and the figures by kind. Under the race detector every third example is copied.
func generatedRecall(t *testing.T, cfg Config, rows []nivRow) (int, int, map[string][2]int) {
	var base []nivRow
	for _, r := range rows {
		if r.dupOf == "" {
			base = append(base, r)
		}
	}
	vocab := editVocab(base)
	by := map[string][2]int{}
	hit, n := 0, 0
	for ki, kind := range editKinds {
		rng := rand.New(rand.NewPCG(15, uint64(ki)))
		run := append([]nivRow(nil), base...)
		for i, b := range base {
			if raceEnabled && i%3 != 0 {
				continue
			}
			donor := base[rng.IntN(len(base))]
			q, r, ok := editRow(rng, kind, b.rec.Question, b.rec.Response, vocab, donor.rec.Question+" "+donor.rec.Response)
			if !ok {
				continue
			}
			c := b
			c.rec.ID = fmt.Sprintf("niv.%d", 100000+i)
			c.rec.Question, c.rec.Response, c.dupOf, c.edit = q, r, b.rec.ID, kind
			run = append(run, c)
		}
		copies := run[len(base):]
		rng.Shuffle(len(copies), func(i, j int) { copies[i], copies[j] = copies[j], copies[i] })
		reasons := templateRunQuiet(t, cfg, run)
		e := by[kind]
		for i := len(base); i < len(run); i++ {
			e[0]++
			if reasons[i] != "" {
				e[1]++
			}
		}
		by[kind] = e
		hit += e[1]
		n += e[0]
	}
	return hit, n, by
}

// editVocab is the replacement vocabulary of build-niv.py: words of 3+ letters from the task definitions.
func editVocab(rows []nivRow) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rows {
		def, _, _ := strings.Cut(strings.TrimPrefix(r.rec.Question, "Detailed Instructions: "), "\nQ: ")
		for _, w := range strings.FieldsFunc(def, func(c rune) bool { return !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') }) {
			if len(w) >= 3 && !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	sort.Strings(out)
	return out
}

// editRow applies one edit of kind to question "\x00" response, as build-niv.py does; ok is false when the
// edit swallowed the field boundary or emptied the response (such copies are skipped there too).
func editRow(rng *rand.Rand, kind, q, r string, vocab []string, donor string) (string, string, bool) {
	toks := tokenRuns(q + "\x00" + r)
	var words []int
	for i, tk := range toks {
		if !isSpace(tk) {
			words = append(words, i)
		}
	}
	switch kind {
	case "format":
		for e := 1 + rng.IntN(3); e > 0; e-- {
			i := words[rng.IntN(len(words))]
			w := toks[i]
			switch rng.IntN(4) {
			case 0:
				if strings.ToUpper(w) != w {
					toks[i] = strings.ToUpper(w)
				} else {
					toks[i] = strings.ToLower(w)
				}
			case 1:
				toks[i] = strings.ToLower(w)
				if c := w[0]; c >= 'a' && c <= 'z' {
					toks[i] = strings.ToUpper(w[:1]) + strings.ToLower(w[1:])
				}
			case 2:
				if strings.ContainsAny(w[len(w)-1:], ".,;:!?") {
					toks[i] = strings.TrimRight(w, ".,;:!?")
				} else {
					toks[i] = w + ","
				}
			default:
				if i+1 < len(toks) && isSpace(toks[i+1]) {
					if rng.IntN(2) == 0 {
						toks[i+1] += " "
					} else {
						toks[i+1] = "\n"
					}
				}
			}
		}
	case "words1", "words2", "words3":
		k := int(kind[5] - '0')
		for _, p := range rng.Perm(len(words))[:min(k, len(words))] {
			i := words[p]
			nw := vocab[rng.IntN(len(vocab))]
			for strings.EqualFold(nw, toks[i]) {
				nw = vocab[rng.IntN(len(vocab))]
			}
			toks[i] = nw
		}
	case "cut":
		frac := 0.02 + 0.08*rng.Float64()
		n := max(1, int(frac*float64(len(words))))
		st := rng.IntN(len(words) - n + 1)
		lo, hi := words[st], words[st+n-1]+1
		if hi < len(toks) && isSpace(toks[hi]) {
			hi++
		}
		toks = append(toks[:lo], toks[hi:]...)
	case "add":
		frac := 0.02 + 0.08*rng.Float64()
		n := max(1, int(frac*float64(len(words))))
		dw := strings.Fields(donor)
		st := rng.IntN(max(1, len(dw)-n))
		snippet := strings.Join(dw[st:min(st+n, len(dw))], " ") + " "
		at := words[rng.IntN(len(words))]
		toks = append(toks[:at], append([]string{snippet}, toks[at:]...)...)
	}
	q2, r2, ok := strings.Cut(strings.Join(toks, ""), "\x00")
	if !ok || strings.TrimSpace(r2) == "" {
		return "", "", false
	}
	return q2, r2, true
}

// tokenRuns splits s into maximal runs of whitespace and of non-whitespace (Python's \S+|\s+).
func tokenRuns(s string) []string {
	var out []string
	start, prev := 0, false
	for i, c := range s {
		sp := unicode.IsSpace(c)
		if i > 0 && sp != prev {
			out = append(out, s[start:i])
			start = i
		}
		prev = sp
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func isSpace(tok string) bool { r, _ := utf8.DecodeRuneInString(tok); return unicode.IsSpace(r) }

// TestNIVTradeoffs prints the trade-off table of dedupe/README.md: each setting's share of distinct examples
// dropped and of generated near-duplicates removed, on the tune half only (the half the defaults were chosen
// on). It asserts nothing and runs only with ORCAPREP_SWEEP=1: go test ./dedupe -run TestNIVTradeoffs -v
func TestNIVTradeoffs(t *testing.T) {
	if os.Getenv("ORCAPREP_SWEEP") == "" {
		t.Skip("set ORCAPREP_SWEEP=1")
	}
	all := loadNIV(t)
	var rows []nivRow
	for _, r := range all {
		if r.split == "tune" {
			rows = append(rows, r)
		}
	}
	type v struct {
		name string
		mut  func(*NearConfig)
	}
	for _, c := range []v{
		{"defaults", func(n *NearConfig) {}},
		{"containment off", func(n *NearConfig) { n.Containment = 0 }},
		{"containment 0.85", func(n *NearConfig) { n.Containment = 0.85 }},
		{"containment 0.95", func(n *NearConfig) { n.Containment = 0.95 }},
		{"response condition off", func(n *NearConfig) { n.ResponseJaccard, n.ResponseContainment = 0, 0 }},
		{"template condition off", func(n *NearConfig) { n.TemplateContainment = 0 }},
		{"5-grams (min_ngram 5, ngram 5)", func(n *NearConfig) { n.NGram, n.MinNGram = 5, 5 }},
		{"words only (ngram 1)", func(n *NearConfig) { n.NGram = 1 }},
		{"1-3 grams", func(n *NearConfig) { n.NGram = 3 }},
		{"bands 10x5", func(n *NearConfig) { n.Bands, n.Rows = 10, 5 }},
		{"threshold 0.75", func(n *NearConfig) { n.Threshold = 0.75 }},
		{"threshold 0.85", func(n *NearConfig) { n.Threshold = 0.85 }},
		{"max_shingle_df 4", func(n *NearConfig) { n.MaxShingleDF = 4 }},
		{"max_shingle_df 16", func(n *NearConfig) { n.MaxShingleDF = 16 }},
	} {
		cfg := DefaultConfig()
		c.mut(&cfg.Near)
		reasons := templateRunQuiet(t, cfg, rows)
		base, drop := 0, 0
		for i, r := range rows {
			if r.dupOf == "" {
				base++
				if reasons[i] == ReasonNearDuplicate {
					drop++
				}
			}
		}
		h, n, _ := generatedRecall(t, cfg, rows)
		t.Logf("| %s | %d/%d = %.2f%% | %d/%d = %.2f%% |", c.name, drop, base, 100*float64(drop)/float64(base), h, n, 100*float64(h)/float64(n))
	}
}
