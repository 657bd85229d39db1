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

// text feeds the words of t: maximal runs of letters and digits, lower-cased.
func (s *shingler) text(t string) {
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
		}
	}
	if inWord {
		s.word(fmix64(h ^ s.seed))
	}
}

// Signature kinds, the first byte of a signature from Signer.Sign: which shingles the MinHash was taken over.
const (
	SigFull     = 1 // all shingles: the row has no template shingle (or template-awareness is off)
	SigDistinct = 2 // the distinguishing shingles: template words removed (see README.md, "Templates")
	SigPseudo   = 3 // one shingle made of the row's few non-template words (no n-gram of them is distinguishing)
	SigFallback = 4 // all shingles: every word is template (the whole row is repeated text)
)

// Signer computes the compact near-duplicate signature Index.Check takes: MinHash by one-permutation hashing
// (each shingle hashed once, its top bits pick one of NumPerm bins, the bin keeps its minimum) with optimal
// densification (Shrivastava 2017) for empty bins, over the row's distinguishing shingles when a TemplateSet
// is given. It holds scratch buffers: use one per goroutine. Output is a pure function of the row, the config
// and the template set.
type Signer struct {
	cfg   NearConfig
	tmpl  *TemplateSet
	shift uint
	sh    shingler
	vals  []uint64 // NumPerm fine bins (emptyBin where no shingle fell)
	lsh   []uint64 // lshBins coarse bins, densified: the band values
	high  []bool
	diff  []int32
	nt    []int32
	pick  []uint64
	b     int // packed signature bytes
}

// NewSigner returns a signer for cfg; tmpl may be nil (template-awareness off: every row is SigFull).
func NewSigner(cfg NearConfig, tmpl *TemplateSet) *Signer {
	k := cfg.NumPerm
	return &Signer{cfg: cfg, tmpl: tmpl, shift: uint(64 - bits.TrailingZeros(uint(k))),
		sh: newShingler(cfg.NGram, cfg.Seed), vals: make([]uint64, k), lsh: make([]uint64, lshBins(cfg)),
		b: packedBytes(cfg)}
}

// lshBins is the number of coarse bins the LSH bands are taken from: the fine bins folded by their top bits
// (256, or NumPerm if smaller), densified so that every band value is defined even for a short row.
func lshBins(c NearConfig) int { return min(256, c.NumPerm) }

// packedBytes is the size of the b-bit part of a signature, padded to 8 bytes.
func packedBytes(c NearConfig) int { return (c.NumPerm*c.SigBits + 63) / 64 * 8 }

// fpBytes is the size of the band fingerprints (one byte per band), padded to 8 bytes.
func fpBytes(c NearConfig) int { return (c.Bands + 7) / 8 * 8 }

// storedBytes is what the index keeps per kept row: band fingerprints and packed codes.
func storedBytes(c NearConfig) int { return fpBytes(c) + packedBytes(c) }

// SignatureBytes is the length of a non-empty signature: kind byte, Bands band hashes, then the stored part
// (band fingerprints, packed b-bit codes of the fine bins).
func SignatureBytes(c NearConfig) int { return 1 + 8*c.Bands + storedBytes(c) }

// Sign appends r's signature to dst[:0] (reusing its capacity) and returns it; empty when the near fields
// hold no word, which Index.Check never near-matches.
func (s *Signer) Sign(r *orca.Record, dst []byte) []byte {
	dst = dst[:0]
	sh := &s.sh
	sh.reset()
	for i, f := range s.cfg.Fields {
		if i > 0 && sh.count > 0 {
			sh.word(fieldSep)
		}
		sh.text(fieldValue(r, f))
	}
	sh.finish()
	if len(sh.hashes) == 0 {
		return dst
	}
	kind, set := s.choose()
	s.minhash(set)
	return s.encode(dst, kind)
}

// Values is the MinHash of the last Sign call (NumPerm values), for tests and tools.
func (s *Signer) Values() []uint64 { return s.vals }

