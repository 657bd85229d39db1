package dedupe

import (
	"encoding/binary"
	"math/bits"
	"unicode"
	"unicode/utf8"

	"github.com/orcaprep/orcaprep/orca"
)

// emptyBin marks a one-permutation-hashing bin that no shingle fell into.
const emptyBin = ^uint64(0)

// fmix64 is MurmurHash3's 64-bit finalizer: a fast bijective mixer with full avalanche.
func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

const (
	fnvOffset = 0xcbf29ce484222325
	fnvPrime  = 0x100000001b3
	// rollMul is the odd multiplier of the rolling polynomial that combines n word hashes into a shingle hash.
	rollMul = 0x9e3779b97f4a7c15
	// fieldSep is the pseudo-word between fields, so the last words of the question and the first of the
	// response form shingles that no single-field text can produce.
	fieldSep = 0x5bd1e9955bd1e995
)

// shingler turns text into word n-gram hashes: each word is hashed once (lower-cased, letters and digits
// only) and the n-gram hash is a rolling polynomial over the last n word hashes, so no shingle string is built.
// It records the word hashes and, for every shingle, its hash and first word, for the template rule.
type shingler struct {
	n     int
	seed  uint64
	ring  [16]uint64
	count int    // words seen
	roll  uint64 // Σ w[i]·rollMul^(n-1-i) over the last n words
	topP  uint64 // rollMul^(n-1), to remove the oldest word
	// recorded for the current text(s) since reset
	words  []uint64 // word hashes, in order (fieldSep included)
	hashes []uint64 // shingle hashes, in order
	starts []int32  // index of each shingle's first word
}

func newShingler(n int, seed uint64) shingler {
	p := uint64(1)
	for i := 1; i < n; i++ {
		p *= rollMul
	}
	return shingler{n: n, seed: fmix64(seed ^ 0x2545f4914f6cdd1d), topP: p}
}

func (s *shingler) reset() {
	s.count, s.roll = 0, 0
	s.words, s.hashes, s.starts = s.words[:0], s.hashes[:0], s.starts[:0]
}

func (s *shingler) word(w uint64) {
	if s.count >= s.n {
		old := s.ring[s.count%s.n]
		s.roll -= old * s.topP
	}
	s.roll = s.roll*rollMul + w
	s.ring[s.count%s.n] = w
	s.count++
	s.words = append(s.words, w)
	if s.count >= s.n {
		s.hashes = append(s.hashes, fmix64(s.roll^s.seed))
		s.starts = append(s.starts, int32(s.count-s.n))
	}
}

// finish emits one shingle for texts shorter than n words, so short rows still get a signature.
func (s *shingler) finish() {
	if s.count > 0 && s.count < s.n {
		s.hashes = append(s.hashes, fmix64(s.roll^s.seed))
		s.starts = append(s.starts, 0)
	}
}

// span is the number of words shingle i covers: n, or all words of a text shorter than n.
func (s *shingler) span() int { return min(s.n, s.count) }

// MaxFieldWords is how many words of one field near-dedupe (and the DF pass) read: the first 200,000
// (about 1.2 MB of English). The signer keeps some 80 bytes of scratch per word, so without a bound one 100 MB
// value would cost 1.6 GB; two fields that agree on their first 200,000 words are near-duplicates under the
// rule anyway unless everything after differs, which no real instruction row does.
const MaxFieldWords = 200_000

// maxFieldWords is MaxFieldWords, lowered by tests.
var maxFieldWords = MaxFieldWords

// text feeds the words of t: maximal runs of letters and digits, lower-cased; at most maxFieldWords of them.
func (s *shingler) text(t string) {
	limit := s.count + maxFieldWords
	h := uint64(fnvOffset)
	inWord := false
	for i := 0; i < len(t); {
		c := t[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			default:
				if inWord {
					s.word(fmix64(h ^ s.seed))
					h, inWord = fnvOffset, false
					if s.count >= limit {
						return
					}
				}
				continue
			}
			h = (h ^ uint64(c)) * fnvPrime
			inWord = true
			continue
		}
		r, size := utf8.DecodeRuneInString(t[i:])
		i += size
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			r = unicode.ToLower(r)
			h = (h ^ uint64(r)) * fnvPrime
			h = (h ^ uint64(r>>8)) * fnvPrime
			inWord = true
			continue
		}
		if inWord {
			s.word(fmix64(h ^ s.seed))
			h, inWord = fnvOffset, false
			if s.count >= limit {
				return
			}
		}
	}
	if inWord {
		s.word(fmix64(h ^ s.seed))
	}
}

