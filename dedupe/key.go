package dedupe

import (
	"encoding/binary"
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/orcaprep/orcaprep/orca"
	"github.com/zeebo/xxh3"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Key is the 128-bit exact-duplicate key of a row.
type Key [16]byte

func fieldValue(r *orca.Record, name string) string {
	switch name {
	case FieldSystemPrompt:
		return r.SystemPrompt
	case FieldQuestion:
		return r.Question
	default:
		return r.Response
	}
}

var keyBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 8192); return &b }}

// casers pools case folders: a cases.Caser keeps state and must not be shared between goroutines.
var casers = sync.Pool{New: func() any { c := cases.Fold(); return &c }}

// ExactKey is the exact-duplicate key of r over cfg.Fields: each field is normalized (Unicode NFKC, case
// folded, whitespace runs collapsed to one space, trimmed), length-prefixed so field boundaries cannot shift,
// and the whole hashed with XXH3-128. Pure and safe for concurrent use; ASCII rows do not allocate.
func ExactKey(cfg ExactConfig, r *orca.Record) Key {
	n := 0
	for _, f := range cfg.Fields {
		n += 4 + len(fieldValue(r, f))
	}
	if n > streamKeyAbove {
		return exactKeyStreamed(cfg, r)
	}
	bp := keyBufPool.Get().(*[]byte)
	// Normalizing rarely lengthens text: one allocation instead of doubling for a huge value.
	buf := slices.Grow((*bp)[:0], n)
	for _, f := range cfg.Fields {
		// Reserve a 4-byte length prefix, fill it in after normalizing.
		at := len(buf)
		buf = append(buf, 0, 0, 0, 0)
		buf = appendNormalized(buf, fieldValue(r, f))
		binary.LittleEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
	}
	h := xxh3.Hash128(buf)
	if cap(buf) <= 4<<20 { // normalization can lengthen text (NFKC expansions): never pin a huge buffer
		*bp = buf
		keyBufPool.Put(bp)
	}
	return keyOf(h)
}

func keyOf(h xxh3.Uint128) Key {
	var k Key
	binary.BigEndian.PutUint64(k[:8], h.Hi)
	binary.BigEndian.PutUint64(k[8:], h.Lo)
	return k
}

// streamKeyAbove is the row size (bytes of the key's fields) above which the key is hashed piece by piece.
var streamKeyAbove = 1 << 20

// keyPiece is how much text exactKeyStreamed normalizes at a time.
var keyPiece = 64 << 10

// exactKeyStreamed is ExactKey for huge values (a 100 MB response) without a normalized copy of the whole
// text, which would cost as much memory as the value again: each field is normalized twice in pieces of about
// keyPiece bytes, once to learn its normalized length (the prefix comes first), then into a streaming XXH3-128
// hasher. The bytes hashed, and so the key, are exactly ExactKey's (TestExactKeyStreamedEqualsWhole).
func exactKeyStreamed(cfg ExactConfig, r *orca.Record) Key {
	h := xxh3.New()
	buf := make([]byte, 0, 2*keyPiece)
	var prefix [4]byte
	for _, f := range cfg.Fields {
		s := fieldValue(r, f)
		n := 0
		buf = normalizePieces(s, buf, func(b []byte) { n += len(b) })
		binary.LittleEndian.PutUint32(prefix[:], uint32(n))
		h.Write(prefix[:])
		buf = normalizePieces(s, buf, func(b []byte) { h.Write(b) })
	}
	return keyOf(h.Sum128())
}

