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
		"Sam: ", "Alex:", "Person A: ", "Answer: ", "Step 2: ", "6. Violence: ", "AI: ", "Note:",
		"- ", "* ", "**", "# ", "> ", "(", ")", "[", "_",
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
	}
	return b.String()
}

var streamQuestions = []string{
	"", "What is 2+2?", "Write a short story about a robot.", "Translate to German:", "Summarize the passage.",
}

// TestStreamingScanMatchesReference: for random trigger-rich texts the matcher returns exactly what the old
// whole-buffer matcher returns.
func TestStreamingScanMatchesReference(t *testing.T) {
	m, err := newRefusalMatcher([]string{"x-", "foo' ~fp3", ", ~neg2", "^zz ~lim1"}, nil)
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
	for i := range n {
		text := triggerText(r, m.literals)
		q := streamQuestions[r.IntN(len(streamQuestions))]
		wantLit, wantOK := ref.match(text, q)
		gotLit, gotOK := m.match(text, q)
		if gotLit != wantLit || gotOK != wantOK {
			t.Fatalf("text %d %q (question %q): got (%q,%v), want (%q,%v)", i, text, q, gotLit, gotOK, wantLit, wantOK)
		}
		if wantOK {
			hits++
		}
	}
	// Both outcomes must be common, or the comparison says little.
	if hits < n/10 || hits > n*9/10 {
		t.Errorf("%d of %d texts matched: the generator does not exercise both outcomes", hits, n)
	}
	t.Logf("%d texts, %d matched", n, hits)
}