// retainWords is the most words' worth of scratch a signer or DF counter keeps between rows: a long row's
// buffers are dropped after it, so one huge value does not pin its scratch for the rest of the run.
const retainWords = 1 << 16

// release drops buffers grown past retainWords words.
func (s *shingler) release() {
	if cap(s.words) > retainWords {
		s.words, s.hashes, s.starts = nil, nil, nil
	}
}

// Signature kinds, the first byte of a signature from Signer.Sign: which words the element set was taken over.
const (
	SigFull     = 1 // all words: the row has no template shingle (or template-awareness is off)
	SigDistinct = 2 // the distinguishing words: template words and one-word edits inside a template removed
	SigPseudo   = 3 // only one-word islands inside template text remain: the set is taken over those words
	SigFallback = 4 // all words: every word is template (the whole row is repeated text)
)

// Signer computes the compact near-duplicate signature Index.Check takes. It finds the row's distinguishing
// words (template words removed when a TemplateSet is given), takes the word k-grams of them
// (MinNGram..NGram: words and word pairs by default) as the row's element set, and MinHashes that set by
// one-permutation hashing (each element hashed once, its top bits pick one of NumPerm bins, the bin keeps its
// minimum); coarse bins, densified (Shrivastava 2017), give the LSH bands. The elements that lie inside the
// response get a second, small MinHash for the response condition, the row's template shingles a third for
// the template condition, and the signature carries the exact counts of all three sets and the row's word
// count. It holds scratch buffers: use one per goroutine. Output is a pure
// function of the row, the config and the template set.
type Signer struct {
	cfg   NearConfig
	tmpl  *TemplateSet
	shift uint // fine bin = hash >> shift
	sh    shingler
	// coarse bin = hash >> lshShift
	lshShift uint
	vals     []uint64 // NumPerm fine bins (emptyBin where no element fell)
	filled   []int32  // the fine bins holding a value, in the order they were filled
	lsh      []uint64 // lshBins coarse bins, densified: the band values
	rvals    [respBins]uint64
	tvals    [respBins]uint64 // bins of the row's template shingles (same size as the response's)
	thash    []uint64         // the row's template shingle hashes (with repeats)
	ttab     []uint64         // open-addressing set of them
	diff     []int32
	mark     []bool   // per word: not covered by a template shingle (and not the field separator)
	seq      []uint64 // word hashes of the chosen words, in order (field separators kept)
	table    []uint64 // open-addressing set of the row's element hashes (0 = empty slot)
	inR      []bool   // per table slot: the element occurs inside the response
	kseed    [17]uint64
	pow      [17]uint64 // rollMul^k
	b        int        // packed signature bytes

	respField      int      // index of the response in cfg.Fields, or -1 (no response condition)
	dfField        [3]bool  // per field of cfg.Fields: counted by the DF pass
	fieldFrom      [3]int32 // per field: its words are sh.words[fieldFrom:fieldTo] (after prepare)
	fieldTo        [3]int32
	respFrom       int // the response's words are sh.words[respFrom:respTo] (after prepare; -1: none)
	respTo         int
	seqRespFrom    int // ... and s.seq[seqRespFrom:seqRespTo] after choose
	seqRespTo      int
	nElems, nWords int // distinct elements and words (separators excluded) of the last row
	nResp          int // distinct elements inside the response
	nTmpl          int // distinct template shingles
}

// NewSigner returns a signer for cfg; tmpl may be nil (template-awareness off: every row is SigFull).
func NewSigner(cfg NearConfig, tmpl *TemplateSet) *Signer {
	k := cfg.NumPerm
	s := &Signer{cfg: cfg, tmpl: tmpl, shift: uint(64 - bits.TrailingZeros(uint(k))),
		sh: newShingler(dfNGram(cfg), cfg.Seed), vals: make([]uint64, k), lsh: make([]uint64, lshBins(cfg)),
		b: packedBytes(cfg), respField: -1}
	s.lshShift = uint(64 - bits.TrailingZeros(uint(len(s.lsh))))
	for i := range s.vals {
		s.vals[i] = emptyBin
	}
	for i, f := range cfg.Fields {
		if f == FieldResponse {
			s.respField = i
		}
		for _, d := range cfg.DFFields {
			s.dfField[i] = s.dfField[i] || d == f
		}
	}
	p := uint64(1)
	for i := range s.kseed {
		s.kseed[i] = fmix64(uint64(i)*0xd6e8feb86659fd93) ^ s.sh.seed // k-grams of different lengths differ
		s.pow[i] = p
		p *= rollMul
	}
	return s
}