// normalizePieces hands emit the key normal form of s (appendNormalized's) in pieces. s is cut only just
// before an ASCII byte followed by another ASCII byte (or the end): appendNormalized's own island boundaries,
// so each piece normalizes as it would inside the whole text; one wsWriter spans the pieces, so whitespace
// runs and trimming carry over. Text without such a place is one piece.
func normalizePieces(s string, buf []byte, emit func([]byte)) []byte {
	var w wsWriter
	for len(s) > 0 {
		end := min(len(s), keyPiece)
		for end < len(s) && !(s[end] < utf8.RuneSelf && (end+1 == len(s) || s[end+1] < utf8.RuneSelf)) {
			end++
		}
		buf = appendNormalizedWS(buf[:0], s[:end], &w)
		emit(buf)
		s = s[end:]
	}
	return buf
}

// appendNormalized appends the key normal form of s to dst: NFKC, full case folding, NFKC again (folding can
// denormalize), whitespace runs collapsed to one space, trimmed.
//
// Only the non-ASCII islands go through Unicode normalization: the text is cut just before an ASCII character
// that is followed by another ASCII character (or ends the text). Such a cut is a normalization boundary — an
// ASCII character is a starter that never composes with what precedes it, and one followed by ASCII takes no
// combining mark — and case folding is context-free, so normalizing island by island equals normalizing the
// whole text (FuzzNormalizeIslands checks this against the whole-text form). The ASCII character just before
// an island goes with it, since the island may start with a combining mark for it. Text with an occasional
// curly quote thus costs about what pure ASCII does.
func appendNormalized(dst []byte, s string) []byte {
	var w wsWriter
	return appendNormalizedWS(dst, s, &w)
}

// appendNormalizedWS is appendNormalized continuing the whitespace state w of earlier text.
func appendNormalizedWS(dst []byte, s string, w *wsWriter) []byte {
	i := 0
	for i < len(s) {
		j := i
		for j+8 <= len(s) && binary.LittleEndian.Uint64([]byte(s[j:j+8]))&hi1 == 0 { // eight ASCII bytes at a time
			j += 8
		}
		for j < len(s) && s[j] < utf8.RuneSelf {
			j++
		}
		if j == len(s) {
			return w.append(dst, s[i:])
		}
		start := j
		if start > i {
			start-- // the ASCII character before the island may combine with it
		}
		dst = w.append(dst, s[i:start])
		end := len(s)
		for k := j; k < len(s); k++ {
			if s[k] < utf8.RuneSelf && (k+1 == len(s) || s[k+1] < utf8.RuneSelf) {
				end = k
				break
			}
		}
		if island := s[start:end]; inert(island) {
			dst = w.append(dst, island)
		} else {
			dst = w.append(dst, normalizeUnicode(island))
		}
		i = end
	}
	return dst
}

// inert reports whether every non-ASCII rune of s is typographic punctuation that NFKC and case folding leave
// alone and that combines with nothing (curly quotes, en and em dashes), so s needs no Unicode normalization.
// OpenOrca's English answers are full of them; everything else takes the general path.
func inert(s string) bool {
	for _, r := range s {
		if r < utf8.RuneSelf {
			continue
		}
		switch r {
		case '\u2013', '\u2014', '\u2018', '\u2019', '\u201c', '\u201d':
		default:
			return false
		}
	}
	return true
}

// normalizeUnicode is the Unicode part of the key normal form: NFKC (ﬁ→fi, full-width→ASCII), full case
// folding (ß→ss), NFKC again.
func normalizeUnicode(s string) string {
	s = norm.NFKC.String(s)
	cp := casers.Get().(*cases.Caser)
	s = cp.String(s)
	casers.Put(cp)
	return norm.NFKC.String(s)
}

// wsWriter lower-cases ASCII letters, collapses whitespace runs to one space and trims, across calls.
type wsWriter struct {
	space, started bool
}

