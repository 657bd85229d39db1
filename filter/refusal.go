package filter

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// anchor says where a phrase may start.
type anchor uint8

const (
	anchorWord     anchor = iota // anywhere on a word boundary
	anchorSentence               // at the start of the text or of a sentence
)

// postCheck is the look-ahead a phrase hit must pass.
type postCheck uint8

const (
	checkNone        postCheck = iota
	checkFirstPerson           // a first-person word within window words
	checkLimitation            // a first-person word within window words and a limitation word within 3 words of it
	checkNegation              // a limitation word within window words (for hits that are first person already)
)

// phrase is one compiled phrase spec; several literals (its expansions) point to it.
type phrase struct {
	source string // the spec as written (for error messages and disable_phrases)
	anchor anchor
	check  postCheck
	window int
	// strict phrases are AI self-disclaimers ("!" in the spec): they apply whatever the question asked for.
	// The others are ordinary first-person apologies and inability statements, which are content when the
	// question asks for text in a persona (a review, an email, a story, a translation…): see asksForContent.
	strict bool
}

// literal is one expansion of a phrase, the unit the automaton matches.
type literal struct {
	text   string // normalized, lower-case
	phrase int32
}

// refusalMatcher is an Aho-Corasick automaton over the normalized response bytes. It is immutable after
// construction (its pool aside) and therefore safe for concurrent use.
type refusalMatcher struct {
	phrases  []phrase
	literals []literal
	class    [256]uint8 // byte → input class; 0 is "any byte not in a pattern"
	nclass   int
	// delta[s+class] is the next state, premultiplied by nclass (a full DFA: failure links folded in). States
	// are numbered so that those with output (own or on their suffix chain) come last: the scan tests one
	// comparison per byte, s >= emitFrom.
	delta      []int32
	emitFrom   int32
	out        [][]int32 // state → literal indices ending here (own output only)
	outLink    []int32   // state → next state on the suffix chain that has output, or -1
	maxLiteral int       // bytes in the longest literal
	kindOf     []uint8   // phrase → its look-ahead kind (check and window), for merging equal evaluators
	nkinds     int
	scans      sync.Pool // *refusalScan
}

// maxExpansions bounds one phrase's alternation product, so a config typo cannot build a huge automaton.
const maxExpansions = 20000