// dfNGram is the template shingle length (df_ngram; 5 when unset and templates are off).
func dfNGram(c NearConfig) int {
	if c.DFNGram < 1 {
		return 5
	}
	return c.DFNGram
}

// lshBins is the number of coarse bins the LSH bands are taken from: the fine bins folded by their top bits
// (256, or NumPerm if smaller), densified so that every band value is defined even for a short row.
func lshBins(c NearConfig) int { return min(256, c.NumPerm) }

// packedBytes is the size of the b-bit part of a signature, padded to 8 bytes.
func packedBytes(c NearConfig) int { return (c.NumPerm*c.SigBits + 63) / 64 * 8 }

// fpBytes is the size of the band fingerprints (one byte per band), padded to 8 bytes.
func fpBytes(c NearConfig) int { return (c.Bands + 7) / 8 * 8 }

// The response condition uses a small second MinHash: respBins one-permutation bins over the response's
// elements, kept as 4-bit codes (respBytes).
const (
	respBins  = 64
	respShift = 64 - 6 // top 6 bits pick one of 64 bins
	respBits  = 4
	respBytes = respBins * respBits / 8
)

// countBytes holds the element count, the word count, the response element count and the template shingle
// count (little-endian uint32s) after the codes.
const countBytes = 16

// storedBytes is what the index keeps per kept row: band fingerprints, packed codes, the response and
// template codes and the counts.
func storedBytes(c NearConfig) int { return fpBytes(c) + packedBytes(c) + 2*respBytes + countBytes }

// SignatureBytes is the length of a non-empty signature: kind byte, Bands band hashes, then the stored part
// (band fingerprints, packed b-bit codes of the fine bins, response codes, template codes, counts).
func SignatureBytes(c NearConfig) int { return 1 + 8*c.Bands + storedBytes(c) }

// Sign appends r's signature to dst[:0] (reusing its capacity) and returns it; empty when the near fields
// hold no word, which Index.Check never near-matches.
func (s *Signer) Sign(r *orca.Record, dst []byte) []byte {
	dst = dst[:0]
	if !s.prepare(r) {
		return dst
	}
	kind := s.choose()
	s.minhash()
	dst = s.encode(dst, kind)
	s.release()
	return dst
}

// release drops scratch buffers a long row grew (see retainWords).
func (s *Signer) release() {
	if cap(s.sh.words) <= retainWords {
		return
	}
	s.sh.release()
	s.diff, s.mark, s.seq, s.table, s.inR, s.thash, s.ttab = nil, nil, nil, nil, nil, nil, nil
}

// prepare shingles r's near fields (words and template-length shingles); false when they hold no word.
func (s *Signer) prepare(r *orca.Record) bool {
	sh := &s.sh
	sh.reset()
	seps := 0
	s.respFrom, s.respTo = -1, -1
	for i, f := range s.cfg.Fields {
		if i > 0 && sh.count > 0 {
			sh.word(fieldSep)
			seps++
		}
		if i == s.respField {
			s.respFrom = sh.count
		}
		s.fieldFrom[i] = int32(sh.count)
		sh.text(fieldValue(r, f))
		s.fieldTo[i] = int32(sh.count)
		if i == s.respField {
			s.respTo = sh.count
		}
	}
	sh.finish()
	s.nWords = sh.count - seps
	return s.nWords > 0
}

// Values is the MinHash of the last Sign call (NumPerm values), for tests and tools.
func (s *Signer) Values() []uint64 { return s.vals }

// ElementSets is what a row's signature summarizes, exactly: the sets the rule compares (README.md, "The
// rule").
type ElementSets struct {
	Kind     byte     // SigFull, SigDistinct, SigPseudo or SigFallback
	Elems    []uint64 // distinct element hashes of the chosen words
	Words    int      // words of the near fields (template included)
	Response []uint64 // the distinct elements that lie inside the response
	Template []uint64 // the distinct template shingles (DFNGram-word shingles in the template set)
}