// choose applies the template rule and returns the signature kind and the shingle hashes to MinHash.
//
// A word is template when some shingle covering it is in the template set (in more than max_shingle_df rows).
// A shingle is distinguishing when a strict majority of its words are not template: an edited word inside a
// template then adds no distinguishing shingle (its shingles have one non-template word), while a filled-in
// slot of two or more words does. The other shingles are dropped except a fixed one in TemplateSample of them
// (chosen by hash, so the same in every row): rows that share a template then still share a little, which
// keeps a copy whose small distinct part was edited close to its original, while siblings with different
// content stay far apart.
func (s *Signer) choose() (byte, []uint64) {
	sh := &s.sh
	if s.tmpl == nil {
		return SigFull, sh.hashes
	}
	nh := len(sh.hashes)
	s.high = growBools(s.high, nh)
	any := false
	for i, h := range sh.hashes {
		s.high[i] = s.tmpl.Has(h)
		any = any || s.high[i]
	}
	if !any {
		return SigFull, sh.hashes
	}
	nw := sh.count
	span := int32(sh.span())
	s.diff = growInt32(s.diff, nw+1)
	clear(s.diff)
	for i := 0; i < nh; i++ {
		if s.high[i] {
			s.diff[sh.starts[i]]++
			s.diff[sh.starts[i]+span]--
		}
	}
	// nt[w] = number of non-template words among the first w words.
	s.nt = growInt32(s.nt, nw+1)
	s.nt[0] = 0
	cover := int32(0)
	for w := 0; w < nw; w++ {
		cover += s.diff[w]
		s.nt[w+1] = s.nt[w]
		if cover == 0 && sh.words[w] != fieldSep { // the field separator is never counted, so never "distinct"
			s.nt[w+1]++
		}
	}
	if s.nt[nw] == 0 {
		return SigFallback, sh.hashes
	}
	s.pick = s.pick[:0]
	nd := 0
	for i, h := range sh.hashes {
		st := sh.starts[i]
		if 2*(s.nt[st+span]-s.nt[st]) > span {
			s.pick = append(s.pick, h)
			nd++
		} else if s.cfg.TemplateSample > 0 && (h>>16)%uint64(s.cfg.TemplateSample) == 0 {
			s.pick = append(s.pick, h) // a fixed 1-in-N sample of template shingles: the template weighs 1/N
		}
	}
	if nd > 0 {
		return SigDistinct, s.pick
	}
	s.pick = s.pick[:0]
	// A few scattered non-template words: one shingle made of them, in order.
	h := fmix64(s.sh.seed ^ 0x3c6ef372fe94f82b)
	cover = 0
	for w := 0; w < nw; w++ {
		cover += s.diff[w]
		if cover == 0 && sh.words[w] != fieldSep {
			h = fmix64(h*rollMul + sh.words[w])
		}
	}
	s.pick = append(s.pick, h)
	return SigPseudo, s.pick
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

// minhash fills s.vals by one-permutation hashing over hashes (empty bins stay emptyBin) and s.lsh with the
// coarse, densified bins the bands are taken from.
func (s *Signer) minhash(hashes []uint64) {
	sig := s.vals
	for i := range sig {
		sig[i] = emptyBin
	}
	lsh := s.lsh
	for i := range lsh {
		lsh[i] = emptyBin
	}
	lshShift := uint(64 - bits.TrailingZeros(uint(len(lsh))))
	nonEmpty := 0
	for _, h := range hashes {
		if b := h >> s.shift; h < sig[b] {
			sig[b] = h
		}
		if b := h >> lshShift; h < lsh[b] { // the top bits of the fine bin: the coarse bin is their minimum
			if lsh[b] == emptyBin {
				nonEmpty++
			}
			lsh[b] = h
		}
	}
	if nonEmpty < len(lsh) {
		densify(lsh, lshShift, s.cfg.Seed)
	}
}

// encode appends kind, the band hashes, one fingerprint byte per band and the packed codes of the fine bins:
// 0 for an empty bin, else 1 + (value mod 2^b−1), so that the estimator can tell "no shingle here" from a value.
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
	for i := 0; i < s.b; i++ {
		dst = append(dst, 0)
	}
	p := dst[off:]
	codes := uint64(1)<<c.SigBits - 1
	for i, v := range s.vals {
		if v == emptyBin {
			continue
		}
		code := 1 + (v>>8)%codes
		bit := i * c.SigBits
		p[bit>>3] |= byte(code << (bit & 7))
	}
	return dst
}

// densify fills each empty bin with the value of a non-empty bin chosen by a per-(bin, attempt) hash that
// every row shares, so two rows fill the same empty bin from the same source whenever they can.
func densify(sig []uint64, shift uint, seed uint64) {
	var filled [4096 / 64]uint64
	for i, v := range sig {
		if v != emptyBin {
			filled[i>>6] |= 1 << (i & 63)
		}
	}
	base := fmix64(seed ^ 0x6a09e667f3bcc909)
	for i := range sig {
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
