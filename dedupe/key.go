package dedupe

import (
	"encoding/binary"
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
	bp := keyBufPool.Get().(*[]byte)
	buf := (*bp)[:0]
	for _, f := range cfg.Fields {
		// Reserve a 4-byte length prefix, fill it in after normalizing.
		at := len(buf)
		buf = append(buf, 0, 0, 0, 0)
		buf = appendNormalized(buf, fieldValue(r, f))
		binary.LittleEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
	}
	h := xxh3.Hash128(buf)
	*bp = buf
	keyBufPool.Put(bp)
	var k Key
	binary.BigEndian.PutUint64(k[:8], h.Hi)
	binary.BigEndian.PutUint64(k[8:], h.Lo)
	return k
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
	i := 0
	for i < len(s) {
		j := i
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
		dst = w.append(dst, normalizeUnicode(s[start:end]))
		i = end
	}
	return dst
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
		c := s[i]
		switch asciiClass[c] {
		case classWord:
			if w.space && w.started {
				dst = append(dst, ' ')
			}
			w.space, w.started = false, true
			// Copy the whole run of ASCII non-space bytes at once: this loop is the hot path of exact dedupe.
			j := i
			for j < len(s) && asciiClass[s[j]] == classWord {
				j++
			}
			n := len(dst)
			dst = append(dst, s[i:j]...)
			for k := n; k < len(dst); k++ {
				dst[k] = asciiLower[dst[k]]
			}
			i = j
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