// Elements returns r's element sets as Sign sees them (Kind 0 when r has no word): what the brute-force
// reference in the tests computes exact similarities over.
func (s *Signer) Elements(r *orca.Record) ElementSets {
	if !s.prepare(r) {
		return ElementSets{}
	}
	e := ElementSets{Kind: s.choose(), Words: s.nWords}
	s.minhash()
	for _, h := range s.ttab {
		if h != 0 {
			e.Template = append(e.Template, h)
		}
	}
	for i, h := range s.table {
		if h != 0 {
			e.Elems = append(e.Elems, h)
			if s.inR[i] {
				e.Response = append(e.Response, h)
			}
		}
	}
	return e
}

// choose applies the template rule, fills s.seq with the chosen words (and the response's range in it) and
// returns the signature kind.
//
// A word is template when a DFNGram-word shingle covering it is in the template set (in more than
// max_shingle_df rows). The distinguishing words are the other words, except islands: a single non-template
// word with template words on both sides, which is what one edited word inside a template looks like (its
// neighbours stay covered by other template shingles). Field separators stay in the sequence, so word pairs
// across fields are elements.
func (s *Signer) choose() byte {
	sh := &s.sh
	words := sh.words
	nw := len(words)
	s.seq = s.seq[:0]
	s.thash = s.thash[:0]
	s.seqRespFrom, s.seqRespTo = 0, 0
	all := func(kind byte) byte {
		s.seq = append(s.seq, words...)
		if s.respFrom >= 0 {
			s.seqRespFrom, s.seqRespTo = s.respFrom, s.respTo
		}
		return kind
	}
	if s.tmpl == nil {
		return all(SigFull)
	}
	nh := len(sh.hashes)
	span := int32(sh.span())
	s.diff = growInt32(s.diff, nw+1)
	clear(s.diff)
	// Only a shingle inside one field can be template (the DF pass counts each field apart). The df_fields'
	// shingles are looked up first; the other fields' only when one of those is template (a response that
	// restates the instruction), so a row without template text costs one lookup per question shingle.
	any, deferred := false, false
	for pass := 0; pass < 2; pass++ {
		for i := 0; i < nh; i++ {
			st := sh.starts[i]
			k := s.fieldAt(st)
			if k < 0 || st+span > s.fieldTo[k] || s.dfField[k] != (pass == 0) {
				deferred = deferred || k >= 0 && st+span <= s.fieldTo[k] && !s.dfField[k]
				continue
			}
			if h := sh.hashes[i]; s.tmpl.Has(h) {
				any = true
				s.thash = append(s.thash, h)
				s.diff[st]++
				s.diff[st+span]--
			}
		}
		if !any || !deferred {
			break
		}
	}
	if !any {
		return all(SigFull)
	}
	s.mark = growBools(s.mark, nw)
	cover := int32(0)
	for w := 0; w < nw; w++ {
		cover += s.diff[w]
		s.mark[w] = cover == 0 && words[w] != fieldSep
	}
	isTemplate := func(w int) bool { return !s.mark[w] && words[w] != fieldSep }
	distinct, islands := 0, 0
	for w := 0; w < nw; {
		s.noteResp(w)
		if !s.mark[w] {
			if words[w] == fieldSep {
				s.seq = append(s.seq, fieldSep)
			}
			w++
			continue
		}
		e := w + 1
		for e < nw && s.mark[e] {
			e++
		}
		if e-w == 1 && w > 0 && e < nw && isTemplate(w-1) && isTemplate(e) {
			islands++
		} else {
			s.seq = append(s.seq, words[w:e]...)
			distinct += e - w
		}
		w = e
	}
	s.noteResp(nw)
	if distinct > 0 {
		return SigDistinct
	}
	s.seq = s.seq[:0]
	if islands == 0 {
		return all(SigFallback)
	}
	for w := 0; w < nw; w++ {
		s.noteResp(w)
		if s.mark[w] || words[w] == fieldSep {
			s.seq = append(s.seq, words[w])
		}
	}
	s.noteResp(nw)
	return SigPseudo
}

// fieldAt is the index in cfg.Fields of the field holding word w, or -1 (a field separator).
func (s *Signer) fieldAt(w int32) int {
	for k := range s.cfg.Fields {
		if w >= s.fieldFrom[k] && w < s.fieldTo[k] {
			return k
		}
	}
	return -1
}

