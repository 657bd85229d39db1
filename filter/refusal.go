package filter

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
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
// construction and therefore safe for concurrent use.
type refusalMatcher struct {
	phrases  []phrase
	literals []literal
	class    [256]uint8 // byte → input class; 0 is "any byte not in a pattern"
	nclass   int
	delta    []int32   // state*nclass + class → next state (a full DFA: failure links folded in)
	out      [][]int32 // state → literal indices ending here (own output only)
	outLink  []int32   // state → next state on the suffix chain that has output, or -1
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
}

// maxPooledBuf is the largest buffer a pool keeps: rare huge values must not stay pinned in memory.
const maxPooledBuf = 1 << 20

// bufPool holds normalization buffers so the keep path does not allocate.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// match reports the first phrase hit in text (in end-position order) that passes its anchor and post-check,
// returning the matched literal. A hit of a non-strict phrase is skipped when question asks for content in a
// persona or in the first person (checked at most once, and only when such a hit occurs).
func (m *refusalMatcher) match(text, question string) (string, bool) {
	if len(m.literals) == 0 || text == "" {
		return "", false
	}
	bp := bufPool.Get().(*[]byte)
	// The normal form is never longer than the text: grow once rather than by doubling (a 100 MB response
	// would otherwise allocate twice its size), and keep only ordinary buffers in the pool.
	buf := normalizeText(slices.Grow((*bp)[:0], len(text)), text)
	lit, ok := m.scan(buf, question)
	if cap(buf) <= maxPooledBuf {
		*bp = buf
		bufPool.Put(bp)
	}
	return lit, ok
}

func (m *refusalMatcher) scan(buf []byte, question string) (string, bool) {
	nc := m.nclass
	s := int32(0)
	content := -1 // unknown; 0 no, 1 yes
	for i := 0; i < len(buf); i++ {
		s = m.delta[int(s)*nc+int(m.class[buf[i]])]
		for o := s; o > 0; o = m.outLink[o] {
			for _, li := range m.out[o] {
				if !m.accept(buf, i+1, li) {
					continue
				}
				if !m.phrases[m.literals[li].phrase].strict {
					if content < 0 {
						content = 0
						if asksForContent(question) {
							content = 1
						}
					}
					if content == 1 {
						continue // the requested text's own voice, not the assistant's
					}
				}
				return m.literals[li].text, true
			}
		}
	}
	return "", false
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b >= 0x80
}

// accept applies the boundary, anchor and post-check rules to a literal ending at end.
func (m *refusalMatcher) accept(buf []byte, end int, li int32) bool {
	l := m.literals[li]
	start := end - len(l.text)
	if isWordByte(l.text[0]) && start > 0 && isWordByte(buf[start-1]) {
		return false
	}
	if isWordByte(l.text[len(l.text)-1]) && end < len(buf) && isWordByte(buf[end]) {
		return false
	}
	if insideQuotes(buf, start) || speakerLine(buf, start) {
		return false
	}
	p := &m.phrases[l.phrase]
	if p.anchor == anchorSentence && !atSentenceStart(buf, start) {
		return false
	}
	switch p.check {
	case checkFirstPerson:
		return lookAhead(buf, end, p.window, false)
	case checkLimitation:
		return lookAhead(buf, end, p.window, true)
	case checkNegation:
		return negationAhead(buf, end, p.window)
	}
	return true
}

// insideQuotes reports whether an odd number of double quotes precede i: the hit is quoted speech or a
// quoted example ("The bot replied, \"As an AI language model, I cannot…\""), not the answer's own voice.
// A response that is one quotation from its first to its last byte is still checked.
func insideQuotes(buf []byte, i int) bool {
	n := 0
	for j := 0; j < i; j++ {
		if buf[j] == '"' {
			n++
		}
	}
	if n%2 == 1 {
		return !(buf[0] == '"' && buf[len(buf)-1] == '"' && bytes.Count(buf, []byte{'"'}) == 2)
	}
	// Single quotes double as apostrophes, so only count quote-like ones: an opening quote follows a space,
	// bracket or colon and precedes a letter; a closing one follows a non-space and precedes a space,
	// punctuation or the end. "can't" and "I'm" are neither.
	depth := 0
	for j := 0; j < i; j++ {
		if buf[j] != '\'' {
			continue
		}
		before := byte(' ')
		if j > 0 {
			before = buf[j-1]
		}
		after := buf[j+1] // j < i <= len(buf)-1 since the hit starts at i
		switch {
		case (before == ' ' || before == '(' || before == ':' || before == '\n') && isWordByte(after):
			depth++
		case before != ' ' && !isWordByte(after) && depth > 0:
			depth--
		}
	}
	return depth > 0 && !(buf[0] == '\'' && buf[len(buf)-1] == '\'')
}

// speakerLine reports whether the line holding position i is a turn of a generated dialogue: it starts with a
// speaker label ("Sam: ", "Person A: ") and some other line does too. A character may well say "I'm sorry, but
// I can't". Labels that introduce the answer itself ("Answer:", "Output:", "Assistant:", "Step 2:") do not count.
func speakerLine(buf []byte, i int) bool {
	ls := bytes.LastIndexByte(buf[:i], '\n') + 1
	if !isSpeakerLabel(buf[ls:i]) {
		return false
	}
	for off := 0; off < len(buf); {
		end := bytes.IndexByte(buf[off:], '\n')
		if end < 0 {
			end = len(buf) - off
		}
		if off != ls && isSpeakerLabel(buf[off:off+end]) {
			return true
		}
		off += end + 1
	}
	return false
}

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

