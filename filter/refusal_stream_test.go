package filter

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// triggerText builds a random response from pieces that exercise every acceptance rule: real phrase literals
// (case-shuffled, apostrophes curled), the words the look-ahead counts (first person, limitations, "my
// purpose"), sentence ends and the ones that are not (e.g., 3.5), straight and curly double and single quotes,
// apostrophes, speaker labels and the labels that are not speakers, numbered items, bullets and markdown,
// whitespace of every kind (nbsp, tabs, line and paragraph separators), non-ASCII and invalid UTF-8, and long
// tokens and punctuation runs.
func triggerText(r *rand.Rand, lits []literal) string {
	atoms := []string{
		" ", " ", " ", "  ", "\t", "\n", "\n\n", " \n ", "\u00a0", "\u2028", "\u200b", "\r\n",
		"\"", "\"", "\u201c", "\u201d", "'", "'", "\u2018", "\u2019", "\u02bc", "`",
		"Sam: ", "Alex:", "\nSam: ", "\nBob the cat: ", "Person A: ", "\naaaaaaaa bbbbbbbb ccccccc: ", "\naaaaaaaa bbbbbbbb cccccccc: ", "Answer: ", "Step 2: ", "6. Violence: ", "AI: ", "Note:",
		"- ", "* ", "**", "# ", "> ", "(", ")", "[", "_",
		"my, purpose", "my purpose", "my\ntraining", "(my) knowledge", "my-purpose", "I'm sorry my", "foo'", "x-",
		"purpose-", "zz",
		"I", "I'm", "I’m", "i've", "me", "myself", "my", "My", "purpose", "training", "knowledge",
		"not", "can't", "cannot", "don't", "no", "never", "unable", "won't", "Nor",
		"the", "a", "cat", "sat", "on", "mat", "this", "request", "help", "you", "AI", "model", "language",
		".", ". ", ".\n", "e.g.", "3.5", "!", "?", ";", ":", ",", ", ", "...", "--", "-", "'s",
		"é", "Ünïcödé", "—", "–", "\xe2\x80", "\xff", "日本",
		"supercalifragilisticexpialidocious", "apologies-apologies-apologies", strings.Repeat("x", 40),
		strings.Repeat(",", 30), strings.Repeat("*", 20),
	}
	var b strings.Builder
	n := 1 + r.IntN(60)
	for range n {
		if r.IntN(3) == 0 {
			lit := lits[r.IntN(len(lits))].text
			switch r.IntN(4) {
			case 0:
				lit = strings.ToUpper(lit)
			case 1:
				lit = strings.ReplaceAll(lit, "'", "\u2019")
			case 2:
				lit = strings.ReplaceAll(lit, " ", "\u00a0 ")
			}
			b.WriteString(lit)
			continue
		}
		b.WriteString(atoms[r.IntN(len(atoms))])
		if r.IntN(2) == 0 { // mostly words apart, sometimes glued ("my,purpose", "can't.")
			b.WriteByte(' ')
		}
	}
	return b.String()
}

var streamQuestions = []string{
	"", "What is 2+2?", "Write a short story about a robot.", "Translate to German:", "Summarize the passage.",
}

// refRuleCoverage counts, over the reference's hits in buf, how often each rule rejected a hit that had passed
// the rules before it (the order of refMatcher.accept), so the equivalence test can show it exercised them all.
func refRuleCoverage(ref *refMatcher, buf []byte, cov map[string]int) {
	nc := ref.nclass
	s := int32(0)
	for i := 0; i < len(buf); i++ {
		s = ref.delta[int(s)*nc+int(ref.class[buf[i]])]
		for o := s; o > 0; o = ref.outLink[o] {
			for _, li := range ref.out[o] {
				l := ref.literals[li]
				end, start := i+1, i+1-len(l.text)
				p := ref.phrases[l.phrase]
				switch {
				case isWordByte(l.text[0]) && start > 0 && isWordByte(buf[start-1]),
					isWordByte(l.text[len(l.text)-1]) && end < len(buf) && isWordByte(buf[end]):
					cov["boundary"]++
				case refInsideQuotes(buf, start):
					cov["quotes"]++
				case refSpeakerLine(buf, start):
					cov["speaker"]++
				case p.anchor == anchorSentence && !refAtSentenceStart(buf, start):
					cov["anchor"]++
				case p.check == checkFirstPerson && !refLookAhead(buf, end, p.window, false),
					p.check == checkLimitation && !refLookAhead(buf, end, p.window, true),
					p.check == checkNegation && !refNegationAhead(buf, end, p.window):
					cov["look-ahead"]++
				default:
					cov["accepted"]++
				}
			}
		}
	}
}