// noteResp records where the response begins and ends in s.seq while choose walks the words in order (runs
// of non-template words never cross a field boundary, which is a separator).
func (s *Signer) noteResp(w int) {
	if s.respFrom < 0 {
		return
	}
	if w <= s.respFrom {
		s.seqRespFrom = len(s.seq)
	}
	if w <= s.respTo {
		s.seqRespTo = len(s.seq)
	}
}

func growBools(b []bool, n int) []bool {
	if cap(b) < n {
		return make([]bool, n)
	}
	return b[:n]
}

func growInt32(b []int32, n int) []int32 {
	if cap(b) < n {
		return make([]int32, n)
	}
	return b[:n]
}

// minhash takes the element set of s.seq — its word k-grams, MinNGram <= k <= NGram, a field separator alone
// not being one; a non-empty sequence shorter than MinNGram words is one element — in one pass: each element
// goes into an open-addressing set (for the exact counts), the fine bins (s.vals, empty bins stay emptyBin)
// and the coarse bins (s.lsh, densified afterwards), and an element that lies inside the response also into
// the response bins.
func (s *Signer) minhash() {
	seq := s.seq
	lo, hi := s.cfg.MinNGram, s.cfg.NGram
	for _, b := range s.filled { // only the bins the previous row filled (all start empty)
		s.vals[b] = emptyBin
	}
	s.filled = s.filled[:0]
	for i := range s.lsh {
		s.lsh[i] = emptyBin
	}
	for i := range s.rvals {
		s.rvals[i] = emptyBin
		s.tvals[i] = emptyBin
	}
	s.templateSet()
	size := 64
	for size < 2*len(seq)*(hi-lo+1) {
		size <<= 1
	}
	if cap(s.table) < size {
		s.table, s.inR = make([]uint64, size), make([]bool, size)
	}
	s.table, s.inR = s.table[:size], s.inR[:size]
	clear(s.table)
	clear(s.inR)
	s.nElems, s.nResp = 0, 0
	if len(seq) > 0 && len(seq) < lo {
		h := s.kseed[0]
		for _, w := range seq {
			h = h*rollMul + w
		}
		s.add(fmix64(h), s.seqRespFrom == 0 && s.seqRespTo == len(seq))
	} else {
		for i, w := range seq {
			var h uint64
			for k := 1; k <= hi && k <= i+1; k++ {
				h += seq[i-k+1] * s.pow[k-1] // the rolling polynomial of seq[i-k+1 .. i]
				if k < lo || k == 1 && w == fieldSep {
					continue
				}
				e := h ^ s.kseed[k]
				if k > 1 {
					e = fmix64(e)
				} // a single word's hash is already mixed
				s.add(e, i-k+1 >= s.seqRespFrom && i < s.seqRespTo)
			}
		}
	}
	if nonEmpty := s.lshFilled(); nonEmpty < len(s.lsh) {
		densify(s.lsh, s.cfg.Bands*s.cfg.Rows, s.lshShift, s.cfg.Seed)
	}
}

// templateSet counts the row's distinct template shingles and MinHashes them into s.tvals.
func (s *Signer) templateSet() {
	size := 64
	for size < 2*len(s.thash) {
		size <<= 1
	}
	if cap(s.ttab) < size {
		s.ttab = make([]uint64, size)
	}
	t := s.ttab[:size]
	clear(t)
	s.ttab = t
	s.nTmpl = 0
	m := size - 1
	for _, h := range s.thash {
		if h == 0 {
			h = 1
		}
		i := int(h>>32) & m
		for t[i] != 0 && t[i] != h {
			i = (i + 1) & m
		}
		if t[i] == 0 {
			t[i] = h
			s.nTmpl++
			if b := h >> respShift; h < s.tvals[b] {
				s.tvals[b] = h
			}
		}
	}
}

// add records element h (inResp: it lies inside the response).
func (s *Signer) add(h uint64, inResp bool) {
	if h == 0 {
		h = 1 // 0 marks an empty slot
	}
	t := s.table
	m := len(t) - 1
	i := int(h>>32) & m
	for t[i] != 0 && t[i] != h {
		i = (i + 1) & m
	}
	if t[i] == 0 {
		t[i] = h
		s.nElems++
		if b := h >> s.shift; h < s.vals[b] {
			if s.vals[b] == emptyBin {
				s.filled = append(s.filled, int32(b))
			}
			s.vals[b] = h
		}
		if b := h >> s.lshShift; h < s.lsh[b] { // the top bits of the fine bin: the coarse bin is their minimum
			s.lsh[b] = h
		}
	}
	if inResp && !s.inR[i] {
		s.inR[i] = true
		s.nResp++
		if b := h >> respShift; h < s.rvals[b] {
			s.rvals[b] = h
		}
	}
}