func (w *wsWriter) append(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		// Eight bytes at a time while they need only lower-casing: plain text is mostly ASCII words and single
		// spaces. A space ending a block becomes pending, as it might start a run that continues in the next
		// block: it is written before the next block unless that block starts with a space too (then the byte
		// loop below collapses the run). Staying in blocks across a pending space matters: about every sixth
		// block of English ends in one, and leaving the block loop there sent the next word through the byte
		// loop (ExactKey on 1 KB of prose: 2.1 µs before).
		if w.started {
			for i+8 <= len(s) {
				out, trailing, ok := lowerBlock(binary.LittleEndian.Uint64([]byte(s[i : i+8])))
				if !ok {
					break
				}
				if w.space {
					if asciiClass[s[i]] == classSpace {
						break
					}
					dst = append(dst, ' ')
					w.space = false
				}
				dst = binary.LittleEndian.AppendUint64(dst, out)
				i += 8
				if trailing {
					dst = dst[:len(dst)-1]
					w.space = true
				}
			}
			if i == len(s) {
				break
			}
		}
		c := s[i]
		switch asciiClass[c] {
		case classWord:
			if w.space && w.started {
				dst = append(dst, ' ')
			}
			w.space, w.started = false, true
			// Copy and lower-case the run of ASCII non-space bytes in one pass: this loop is the hot path of
			// exact dedupe.
			for i < len(s) {
				c = s[i]
				if asciiClass[c] != classWord {
					break
				}
				dst = append(dst, asciiLower[c])
				i++
			}
		case classSpace:
			w.space = true
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if unicode.IsSpace(r) {
				w.space = true
				i += size
				continue
			}
			if w.space && w.started {
				dst = append(dst, ' ')
			}
			w.space, w.started = false, true
			dst = append(dst, s[i:i+size]...)
			i += size
		}
	}
	return dst
}

const (
	classWord = iota
	classSpace
	classOther // non-ASCII lead or continuation byte
)

var asciiClass, asciiLower = func() (cls, low [256]byte) {
	for c := 0; c < 256; c++ {
		low[c] = byte(c)
		switch {
		case c >= utf8.RuneSelf:
			cls[c] = classOther
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			cls[c] = classSpace
		default:
			cls[c] = classWord
			if c >= 'A' && c <= 'Z' {
				low[c] = byte(c + 'a' - 'A')
			}
		}
	}
	return
}()

const (
	lo7 = 0x7f7f7f7f7f7f7f7f
	hi1 = 0x8080808080808080
)

// lowerBlock normalizes eight bytes of text when that needs no state: all ASCII, no control byte but the
// whitespace ones (\t \n \v \f \r, which become spaces), no two adjacent whitespace bytes. It returns them
// lower-cased, and whether the last byte is whitespace. Each test is exact per byte (no carry between bytes);
// TestLowerBlockExhaustive and the fuzz test against the rune-by-rune definition check it.
func lowerBlock(x uint64) (out uint64, trailingSpace, ok bool) {
	if x&hi1 != 0 {
		return 0, false, false
	}
	// bytes < 0x20: adding 0x60 to a 7-bit byte sets its high bit unless it was below 0x20
	if ctl := ^(x + 0x6060606060606060) & hi1; ctl != 0 {
		// whitespace controls 0x09..0x0d: high bit of (b+0x77) is set from 0x09 on, of (b+0x72) from 0x0e on
		wsc := (x + 0x7777777777777777) &^ (x + 0x7272727272727272) & hi1
		if ctl&^wsc != 0 {
			return 0, false, false
		}
		m := (wsc >> 7) * 0xff // whole bytes of the whitespace controls
		x = x&^m | 0x2020202020202020&m
	}
	// spaces: a byte equals 0x20 iff x^0x20 is zero there
	t := x ^ 0x2020202020202020
	sp := ^(((t & lo7) + lo7) | t | lo7) // high bit set exactly on space bytes
	if sp&(sp<<8) != 0 {
		return 0, false, false
	}
	// bytes in 'A'..'Z' (0x41..0x5a): high bit of (b+0x3f) is set from 0x41 on, of (b+0x25) from 0x5b on
	upper := (x + 0x3f3f3f3f3f3f3f3f) &^ (x + 0x2525252525252525) & hi1
	return x | upper>>2, sp&(0x80<<56) != 0, true
}
