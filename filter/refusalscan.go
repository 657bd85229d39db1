package filter

import (
	"math"
	"slices"
	"sort"
	"unicode/utf8"
)

// The refusal scan streams: the response is normalized piece by piece into a small buffer and the automaton
// runs over the pieces, so a 100 MB response costs no 100 MB copy; and every rule a hit must pass is decided
// from state carried along the stream, so no hit rescans the text (a response full of rejected hits stays
// linear). The rules are those of the whole-buffer version this replaced (kept as the reference in
// refusal_ref_test.go, which the tests hold this to on random texts):
//
//   - Backward rules (word boundary before the hit, double-quote parity and single-quote depth, the line's
//     speaker label, sentence start) are functions of the normal form before the hit's start. backTracker
//     computes them with its own normalizer, lazily (only when a hit needs them), and keeps a snapshot for each
//     of the last positions, enough to reach back over the longest literal.
//   - Whole-response facts (first and last byte, number of '"', number of speaker-label lines) are computed
//     once, by one more pass, only when a hit inside quotes or on a speaker line needs them.
//   - Forward rules (word boundary after the hit, the ~fp/~lim/~neg look-ahead) become evaluators: small state
//     machines fed with the tokens and sentence ends that follow the hit. A look-ahead is bounded in tokens
//     (window+3 ≤ 33), not in bytes, so a token of any length is handled exactly: only its class matters (a
//     first-person word, "my", a limitation word, a word after "my" that names an AI's nature, or other), and
//     a token longer than the longest of those words is "other".
//
// Hits are decided in the order the whole-buffer version met them (end position, then the automaton's output
// order): a hit whose look-ahead is still open holds back later accepted ones. Evaluators that can only end
// alike are merged (see register), which bounds their number whatever the text.

// pieceSize is the normal-form bytes scanned per piece; responses shorter than this are one piece.
const pieceSize = 16 << 10

// normalizer produces normalizeText's output for s piece by piece: its state (input offset, pending space,
// whether output has started) is carried from one piece to the next, and input runes are always decoded from
// the whole remaining string, so the pieces concatenate to exactly normalizeText(nil, s).
type normalizer struct {
	s       string
	i       int
	pending byte // ' ' or '\n' to emit before the next non-space, or 0
	started bool
}

func (n *normalizer) done() bool { return n.i >= len(n.s) }