// lshFilled counts the non-empty coarse bins.
func (s *Signer) lshFilled() int {
	n := 0
	for _, v := range s.lsh {
		if v != emptyBin {
			n++
		}
	}
	return n
}

// encode appends kind, the band hashes, one fingerprint byte per band, the packed codes of the fine bins and
// of the response bins, and the counts.
func (s *Signer) encode(dst []byte, kind byte) []byte {
	c := &s.cfg
	dst = append(dst, kind)
	var fp [64]byte
	for t := 0; t < c.Bands; t++ {
		h := fmix64(c.Seed ^ uint64(t+1)*0x9e3779b97f4a7c15)
		for _, v := range s.lsh[t*c.Rows : (t+1)*c.Rows] {
			h = fmix64(h ^ v)
		}
		dst = binary.LittleEndian.AppendUint64(dst, h)
		fp[t] = byte(h) // low bits: the table slot comes from the high bits (fastrange), so those agree along a probe chain
	}
	dst = append(dst, fp[:fpBytes(*c)]...)
	off := len(dst)
	for i := 0; i < s.b+2*respBytes; i++ {
		dst = append(dst, 0)
	}
	packFilled(dst[off:off+s.b], s.vals, s.filled, c.SigBits)
	packCodes(dst[off+s.b:], s.rvals[:], respBits)
	packCodes(dst[off+s.b+respBytes:], s.tvals[:], respBits)
	for _, n := range [4]int{s.nElems, s.nWords, s.nResp, s.nTmpl} {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(min(n, 1<<32-1)))
	}
	return dst
}

// packFilled is packCodes over the listed non-empty bins only.
func packFilled(p []byte, vals []uint64, filled []int32, b int) {
	for _, i := range filled {
		var code uint64
		switch v := vals[i] >> 8; b { // constant divisors compile to multiplications
		case 2:
			code = 1 + v%3
		case 4:
			code = 1 + v%15
		default:
			code = 1 + v%255
		}
		bit := int(i) * b
		p[bit>>3] |= byte(code << (bit & 7))
	}
}

// packCodes writes the b-bit code of each bin into p: 0 for an empty bin, else 1 + (value mod 2^b−1), so that
// the estimator can tell "no element here" from a value.
func packCodes(p []byte, vals []uint64, b int) {
	mod := func(v uint64) uint64 { // constant divisors compile to multiplications
		switch b {
		case 2:
			return v % 3
		case 4:
			return v % 15
		default:
			return v % 255
		}
	}
	for i, v := range vals {
		if v == emptyBin {
			continue
		}
		code := 1 + mod(v>>8)
		bit := i * b
		p[bit>>3] |= byte(code << (bit & 7))
	}
}

// densify fills each empty bin with the value of a non-empty bin chosen by a per-(bin, attempt) hash that
// every row shares, so two rows fill the same empty bin from the same source whenever they can.
// Only bins [0, upto) are filled in: the bands use no others (the values are the same as a full pass would give).
func densify(sig []uint64, upto int, shift uint, seed uint64) {
	var filled [4096 / 64]uint64
	for i, v := range sig {
		if v != emptyBin {
			filled[i>>6] |= 1 << (i & 63)
		}
	}
	base := fmix64(seed ^ 0x6a09e667f3bcc909)
	for i := range sig[:upto] {
		if filled[i>>6]&(1<<(i&63)) != 0 {
			continue
		}
		limit := uint64(64 * len(sig))
		a := uint64(1)
		for ; a <= limit; a++ {
			j := fmix64(base^uint64(i)<<20^a) >> shift
			if filled[j>>6]&(1<<(j&63)) != 0 {
				sig[i] = sig[j]
				break
			}
		}
		if a > limit { // practically unreachable; keep the result defined: take the next non-empty bin
			for d := 1; d < len(sig); d++ {
				j := (i + d) % len(sig)
				if filled[j>>6]&(1<<(j&63)) != 0 {
					sig[i] = sig[j]
					break
				}
			}
		}
	}
}
