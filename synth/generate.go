package synth

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode"

	"github.com/orcaprep/orcaprep/orca"
)

// poolCap bounds how many earlier rows are remembered as duplicate sources, so memory does not grow with Rows.
const poolCap = 256

// nearMinWords is the least number of words a near-duplicate source must have: with one changed word a 5-gram
// Jaccard of (N−5)/(N+5) stays ≥ 0.84 for N ≥ 56 shingles, whatever the tokenizer does with punctuation.
const nearMinWords = 64

type poolRow struct {
	id, submix, sp, q, r string
}

type pool struct {
	rows []poolRow
	seen int
}

// add keeps a uniform sample of everything offered (reservoir sampling), driven by the shared random stream.
func (p *pool) add(g *textGen, r poolRow) {
	p.seen++
	if len(p.rows) < poolCap {
		p.rows = append(p.rows, r)
		return
	}
	if j := g.intn(p.seen); j < poolCap {
		p.rows[j] = r
	}
}

// Generate makes cfg.Rows rows in file order and calls emit for each with its label. It stops at the first
// error emit returns. Same cfg ⇒ same rows and labels.
func Generate(cfg Config, emit func(r orca.Record, l Label) error) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	g := &textGen{rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	plan := makePlan(cfg, g)

	next := map[string]int{}
	for _, s := range orca.Submixes { // fixed order: map iteration would break determinism
		next[s] = 1 + g.intn(1000)
	}
	newID := func(submix string) string {
		id := fmt.Sprintf("%s.%d", submix, next[submix])
		next[submix] += 1 + g.intn(30)
		return id
	}

	var exactPool, nearPool pool
	var pending []string // duplicate kinds planned before any suitable source row existed
	for i := 0; i < cfg.Rows; i++ {
		kind, ok := plan[i]
		if !ok {
			kind = KindClean
		}
		ready := func(k string) bool {
			switch k {
			case KindExactDuplicate, KindDuplicateID:
				return len(exactPool.rows) > 0
			case KindNearDuplicate:
				return len(nearPool.rows) > 0
			}
			return true
		}
		if !ready(kind) {
			pending = append(pending, kind)
			kind = KindClean
		} else if kind == KindClean && len(pending) > 0 && ready(pending[0]) {
			kind, pending = pending[0], pending[1:]
		}

		rec, lab := g.row(cfg, kind, newID, &exactPool, &nearPool)
		rec.Row = int64(i)
		lab.Row = int64(i)
		if kind == KindClean {
			pr := poolRow{id: rec.ID, submix: orca.SubmixOf(rec.ID), sp: rec.SystemPrompt, q: rec.Question, r: rec.Response}
			exactPool.add(g, pr)
			if countWords(pr.q)+countWords(pr.r) >= nearMinWords {
				nearPool.add(g, pr)
			}
		}
		if err := emit(rec, lab); err != nil {
			return err
		}
	}
	return nil
}

// makePlan places exactly round(rate×Rows) rows of each defect kind at uniformly random distinct positions.
func makePlan(cfg Config, g *textGen) map[int]string {
	var kinds []string
	for _, kr := range cfg.rates() {
		n := cfg.ExpectedCount(kr.kind)
		for j := 0; j < n; j++ {
			kinds = append(kinds, kr.kind)
		}
	}
	d := min(len(kinds), cfg.Rows)
	// Floyd's sampling of d distinct positions, then sorted and shuffled so kinds land uniformly.
	set := make(map[int]struct{}, d)
	for j := cfg.Rows - d; j < cfg.Rows; j++ {
		t := g.intn(j + 1)
		if _, dup := set[t]; dup {
			t = j
		}
		set[t] = struct{}{}
	}
	pos := make([]int, 0, d)
	for p := range set {
		pos = append(pos, p)
	}
	slices.Sort(pos)
	g.rng.Shuffle(len(pos), func(a, b int) { pos[a], pos[b] = pos[b], pos[a] })
	plan := make(map[int]string, d)
	for j, p := range pos {
		plan[p] = kinds[j]
	}
	return plan
}

