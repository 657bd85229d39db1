package dedupe

import (
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
type shingler struct {
	n     int
	seed  uint64
	ring  [16]uint64
	count int    // words seen
	roll  uint64 // Σ w[i]·rollMul^(n-1-i) over the last n words
	topP  uint64 // rollMul^(n-1), to remove the oldest word
	emit  func(uint64)
}

func newShingler(n int, seed uint64, emit func(uint64)) shingler {
	p := uint64(1)
	for i := 1; i < n; i++ {
		p *= rollMul
	}
	return shingler{n: n, seed: fmix64(seed ^ 0x2545f4914f6cdd1d), topP: p, emit: emit}
}

func (s *shingler) word(w uint64) {
	if s.count >= s.n {
		old := s.ring[s.count%s.n]
		s.roll -= old * s.topP
	}
	s.roll = s.roll*rollMul + w
	s.ring[s.count%s.n] = w
	s.count++
	if s.count >= s.n {
		s.emit(fmix64(s.roll ^ s.seed))
	}
}

// finish emits one shingle for texts shorter than n words, so short rows still get a signature.
func (s *shingler) finish() {
	if s.count > 0 && s.count < s.n {
		s.emit(fmix64(s.roll ^ s.seed))
	}
}

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

// NearSignature computes r's MinHash signature over word cfg.NGram-shingles of cfg.Fields into dst (reused
// when it has capacity) and returns it: cfg.NumPerm values by one-permutation hashing (each shingle hashed
// once, its top bits pick a bin, the bin keeps its minimum) with optimal densification (Shrivastava 2017) for
// empty bins. A row without any word gets an empty signature, which Index.Check never near-matches.
// Pure, deterministic and safe for concurrent use.
func NearSignature(cfg NearConfig, r *orca.Record, dst []uint64) []uint64 {
	k := cfg.NumPerm
	if cap(dst) < k {
		dst = make([]uint64, k)
	}
	sig := dst[:k]
	for i := range sig {
		sig[i] = emptyBin
	}
	shift := uint(64 - bits.TrailingZeros(uint(k)))
	nonEmpty := 0
	sh := newShingler(cfg.NGram, cfg.Seed, func(h uint64) {
		b := h >> shift
		if sig[b] == emptyBin {
			nonEmpty++
		}
		if h < sig[b] {
			sig[b] = h
		}
	})
	for i, f := range cfg.Fields {
		if i > 0 && sh.count > 0 {
			sh.word(fieldSep)
		}
		sh.text(fieldValue(r, f))
	}
	sh.finish()
	if nonEmpty == 0 {
		return sig[:0]
	}
	if nonEmpty < k {
		densify(sig, shift, cfg.Seed)
	}
	return sig
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