// next appends normalized bytes to dst, reading at most limit-len(dst) input bytes (plus the rest of a rune
// that straddles the stop), so it appends at most limit-len(dst)+4 bytes: every emitted byte comes from a
// consumed input byte, except one pending space carried in from the previous call. It always consumes at
// least one byte if any remain.
func (n *normalizer) next(dst []byte, limit int) []byte {
	s, i, pendingSpace, started := n.s, n.i, n.pending, n.started
	stop := len(s)
	if room := limit - len(dst); room < stop-i {
		stop = i + max(room, 1)
	}
	for i < stop {
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
	n.i, n.pending, n.started = i, pendingSpace, started
	return dst
}

// normalizeText appends the matcher's normal form of s to dst: ASCII lower-cased, curly apostrophes and
// quotes straightened, no-break and other spaces turned into ' ', runs of whitespace collapsed to one byte
// ('\n' if the run held a newline, else ' '), leading and trailing whitespace dropped.
func normalizeText(dst []byte, s string) []byte {
	n := normalizer{s: s}
	return n.next(dst, math.MaxInt)
}

// Snapshot flags: the backward rules' state before a position.
const (
	snapDQOdd   = 1 << iota // an odd number of '"' before it
	snapSQOpen              // single-quote depth > 0 before it
	snapSS                  // atSentenceStart
	snapSpeaker             // the line so far starts with a speaker label (isSpeakerLabel of the line's prefix)
)

type snapshot struct {
	prev  byte // the byte before the position (meaningful past position 0)
	flags uint8
}

// lineState follows isSpeakerLabel over a line as it grows: only the first colon matters, and only at byte
// offset 1..25, so the first 26 bytes decide it.
type lineState struct {
	buf     [26]byte
	n       int
	verdict uint8 // 0 no colon yet, 1 a speaker label, 2 not one
}

func (l *lineState) add(c byte) {
	if c == '\n' {
		l.n, l.verdict = 0, 0
		return
	}
	if l.verdict != 0 {
		return
	}
	if c == ':' {
		l.buf[l.n] = c
		l.verdict = 2
		if isSpeakerLabel(l.buf[:l.n+1]) {
			l.verdict = 1
		}
		return
	}
	if l.n == len(l.buf)-1 { // a first colon at offset > 25 never counts
		l.verdict = 2
		return
	}
	l.buf[l.n] = c
	l.n++
}

// backTracker computes the backward rules along the normal form with its own normalizer, only as far as hits
// need, and keeps the snapshots of the last len(ring) positions.
type backTracker struct {
	norm    normalizer
	scratch [256 + 8]byte
	si, sn  int
	pos     int  // positions consumed; snapshot(p) exists for pos-len(ring) <= p < pos
	b1, b2  byte // the bytes at pos-1 and pos-2
	dqOdd   bool
	depth   int // single-quote depth, as insideQuotes counts it
	ss      bool
	line    lineState
	ring    []snapshot // length a power of two, > the longest literal
}

func (t *backTracker) reset(s string) {
	t.norm = normalizer{s: s}
	t.si, t.sn, t.pos, t.b1, t.b2 = 0, 0, 0, 0, 0
	t.dqOdd, t.depth, t.ss = false, 0, true
	t.line = lineState{}
}

// at returns the snapshot before position p (p below the normal form's length and p >= pos-len(ring)+1).
func (t *backTracker) at(p int, work *int) snapshot {
	mask := len(t.ring) - 1
	for t.pos <= p {
		if t.si == t.sn {
			out := t.norm.next(t.scratch[:0], len(t.scratch)-8)
			t.si, t.sn = 0, len(out)
			*work += len(out)
			continue
		}
		c := t.scratch[t.si]
		t.si++
		// The single quote at pos-1 is classified now that the byte after it is known.
		if t.b1 == '\'' && t.pos >= 1 {
			before := byte(' ')
			if t.pos >= 2 {
				before = t.b2
			}
			switch {
			case (before == ' ' || before == '(' || before == ':' || before == '\n') && isWordByte(c):
				t.depth++
			case before != ' ' && !isWordByte(c) && t.depth > 0:
				t.depth--
			}
		}
		var f uint8
		if t.dqOdd {
			f |= snapDQOdd
		}
		if t.depth > 0 {
			f |= snapSQOpen
		}
		if t.ss {
			f |= snapSS
		}
		if t.line.verdict == 1 {
			f |= snapSpeaker
		}
		t.ring[t.pos&mask] = snapshot{prev: t.b1, flags: f}
		switch c {
		case '"':
			t.dqOdd = !t.dqOdd
		}
		switch c {
		case ' ', '"', '\'', '*', '_', '(', '[', '-', '#', '>', '`':
		case '.', '!', '?', ':', '\n':
			t.ss = true
		default:
			t.ss = false
		}
		t.line.add(c)
		t.b2, t.b1 = t.b1, c
		t.pos++
	}
	return t.ring[p&mask]
}

// Token classes the look-ahead distinguishes.
const (
	clsOther uint8 = iota
	clsFirstPerson
	clsMy
	clsLimitation
	clsMyNature // a word after "my" naming an AI's nature: "my purpose", "my training"
)

var (
	tokenClass = func() map[string]uint8 {
		m := map[string]uint8{"my": clsMy}
		for _, w := range []string{"i", "i'm", "i've", "i'd", "i'll", "me", "myself"} {
			m[w] = clsFirstPerson
		}
		for _, w := range []string{"not", "cannot", "can't", "don't", "won't", "doesn't", "didn't", "wouldn't",
			"couldn't", "shouldn't", "isn't", "aren't", "unable", "incapable", "lack", "no", "never", "neither", "nor"} {
			m[w] = clsLimitation
		}
		for _, w := range []string{"purpose", "capabilities", "abilities", "knowledge", "training", "programming",
			"function", "limitations", "creators", "developers", "design", "programmers"} {
			m[w] = clsMyNature
		}
		return m
	}()
	// maxClassWord is the longest word with a class: a longer token is clsOther whatever its bytes.
	maxClassWord = func() int {
		n := 0
		for w := range tokenClass {
			n = max(n, len(w))
		}
		return n
	}()
	// classStart marks the bytes a classed word can start with; a token starting otherwise is clsOther.
	classStart = func() (b [256]bool) {
		for w := range tokenClass {
			b[w[0]] = true
		}
		return b
	}()
)

func classify(w []byte) uint8 {
	if len(w) > maxClassWord {
		return clsOther
	}
	return tokenClass[string(w)] // no allocation: the compiler converts in place for a map index
}

// isLimitation reports whether w is a negation or limitation word.
func isLimitation(w []byte) bool { return classify(w) == clsLimitation }

// Evaluator states.
const (
	evPending uint8 = iota
	evAccepted
	evRejected // or merged into an earlier equal evaluator
)

// evaluator decides one hit's look-ahead from the tokens and sentence ends after it (see lookAhead and
// negationAhead in the reference for the rule it follows).
type evaluator struct {
	end     int // normal-form offset just past the hit
	serial  uint64
	lit     int32
	state   uint8
	check   postCheck
	window  uint8 // first-person words count within this many tokens
	limit   uint8 // tokens examined
	tok     uint8 // tokens seen
	awaitMy bool  // the last token was a counted "my": the next word may make it "my purpose"
	fp, lim uint64
}

// near is the bit mask of the tokens at most 3 before token t.
func near(t uint8) uint64 {
	lo := int(t) - 3
	m := uint64(1)<<t - 1
	if lo > 0 {
		m &^= uint64(1)<<uint(lo) - 1
	}
	return m
}

// feed applies one token of class cls; spaceGap says only spaces separate it from the previous token.
func (e *evaluator) feed(cls uint8, spaceGap bool) {
	if e.check == checkNegation {
		if cls == clsLimitation {
			e.state = evAccepted
			return
		}
		if e.tok++; e.tok >= e.limit {
			e.state = evRejected
		}
		return
	}
	if e.awaitMy {
		e.awaitMy = false
		if spaceGap && cls == clsMyNature {
			e.state = evAccepted
			return
		}
	}
	if e.tok >= e.limit { // only reached when the last examined token was "my"
		e.state = evRejected
		return
	}
	t := e.tok
	switch cls {
	case clsFirstPerson, clsMy:
		if t < e.window {
			if e.check == checkFirstPerson || e.lim&near(t) != 0 {
				e.state = evAccepted
				return
			}
			e.fp |= 1 << t
			e.awaitMy = cls == clsMy
		}
	case clsLimitation:
		if e.check == checkLimitation {
			if e.fp&near(t) != 0 {
				e.state = evAccepted
				return
			}
			e.lim |= 1 << t
		}
	}
	if e.tok++; e.tok >= e.limit && !e.awaitMy {
		e.state = evRejected
	}
}

// tokenizer turns the normal form after the first pending hit into token and sentence-end events for the
// evaluators. It reads the current piece and is caught up before the piece is replaced; it runs only while
// evaluators are pending.
type tokenizer struct {
	active    bool
	pos       int // next position to consume
	inTok     bool
	ts        int      // start of the token in progress
	tail      [16]byte // the token's last bytes, by position & 15
	dot       bool     // a '.' at pos-1 waits for the next byte to say whether it ends a sentence
	spaceGap  bool     // only ' ' since the last token ended
	tokGap    bool     // spaceGap when the token in progress started
	lastEvent int      // position of the latest token start or sentence end, -1 before any
}

// midRecord tracks, per evaluator kind, the evaluators registered inside the token in progress (their first
// token is a suffix of it).
type midRecord struct {
	gen     uint64
	ts      int
	settled int64        // serial of the earliest one whose first token is surely clsOther, or -1
	open    [16][2]int64 // (serial, end) of the others, all within maxClassWord of the latest
	nopen   int
}

// kindRecord remembers, per evaluator kind, the latest registered evaluator that did not start mid-token.
type kindRecord struct {
	gen uint64
	end int
}

// refusalScan is one match call's state; pooled per matcher so the keep path does not allocate.
type refusalScan struct {
	m        *refusalMatcher
	text     string
	question string
	content  int8 // -1 unknown, 0 the question does not ask for content, 1 it does
	limit    int  // normal-form bytes per piece

	norm normalizer
	buf  []byte
	base int // offset of buf[0] in the normal form

	back backTracker

	factsDone           bool
	first, last         byte
	quotes, speakerRows int

	tok      tokenizer
	queue    []evaluator
	head     int
	serial   uint64
	gen      uint64 // bumped when the queue empties: kind and mid records of older generations are void
	accepted bool   // some queued hit is accepted: later hits cannot change the answer
	kinds    []kindRecord
	mids     []midRecord
	answer   int32

	work int // bytes and events processed, for the linear-time test
}

func (m *refusalMatcher) newScan() *refusalScan {
	n := 1
	for n < m.maxLiteral+2 {
		n <<= 1
	}
	sc := &refusalScan{m: m, buf: make([]byte, 0, pieceSize+8)}
	sc.back.ring = make([]snapshot, n)
	sc.kinds = make([]kindRecord, m.nkinds)
	sc.mids = make([]midRecord, m.nkinds)
	return sc
}

// scanText runs the matcher over text in pieces of about limit normal-form bytes and returns the first
// accepted hit's literal and the work done.
func (m *refusalMatcher) scanText(text, question string, limit int) (string, bool, int) {
	sc := m.scans.Get().(*refusalScan)
	sc.text, sc.question, sc.content, sc.limit = text, question, -1, limit
	if need := limit + 8; cap(sc.buf) < need {
		sc.buf = make([]byte, 0, need)
	}
	sc.norm = normalizer{s: text}
	sc.base = 0
	sc.back.reset(text)
	sc.factsDone = false
	sc.tok = tokenizer{lastEvent: -1}
	sc.queue, sc.head, sc.accepted = sc.queue[:0], 0, false
	sc.gen++
	sc.work = 0
	lit, ok := sc.run()
	work := sc.work
	sc.text, sc.question, sc.norm, sc.back.norm = "", "", normalizer{}, normalizer{}
	if cap(sc.queue) > 1024 { // a hostile response's queue is not kept
		sc.queue = nil
	}
	if cap(sc.buf) <= pieceSize+8 {
		m.scans.Put(sc)
	}
	return lit, ok, work
}

func (sc *refusalScan) run() (string, bool) {
	m := sc.m
	delta, class, emit := m.delta, &m.class, m.emitFrom
	s := int32(0)
	deferred := int32(-1) // a state with hits at a piece's end, decided when the next byte is known
	for !sc.norm.done() {
		buf := sc.norm.next(sc.buf[:0], sc.limit)
		sc.buf = buf
		n := len(buf)
		if n == 0 {
			continue
		}
		sc.work += n
		if deferred >= 0 {
			if sc.hits(deferred, sc.base, int(buf[0])) {
				return sc.result()
			}
			deferred = -1
		}
		for i := 0; i < n; i++ {
			s = delta[int(s)+int(class[buf[i]])]
			if s >= emit {
				if i+1 == n {
					deferred = s
				} else if sc.hits(s, sc.base+i+1, int(buf[i+1])) {
					return sc.result()
				}
			}
		}
		if sc.tok.active {
			sc.catchUp(sc.base + n)
			if sc.settle() {
				return sc.result()
			}
		}
		sc.base += n
	}
	if deferred >= 0 && sc.hits(deferred, sc.base, -1) {
		return sc.result()
	}
	if sc.tok.active {
		sc.endOfText()
		if sc.settle() {
			return sc.result()
		}
	}
	return "", false
}

func (sc *refusalScan) result() (string, bool) { return sc.m.literals[sc.answer].text, true }

// hits handles the literals ending at end in automaton state s (premultiplied); next is the byte at end, or
// -1 at the end of the text. It reports whether the answer is known.
func (sc *refusalScan) hits(s int32, end, next int) bool {
	m := sc.m
	for o := s / int32(m.nclass); o > 0; o = m.outLink[o] {
		for _, li := range m.out[o] {
			if sc.accepted {
				return false
			}
			if sc.hit(li, end, next) {
				return true
			}
		}
	}
	return false
}

// hit applies the rules to literal li ending at end; it reports whether the answer is known.
func (sc *refusalScan) hit(li int32, end, next int) bool {
	m := sc.m
	l := &m.literals[li]
	if isWordByte(l.text[len(l.text)-1]) && next >= 0 && isWordByte(byte(next)) {
		return false
	}
	start := end - len(l.text)
	sn := sc.back.at(start, &sc.work)
	if isWordByte(l.text[0]) && start > 0 && isWordByte(sn.prev) {
		return false
	}
	if sn.flags&(snapDQOdd|snapSQOpen|snapSpeaker) != 0 {
		sc.facts()
		if sn.flags&snapDQOdd != 0 {
			// Inside double quotes, unless the whole response is one quotation.
			if !(sc.first == '"' && sc.last == '"' && sc.quotes == 2) {
				return false
			}
		} else if sn.flags&snapSQOpen != 0 && !(sc.first == '\'' && sc.last == '\'') {
			return false
		}
		// A dialogue turn: this line starts with a speaker label, so does another.
		if sn.flags&snapSpeaker != 0 && sc.speakerRows >= 2 {
			return false
		}
	}
	p := &m.phrases[l.phrase]
	if p.anchor == anchorSentence && sn.flags&snapSS == 0 {
		return false
	}
	if !p.strict {
		if sc.content < 0 {
			sc.content = 0
			if asksForContent(sc.question) {
				sc.content = 1
			}
		}
		if sc.content == 1 {
			return false // the requested text's own voice, not the assistant's
		}
	}
	if p.check == checkNone {
		if sc.head == len(sc.queue) {
			sc.answer = li
			return true
		}
		sc.accepted = true
		sc.push(evaluator{end: end, lit: li, state: evAccepted})
		return false
	}
	sc.register(li, p, end, next)
	return sc.settle()
}

// register queues an evaluator for a hit ending at end, unless an earlier queued one of the same kind is
// bound to end the same way; then the new one can neither be decided first nor differently, and is dropped.
// This keeps the queue bounded: per kind, one evaluator per token boundary within the look-ahead span, and per
// token at most maxClassWord+1 that start inside it.
func (sc *refusalScan) register(li int32, p *phrase, end, next int) {
	tk := &sc.tok
	if !tk.active {
		*tk = tokenizer{active: true, pos: end, lastEvent: tk.lastEvent}
	}
	sc.catchUp(end)
	kind := sc.m.kindOf[sc.m.literals[li].phrase]
	e := evaluator{end: end, lit: li, check: p.check, window: uint8(p.window), limit: uint8(p.window)}
	if p.check == checkLimitation {
		e.limit += 3
	}
	e.limit = min(e.limit, 40)
	mid := tk.inTok && next >= 0 && isTokByte(byte(next))
	if !mid {
		// Equal to the latest non-mid one of its kind if no token started and no sentence ended since that one
		// started (a '.' just before end ends a sentence if next is a space or the end).
		kr := &sc.kinds[kind]
		if kr.gen == sc.gen {
			event := tk.lastEvent >= kr.end || tk.dot && end-1 >= kr.end && (next < 0 || next == ' ' || next == '\n')
			if !event {
				return
			}
		}
		kr.gen, kr.end = sc.gen, end
		sc.push(e)
		return
	}
	// Mid-token: the first token is the in-progress token's suffix from end. Suffixes that cannot be a classed
	// word (too long, or starting with a byte no classed word starts with) all end as clsOther tokens: keep the
	// earliest of those.
	mr := &sc.mids[kind]
	if mr.gen != sc.gen || mr.ts != tk.ts {
		mr.gen, mr.ts, mr.settled, mr.nopen = sc.gen, tk.ts, -1, 0
	}
	k := 0
	for _, o := range mr.open[:mr.nopen] {
		if int(o[1]) == end {
			return // same kind, same position: the same evaluator
		}
		if end-int(o[1]) < maxClassWord { // its suffix may still be a classed word
			mr.open[k] = o
			k++
			continue
		}
		switch {
		case mr.settled < 0:
			mr.settled = o[0]
		case o[0] < mr.settled:
			sc.drop(uint64(mr.settled))
			mr.settled = o[0]
		default:
			sc.drop(uint64(o[0]))
		}
	}
	mr.nopen = k
	if !classStart[byte(next)] {
		if mr.settled >= 0 {
			return
		}
		mr.settled = int64(sc.serial)
	} else {
		mr.open[mr.nopen] = [2]int64{int64(sc.serial), int64(end)}
		mr.nopen++
	}
	sc.push(e)
}

func (sc *refusalScan) push(e evaluator) {
	if len(sc.queue) == cap(sc.queue) && len(sc.queue) > 0 {
		// Full: drop the popped and the rejected entries first, and grow only if that freed less than half.
		k := 0
		for i := sc.head; i < len(sc.queue); i++ {
			if q := sc.queue[i]; q.state != evRejected {
				sc.queue[k] = q
				k++
			}
		}
		sc.queue, sc.head = sc.queue[:k], 0
		sc.queue = slices.Grow(sc.queue, k+1)
	}
	e.serial = sc.serial
	sc.serial++
	sc.queue = append(sc.queue, e)
}

// drop marks the queued evaluator with this serial as merged.
func (sc *refusalScan) drop(serial uint64) {
	q := sc.queue[sc.head:]
	i := sort.Search(len(q), func(i int) bool { return q[i].serial >= serial })
	if i < len(q) && q[i].serial == serial && q[i].state == evPending {
		q[i].state = evRejected
	}
}

// settle pops decided evaluators off the queue's head; it reports whether the head was accepted.
func (sc *refusalScan) settle() bool {
	for sc.head < len(sc.queue) {
		e := &sc.queue[sc.head]
		switch e.state {
		case evPending:
			return false
		case evAccepted:
			sc.answer = e.lit
			return true
		}
		sc.head++
	}
	sc.queue, sc.head = sc.queue[:0], 0
	sc.tok.active = false
	sc.gen++
	return false
}

// catchUp feeds the tokenizer the current piece's bytes up to position to (exclusive).
func (sc *refusalScan) catchUp(to int) {
	tk := &sc.tok
	if !tk.active {
		return
	}
	for ; tk.pos < to; tk.pos++ {
		c := sc.buf[tk.pos-sc.base]
		sc.work++
		if tk.dot {
			tk.dot = false
			if c == ' ' || c == '\n' {
				sc.sentenceEnd(tk.pos - 1)
			}
		}
		if isTokByte(c) {
			if !tk.inTok {
				tk.inTok, tk.ts, tk.tokGap, tk.lastEvent = true, tk.pos, tk.spaceGap, tk.pos
			}
			tk.tail[tk.pos&15] = c
			continue
		}
		if tk.inTok {
			tk.inTok = false
			sc.token(tk.pos)
			tk.spaceGap = true
		}
		if c != ' ' {
			tk.spaceGap = false
		}
		switch c {
		case '!', '?', '\n', ';':
			sc.sentenceEnd(tk.pos)
		case '.':
			tk.dot = true
		}
	}
}

// endOfText ends the token or the sentence in progress and rejects what is still pending.
func (sc *refusalScan) endOfText() {
	tk := &sc.tok
	if tk.dot {
		sc.sentenceEnd(tk.pos - 1)
	}
	if tk.inTok {
		tk.inTok = false
		sc.token(tk.pos)
	}
	for i := sc.head; i < len(sc.queue); i++ {
		if sc.queue[i].state == evPending {
			sc.queue[i].state = evRejected
		}
	}
}

func (sc *refusalScan) sentenceEnd(pos int) {
	sc.tok.lastEvent = pos
	for i := sc.head; i < len(sc.queue); i++ {
		if e := &sc.queue[i]; e.state == evPending && e.end <= pos {
			e.state = evRejected
		}
	}
}

// token feeds the token [ts, q) to the pending evaluators; one that started inside it sees its suffix.
func (sc *refusalScan) token(q int) {
	tk := &sc.tok
	full := int16(-1)
	for i := sc.head; i < len(sc.queue); i++ {
		e := &sc.queue[i]
		if e.state != evPending || q <= e.end {
			continue
		}
		sc.work++
		from := tk.ts
		if from < e.end {
			from = e.end
		}
		var cls uint8
		if from == tk.ts && full >= 0 {
			cls = uint8(full)
		} else {
			cls = clsOther
			if n := q - from; n <= maxClassWord {
				var w [16]byte
				for j := range n {
					w[j] = tk.tail[(from+j)&15]
				}
				cls = classify(w[:n])
			}
			if from == tk.ts {
				full = int16(cls)
			}
		}
		e.feed(cls, tk.tokGap)
		if e.state == evAccepted {
			sc.accepted = true
		}
	}
}

// facts computes, once, what the quote and dialogue exceptions need from the whole normal form.
func (sc *refusalScan) facts() {
	if sc.factsDone {
		return
	}
	sc.factsDone = true
	n := normalizer{s: sc.text}
	var scratch [1024 + 8]byte
	var line lineState
	sc.first, sc.last, sc.quotes, sc.speakerRows = 0, 0, 0, 0
	seen := false
	for !n.done() {
		out := n.next(scratch[:0], 1024)
		sc.work += len(out)
		if len(out) == 0 {
			continue
		}
		if !seen {
			sc.first, seen = out[0], true
		}
		sc.last = out[len(out)-1]
		for _, c := range out {
			if c == '"' {
				sc.quotes++
			}
			if c == '\n' && line.verdict == 1 {
				sc.speakerRows++
			}
			line.add(c)
		}
	}
	if line.verdict == 1 {
		sc.speakerRows++
	}
}