// row builds one row of the given kind.
func (g *textGen) row(cfg Config, kind string, newID func(string) string, exactPool, nearPool *pool) (orca.Record, Label) {
	lab := Label{Kinds: []string{kind}}
	var rec orca.Record

	switch kind {
	case KindExactDuplicate:
		src := pick(g, exactPool.rows)
		rec = orca.Record{ID: newID(src.submix), SystemPrompt: src.sp, Question: src.q, Response: src.r}
		lab.ID, lab.DupOf = rec.ID, src.id
		return rec, lab
	case KindNearDuplicate:
		src := pick(g, nearPool.rows)
		q, r := g.perturb(src.q, src.r)
		sp := src.sp
		if g.chance(0.3) { // OpenOrca often repeats a FLAN question under another system prompt
			sp = g.systemPrompt(src.submix, false)
		}
		rec = orca.Record{ID: newID(src.submix), SystemPrompt: sp, Question: q, Response: r}
		lab.ID, lab.DupOf = rec.ID, src.id
		return rec, lab
	}

	sub := g.submix()
	var idSrc poolRow
	if kind == KindDuplicateID { // the reused id's submix must match the content
		idSrc = pick(g, exactPool.rows)
		sub = idSrc.submix
	}
	mc := sub == orca.SubmixFlan && g.chance(0.4)
	sp := g.systemPrompt(sub, mc)
	sigma := cfg.LengthSigma
	qt := g.logNormal(cfg.QuestionMedianChars, sigma, 20, cfg.MaxFieldChars*9/10)
	rt := g.logNormal(cfg.ResponseMedianChars, sigma*1.25, 1, cfg.MaxFieldChars*9/10)
	if kind == KindHuge {
		total := 85000 + g.intn(10000)
		if g.chance(0.2) {
			qt, rt = total-200, 200
		} else {
			rt = total - qt
		}
	}
	g.write = false
	g.noWrite = kind == KindRefusalOpening || kind == KindRefusalMid || kind == KindDiscussesAIAnswer || kind == KindMentionsAIQuestion
	q := g.question(sub, mc, qt)
	var r string
	switch kind {
	case KindRefusalOpening:
		r = g.refusalOpening()
	case KindRefusalMid:
		r = g.refusalMid(sub, rt)
	case KindDiscussesAIAnswer:
		r = g.discussesAIAnswer(rt)
	default:
		r = g.response(sub, rt)
	}
	g.write = false
	if kind != KindHuge {
		q, r = truncateField(q, cfg.MaxFieldChars), truncateField(r, cfg.MaxFieldChars)
	}
	rec = orca.Record{SystemPrompt: sp, Question: q, Response: r}

	switch kind {
	case KindDuplicateID:
		rec.ID = idSrc.id
		lab.DupOf = idSrc.id
	default:
		rec.ID = newID(sub)
	}
	switch kind {
	case KindEmptyQuestion:
		rec.Question = ""
	case KindEmptyResponse:
		rec.Response = ""
	case KindWhitespaceResponse:
		rec.Response = pick(g, whitespaceOnly)
	case KindMentionsAIQuestion:
		rec.Question = g.mentionsAIQuestion()
	case KindNonASCII:
		rec.Question, rec.Response = g.withNonASCII(rec.Question, rec.Response)
	case KindNullSystemPrompt:
		rec.SystemPrompt = ""
		rec.Nulls |= orca.NullSystemPrompt
	case KindNullResponse:
		rec.Response = ""
		rec.Nulls |= orca.NullResponse
	case KindSpecialTokenText:
		rec.Question, rec.Response = g.withSpecialToken(rec.Question, rec.Response)
	case KindInvalidUTF8:
		rec.Question, rec.Response = g.withInvalidUTF8(rec.Question, rec.Response)
	}
	lab.ID = rec.ID
	return rec, lab
}

// truncateField cuts s to at most n bytes at a space, keeping non-huge rows clearly below the huge size.
func truncateField(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if i := strings.LastIndexByte(s[:n], ' '); i > 0 {
		return s[:i]
	}
	return s[:n]
}

// perturb changes a few whole words (lower-case letters only, delimited by whitespace) of q and r so that the
// word 5-gram Jaccard with the original stays ≥ 0.8 under both whitespace and letter/digit tokenization.
func (g *textGen) perturb(q, r string) (string, string) {
	type span struct{ field, start, end int }
	var cands []span
	for f, s := range []string{q, r} {
		forEachField(s, func(start, end int) {
			if end-start >= 3 && isLowerAlpha(s[start:end]) {
				cands = append(cands, span{f, start, end})
			}
		})
	}
	words := countWords(q) + countWords(r)
	for k := max(1, min(8, words/70)); ; k = max(1, k/2) {
		idx := make([]int, len(cands))
		for i := range idx {
			idx[i] = i
		}
		g.rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		chosen := slices.Clone(idx[:min(k, len(idx))])
		slices.SortFunc(chosen, func(a, b int) int { // replace right to left so earlier offsets stay valid
			if cands[a].field != cands[b].field {
				return cands[a].field - cands[b].field
			}
			return cands[b].start - cands[a].start
		})
		out := [2]string{q, r}
		for _, c := range chosen {
			sp := cands[c]
			old := out[sp.field][sp.start:sp.end]
			w := pick(g, contentWords)
			for w == old {
				w = pick(g, contentWords)
			}
			out[sp.field] = out[sp.field][:sp.start] + w + out[sp.field][sp.end:]
		}
		a, b := q+"\n"+r, out[0]+"\n"+out[1]
		if (jaccard5(strings.Fields(a), strings.Fields(b)) >= 0.82 && jaccard5(alnumWords(a), alnumWords(b)) >= 0.82) || k == 1 {
			return out[0], out[1]
		}
	}
}

func forEachField(s string, fn func(start, end int)) {
	start := -1
	for i := 0; i < len(s); i++ {
		sp := s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r'
		if sp && start >= 0 {
			fn(start, i)
			start = -1
		} else if !sp && start < 0 {
			start = i
		}
	}
	if start >= 0 {
		fn(start, len(s))
	}
}

func isLowerAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

func countWords(s string) int {
	n := 0
	forEachField(s, func(int, int) { n++ })
	return n
}

// alnumWords splits lower-cased s into runs of letters and digits.
func alnumWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// jaccard5 is the Jaccard similarity of the word 5-gram sets of two token lists (texts shorter than 5 words
// form one shingle of all their words).
func jaccard5(a, b []string) float64 {
	sa, sb := shingles5(a), shingles5(b)
	inter := 0
	for s := range sa {
		if _, ok := sb[s]; ok {
			inter++
		}
	}
	union := len(sa) + len(sb) - inter
	if union == 0 {
		return 1
	}
	return float64(inter) / float64(union)
}

func shingles5(w []string) map[string]struct{} {
	m := map[string]struct{}{}
	if len(w) < 5 {
		m[strings.Join(w, "\x00")] = struct{}{}
		return m
	}
	for i := 0; i+5 <= len(w); i++ {
		m[strings.Join(w[i:i+5], "\x00")] = struct{}{}
	}
	return m
}