// parsePhrase splits a phrase spec into anchor, body and post-check, then expands the alternation groups.
func parsePhrase(spec string) (phrase, []string, error) {
	p := phrase{source: spec}
	s := strings.TrimSpace(spec)
	if strings.HasPrefix(s, "!") {
		p.strict = true
		s = strings.TrimSpace(s[1:])
	}
	if strings.HasPrefix(s, "^") {
		p.anchor = anchorSentence
		s = strings.TrimSpace(s[1:])
	}
	if i := strings.LastIndex(s, "~"); i >= 0 {
		tail := strings.TrimSpace(s[i+1:])
		s = strings.TrimSpace(s[:i])
		var digits string
		switch {
		case strings.HasPrefix(tail, "fp"):
			p.check, digits = checkFirstPerson, tail[2:]
		case strings.HasPrefix(tail, "lim"):
			p.check, digits = checkLimitation, tail[3:]
		case strings.HasPrefix(tail, "neg"):
			p.check, digits = checkNegation, tail[3:]
		default:
			return p, nil, fmt.Errorf("phrase %q: unknown post-check %q (want ~fpN, ~limN or ~negN)", spec, "~"+tail)
		}
		p.window = 6
		if digits != "" {
			n, err := strconv.Atoi(digits)
			if err != nil || n < 1 || n > 30 {
				return p, nil, fmt.Errorf("phrase %q: post-check window %q must be 1..30", spec, digits)
			}
			p.window = n
		}
	}
	if s == "" {
		return p, nil, fmt.Errorf("phrase %q is empty", spec)
	}
	alts, rest, err := expandSeq(s, 0)
	if err != nil {
		return p, nil, fmt.Errorf("phrase %q: %w", spec, err)
	}
	if rest != len(s) {
		return p, nil, fmt.Errorf("phrase %q: unbalanced ')' at byte %d", spec, rest)
	}
	out := alts[:0]
	for _, a := range alts {
		// "i (am|'m)" expands to "i 'm": a space before an apostrophe is never meant, so join the contraction.
		a = strings.ReplaceAll(string(normalizeText(nil, a)), " '", "'")
		if a != "" {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return p, nil, fmt.Errorf("phrase %q expands to nothing", spec)
	}
	return p, out, nil
}

// expandSeq expands s[i:] up to a ')' or '|' at depth 0 and returns the expansions and the stop index.
func expandSeq(s string, i int) ([]string, int, error) {
	acc := []string{""}
	for i < len(s) {
		c := s[i]
		switch c {
		case ')', '|':
			return acc, i, nil
		case '(':
			var group []string
			i++
			for {
				alts, j, err := expandSeq(s, i)
				if err != nil {
					return nil, 0, err
				}
				group = append(group, alts...)
				if j >= len(s) {
					return nil, 0, fmt.Errorf("unclosed '('")
				}
				i = j + 1
				if s[j] == ')' {
					break
				}
			}
			next := make([]string, 0, len(acc)*len(group))
			for _, a := range acc {
				for _, g := range group {
					next = append(next, a+g)
				}
			}
			if len(next) > maxExpansions {
				return nil, 0, fmt.Errorf("more than %d expansions", maxExpansions)
			}
			acc = next
		default:
			j := i
			for j < len(s) && s[j] != '(' && s[j] != ')' && s[j] != '|' {
				j++
			}
			for k := range acc {
				acc[k] += s[i:j]
			}
			i = j
		}
	}
	return acc, i, nil
}

// newRefusalMatcher compiles the built-in phrases minus disabled ones, plus extra phrases.
func newRefusalMatcher(extra, disable []string) (*refusalMatcher, error) {
	off := make(map[string]bool, len(disable))
	for _, d := range disable {
		off[strings.TrimSpace(d)] = true
	}
	used := make(map[string]bool, len(disable))
	m := &refusalMatcher{}
	seen := map[string]bool{}
	add := func(spec, key string) error {
		p, lits, err := parsePhrase(spec)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		idx := int32(len(m.phrases))
		m.phrases = append(m.phrases, p)
		for _, l := range lits {
			k := strconv.Itoa(int(idx)) + "\x00" + l
			if seen[k] {
				continue
			}
			seen[k] = true
			m.literals = append(m.literals, literal{text: l, phrase: idx})
		}
		return nil
	}
	for _, spec := range builtinRefusalPhrases {
		if off[spec] {
			used[spec] = true
			continue
		}
		if err := add(spec, "filters.refusal"); err != nil {
			return nil, err // a bug in the built-in list; tests catch it
		}
	}
	for d := range off {
		if !used[d] {
			return nil, fmt.Errorf("filters.refusal.disable_phrases: %q is not a built-in phrase (see filter/README.md)", d)
		}
	}
	for i, spec := range extra {
		if err := add(spec, fmt.Sprintf("filters.refusal.extra_phrases[%d]", i)); err != nil {
			return nil, err
		}
	}
	m.build()
	kinds := map[[2]int]uint8{}
	m.kindOf = make([]uint8, len(m.phrases))
	for i, p := range m.phrases {
		k := [2]int{int(p.check), p.window}
		if _, ok := kinds[k]; !ok {
			kinds[k] = uint8(len(kinds)) // at most 3 checks × 30 windows + none
		}
		m.kindOf[i] = kinds[k]
	}
	m.nkinds = len(kinds)
	for _, l := range m.literals {
		m.maxLiteral = max(m.maxLiteral, len(l.text))
	}
	m.scans.New = func() any { return m.newScan() }
	return m, nil
}

// build constructs the dense DFA (goto + failure links folded in) over byte classes.
func (m *refusalMatcher) build() {
	m.nclass = 1
	for _, l := range m.literals {
		for i := 0; i < len(l.text); i++ {
			b := l.text[i]
			if m.class[b] == 0 {
				m.class[b] = uint8(m.nclass)
				m.nclass++
			}
		}
	}
	// Newlines are matched like spaces, so a phrase broken across lines still matches.
	m.class['\n'] = m.class[' ']
	nc := m.nclass
	// Trie.
	m.delta = make([]int32, nc) // state 0 = root
	m.out = [][]int32{nil}
	for li, l := range m.literals {
		s := int32(0)
		for i := 0; i < len(l.text); i++ {
			c := int(m.class[l.text[i]])
			nxt := m.delta[int(s)*nc+c]
			if nxt == 0 {
				nxt = int32(len(m.out))
				m.out = append(m.out, nil)
				m.delta = append(m.delta, make([]int32, nc)...)
				m.delta[int(s)*nc+c] = nxt
			}
			s = nxt
		}
		m.out[s] = append(m.out[s], int32(li))
	}
	n := len(m.out)
	fail := make([]int32, n)
	m.outLink = make([]int32, n)
	for i := range m.outLink {
		m.outLink[i] = -1
	}
	// BFS; a transition that is 0 from a non-root state is filled with the failure state's transition.
	queue := make([]int32, 0, n)
	for c := 0; c < nc; c++ {
		if t := m.delta[c]; t != 0 {
			fail[t] = 0
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := fail[s]
		if len(m.out[f]) > 0 {
			m.outLink[s] = f
		} else {
			m.outLink[s] = m.outLink[f]
		}
		for c := 0; c < nc; c++ {
			t := m.delta[int(s)*nc+c]
			if t != 0 {
				fail[t] = m.delta[int(f)*nc+c]
				queue = append(queue, t)
			} else {
				m.delta[int(s)*nc+c] = m.delta[int(f)*nc+c]
			}
		}
	}
	m.renumber()
}

// renumber puts the states with output last (the root stays 0) and premultiplies delta by nclass.
func (m *refusalMatcher) renumber() {
	n, nc := len(m.out), m.nclass
	emits := func(s int) bool { return len(m.out[s]) > 0 || m.outLink[s] >= 0 }
	id := make([]int32, n)
	next := int32(0)
	for pass := 0; pass < 2; pass++ {
		if pass == 1 {
			m.emitFrom = next * int32(nc)
		}
		for s := 0; s < n; s++ {
			if emits(s) == (pass == 1) {
				id[s] = next
				next++
			}
		}
	}
	delta := make([]int32, len(m.delta))
	out := make([][]int32, n)
	outLink := make([]int32, n)
	for s := 0; s < n; s++ {
		t := id[s]
		for c := 0; c < nc; c++ {
			delta[int(t)*nc+c] = id[m.delta[s*nc+c]] * int32(nc)
		}
		out[t] = m.out[s]
		outLink[t] = -1
		if l := m.outLink[s]; l >= 0 {
			outLink[t] = id[l]
		}
	}
	m.delta, m.out, m.outLink = delta, out, outLink
}

// match reports the first phrase hit in text (in end-position order) that passes its anchor and post-check,
// returning the matched literal. A hit of a non-strict phrase is skipped when question asks for content in a
// persona or in the first person (checked at most once, and only when such a hit occurs). It streams the
// response (refusalscan.go): memory stays bounded and time linear whatever its size.
func (m *refusalMatcher) match(text, question string) (string, bool) {
	if len(m.literals) == 0 || text == "" {
		return "", false
	}
	lit, ok, _ := m.scanText(text, question, pieceSize)
	return lit, ok
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b >= 0x80
}

func isTokByte(b byte) bool { return isWordByte(b) || b == '\'' || b == '-' }

// isSpeakerLabel reports whether line starts with one to three plain words and a colon, other than labels that
// introduce the answer.
func isSpeakerLabel(line []byte) bool {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 || colon > 25 {
		return false
	}
	label := bytes.Trim(line[:colon], " *#-_")
	if len(label) > 0 && label[0] >= '0' && label[0] <= '9' {
		return false // "6. Violence: …" is a numbered list item with a heading, not a speaker
	}
	words := 0
	for _, f := range bytes.Fields(label) {
		words++
		for _, c := range f {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '\'' || c == '-' || c >= 0x80) {
				return false
			}
		}
	}
	if words == 0 || words > 3 {
		return false
	}
	switch string(label) {
	case "answer", "output", "response", "solution", "explanation", "note", "result", "final answer", "reply",
		"assistant", "ai", "ai assistant", "chatbot", "bot", "gpt", "chatgpt", "model", "system", "justification",
		"rationale", "reasoning", "summary", "conclusion", "translation", "correct answer", "my answer", "the answer":
		return false
	}
	return !bytes.HasPrefix(label, []byte("step ")) && !bytes.HasPrefix(label, []byte("part "))
}