// atSentenceStart reports whether position i begins the text or a sentence: walking back over spaces,
// quotes, brackets, bullets and markdown emphasis reaches the start or one of . ! ? : newline.
func atSentenceStart(buf []byte, i int) bool {
	for j := i - 1; j >= 0; j-- {
		switch buf[j] {
		case ' ', '"', '\'', '*', '_', '(', '[', '-', '#', '>', '`':
			continue
		case '.', '!', '?', ':', '\n':
			return true
		default:
			return false
		}
	}
	return true
}

// lookAhead tokenizes up to window+3 words after end, stopping at a sentence end, and reports whether a
// first-person word occurs within window words (and, if needLimit, a limitation word within 3 words of it).
func lookAhead(buf []byte, end, window int, needLimit bool) bool {
	const maxTok = 40
	var fpPos, limPos [maxTok]int8
	nfp, nlim := 0, 0
	tok := 0
	limit := window
	if needLimit {
		limit = window + 3
	}
	i := end
	for i < len(buf) && tok < limit && tok < maxTok {
		b := buf[i]
		if b == '.' || b == '!' || b == '?' || b == '\n' || b == ';' {
			// "e.g." / decimals do not end a sentence; a full stop followed by space or end does.
			if b != '.' || i+1 >= len(buf) || buf[i+1] == ' ' || buf[i+1] == '\n' {
				break
			}
		}
		if !isTokByte(b) {
			i++
			continue
		}
		j := i
		for j < len(buf) && isTokByte(buf[j]) {
			j++
		}
		switch string(buf[i:j]) { // no allocation: the compiler converts in place for a switch
		case "i", "i'm", "i've", "i'd", "i'll", "me", "myself":
			if tok < window {
				fpPos[nfp] = int8(tok)
				nfp++
			}
		case "my":
			if tok < window {
				fpPos[nfp] = int8(tok)
				nfp++
				if needLimit && myLimitation(buf, j) {
					return true
				}
			}
		default:
			if isLimitation(buf[i:j]) {
				limPos[nlim] = int8(tok)
				nlim++
			}
		}
		tok++
		i = j
	}
	if !needLimit {
		return nfp > 0
	}
	for a := 0; a < nfp; a++ {
		for b := 0; b < nlim; b++ {
			d := int(fpPos[a]) - int(limPos[b])
			if d >= -3 && d <= 3 {
				return true
			}
		}
	}
	return false
}

// negationAhead reports whether a limitation word occurs within window words after end, in the same sentence.
func negationAhead(buf []byte, end, window int) bool {
	tok := 0
	for i := end; i < len(buf) && tok < window; {
		b := buf[i]
		if b == '!' || b == '?' || b == '\n' || b == ';' || b == '.' && (i+1 >= len(buf) || buf[i+1] == ' ' || buf[i+1] == '\n') {
			return false
		}
		if !isTokByte(b) {
			i++
			continue
		}
		j := i
		for j < len(buf) && isTokByte(buf[j]) {
			j++
		}
		if isLimitation(buf[i:j]) {
			return true
		}
		tok++
		i = j
	}
	return false
}

// isLimitation reports whether w is a negation or limitation word.
func isLimitation(w []byte) bool {
	switch string(w) {
	case "not", "cannot", "can't", "don't", "won't", "doesn't", "didn't", "wouldn't", "couldn't",
		"shouldn't", "isn't", "aren't", "unable", "incapable", "lack", "no", "never", "neither", "nor":
		return true
	}
	return false
}

// myLimitation reports whether the word after "my" (at j) names an AI's nature: "my purpose", "my training".
func myLimitation(buf []byte, j int) bool {
	for j < len(buf) && buf[j] == ' ' {
		j++
	}
	k := j
	for k < len(buf) && isTokByte(buf[k]) {
		k++
	}
	switch string(buf[j:k]) {
	case "purpose", "capabilities", "abilities", "knowledge", "training", "programming", "function",
		"limitations", "creators", "developers", "design", "programmers":
		return true
	}
	return false
}

func isTokByte(b byte) bool { return isWordByte(b) || b == '\'' || b == '-' }

// normalizeText appends the matcher's normal form of s to dst: ASCII lower-cased, curly apostrophes and
// quotes straightened, no-break and other spaces turned into ' ', runs of whitespace collapsed to one byte
// ('\n' if the run held a newline, else ' '), leading and trailing whitespace dropped.
func normalizeText(dst []byte, s string) []byte {
	pendingSpace := byte(0)
	started := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch c {
			case ' ', '\t', '\r', '\v', '\f':
				if pendingSpace == 0 {
					pendingSpace = ' '
				}
				continue
			case '\n':
				pendingSpace = '\n'
				continue
			}
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if pendingSpace != 0 && started {
				dst = append(dst, pendingSpace)
			}
			pendingSpace = 0
			started = true
			dst = append(dst, c)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		var rep byte
		switch r {
		case '\u2019', '\u2018', '\u02bc', '\u2032', '\u201b':
			rep = '\''
		case '\u201c', '\u201d', '\u201e', '\u2033':
			rep = '"'
		case '\u00a0', '\u2002', '\u2003', '\u2009', '\u202f', '\u200b':
			if pendingSpace == 0 {
				pendingSpace = ' '
			}
			i += size
			continue
		case '\u2028', '\u2029', '\u0085':
			pendingSpace = '\n'
			i += size
			continue
		}
		if pendingSpace != 0 && started {
			dst = append(dst, pendingSpace)
		}
		pendingSpace = 0
		started = true
		if rep != 0 {
			dst = append(dst, rep)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}
