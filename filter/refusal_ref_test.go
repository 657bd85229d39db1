package filter

// The refusal matcher as it was before it streamed (commit 4e1ebbe): normalize the whole response into one
// buffer, run the DFA over it, and check each hit with whole-buffer scans. It is kept verbatim (names prefixed
// "ref") as the reference the streaming scan must agree with byte for byte (TestStreamingScanMatchesReference).

import (
	"bytes"
	"unicode/utf8"
)

// refMatcher is the old matcher's automaton, built by the old code from the same literals and phrases.
type refMatcher struct {
	phrases  []phrase
	literals []literal
	class    [256]uint8
	nclass   int
	delta    []int32
	out      [][]int32
	outLink  []int32
}

func newRefMatcher(m *refusalMatcher) *refMatcher {
	r := &refMatcher{phrases: m.phrases, literals: m.literals}
	r.build()
	return r
}

// match is the old refusalMatcher.match without the buffer pool.
func (m *refMatcher) match(text, question string) (string, bool) {
	if len(m.literals) == 0 || text == "" {
		return "", false
	}
	return m.scan(refNormalizeText(nil, text), question)
}

// build constructs the dense DFA (goto + failure links folded in) over byte classes.
func (m *refMatcher) build() {
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

func (m *refMatcher) scan(buf []byte, question string) (string, bool) {
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

// accept applies the boundary, anchor and post-check rules to a literal ending at end.
func (m *refMatcher) accept(buf []byte, end int, li int32) bool {
	l := m.literals[li]
	start := end - len(l.text)
	if isWordByte(l.text[0]) && start > 0 && isWordByte(buf[start-1]) {
		return false
	}
	if isWordByte(l.text[len(l.text)-1]) && end < len(buf) && isWordByte(buf[end]) {
		return false
	}
	if refInsideQuotes(buf, start) || refSpeakerLine(buf, start) {
		return false
	}
	p := &m.phrases[l.phrase]
	if p.anchor == anchorSentence && !refAtSentenceStart(buf, start) {
		return false
	}
	switch p.check {
	case checkFirstPerson:
		return refLookAhead(buf, end, p.window, false)
	case checkLimitation:
		return refLookAhead(buf, end, p.window, true)
	case checkNegation:
		return refNegationAhead(buf, end, p.window)
	}
	return true
}

// insideQuotes reports whether an odd number of double quotes precede i: the hit is quoted speech or a
// quoted example ("The bot replied, \"As an AI language model, I cannot…\""), not the answer's own voice.
// A response that is one quotation from its first to its last byte is still checked.
func refInsideQuotes(buf []byte, i int) bool {
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
func refSpeakerLine(buf []byte, i int) bool {
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

// atSentenceStart reports whether position i begins the text or a sentence: walking back over spaces,
// quotes, brackets, bullets and markdown emphasis reaches the start or one of . ! ? : newline.
func refAtSentenceStart(buf []byte, i int) bool {
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
func refLookAhead(buf []byte, end, window int, needLimit bool) bool {
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
				if needLimit && refMyLimitation(buf, j) {
					return true
				}
			}
		default:
			if refIsLimitation(buf[i:j]) {
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
func refNegationAhead(buf []byte, end, window int) bool {
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
		if refIsLimitation(buf[i:j]) {
			return true
		}
		tok++
		i = j
	}
	return false
}

// myLimitation reports whether the word after "my" (at j) names an AI's nature: "my purpose", "my training".
func refMyLimitation(buf []byte, j int) bool {
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

// normalizeText appends the matcher's normal form of s to dst: ASCII lower-cased, curly apostrophes and
// quotes straightened, no-break and other spaces turned into ' ', runs of whitespace collapsed to one byte
// ('\n' if the run held a newline, else ' '), leading and trailing whitespace dropped.
func refNormalizeText(dst []byte, s string) []byte {
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

// refIsLimitation is the old isLimitation.
func refIsLimitation(w []byte) bool {
	switch string(w) {
	case "not", "cannot", "can't", "don't", "won't", "doesn't", "didn't", "wouldn't", "couldn't",
		"shouldn't", "isn't", "aren't", "unable", "incapable", "lack", "no", "never", "neither", "nor":
		return true
	}
	return false
}