// TestStreamingScanMatchesReference: for random trigger-rich texts the streaming matcher returns exactly what
// the old whole-buffer matcher returns, with pieces of 1..32 bytes (so every rule's state crosses piece
// boundaries) and with the default piece size. Extra phrases cover literals that end in a tok byte ("x-"), in
// a quote-like apostrophe, in punctuation, and a one-word anchored phrase.
func TestStreamingScanMatchesReference(t *testing.T) {
	m, err := newRefusalMatcher([]string{"x-", "foo' ~fp3", ", ~neg2", "^zz ~lim1", "purpose- ~lim5"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref := newRefMatcher(m)
	r := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 3000
	}
	hits := 0
	cov := map[string]int{}
	for i := range n {
		text := triggerText(r, m.literals)
		q := streamQuestions[r.IntN(len(streamQuestions))]
		wantLit, wantOK := ref.match(text, q)
		for _, size := range []int{1 + r.IntN(32), pieceSize} {
			gotLit, gotOK, _ := m.scanText(text, q, size)
			if gotLit != wantLit || gotOK != wantOK {
				t.Fatalf("text %d %q (question %q), pieces of %d: got (%q,%v), want (%q,%v)",
					i, text, q, size, gotLit, gotOK, wantLit, wantOK)
			}
		}
		if wantOK {
			hits++
		}
		refRuleCoverage(ref, refNormalizeText(nil, text), cov)
	}
	// Both outcomes must be common, and every rule must have rejected hits, or the comparison says little.
	if hits < n/10 || hits > n*9/10 {
		t.Errorf("%d of %d texts matched: the generator does not exercise both outcomes", hits, n)
	}
	for _, rule := range []string{"boundary", "quotes", "speaker", "anchor", "look-ahead", "accepted"} {
		if cov[rule] < n/50 {
			t.Errorf("rule %s decided only %d hits", rule, cov[rule])
		}
	}
	t.Logf("%d texts, %d matched; hits decided by rule: %v", n, hits, cov)
}

// TestScanWorkIsLinear: responses full of hits that every rule rejects (quoted, on speaker lines, mid-sentence,
// failing the look-ahead) cost the scanner work proportional to their length: the old matcher rescanned the
// text before each hit for quotes and speaker lines, which made a 100 MB response of such hits quadratic.
func TestScanWorkIsLinear(t *testing.T) {
	m, err := newRefusalMatcher(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	units := map[string]string{
		"quoted":        `He said "I cannot help you with that" and left. `,
		"speaker":       "Sam: I'm sorry, but I cannot help you.\n",
		"mid-sentence":  "the shop was unfortunately closed and a sorry clerk said so, ",
		"no look-ahead": "As an AI, the weather is nice today and the sun shines. ",
	}
	for name, unit := range units {
		var per [2]float64
		for i, size := range []int{1 << 16, 1 << 20} {
			text := strings.Repeat(unit, size/len(unit))
			lit, ok, work := m.scanText(text, "", pieceSize)
			if ok {
				t.Fatalf("%s: %q accepted; the unit must be rejected by a rule", name, lit)
			}
			per[i] = float64(work) / float64(len(text))
		}
		if per[0] > 16 || per[1] > 1.25*per[0] {
			t.Errorf("%s: work per byte %.2f at 64 KiB, %.2f at 1 MiB (want ≤ 16 and not growing)", name, per[0], per[1])
		}
		t.Logf("%s: work per byte %.2f at 64 KiB, %.2f at 1 MiB", name, per[0], per[1])
	}
}
