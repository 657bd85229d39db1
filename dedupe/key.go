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

// appendNormalized appends the key normal form of s to dst.
func appendNormalized(dst []byte, s string) []byte {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		// NFKC first (ﬁ→fi, full-width→ASCII), then full case folding (ß→ss), then NFKC again because
		// folding can denormalize. Only rows with non-ASCII text pay for this.
		s = norm.NFKC.String(s)
		cp := casers.Get().(*cases.Caser)
		s = cp.String(s)
		casers.Put(cp)
		s = norm.NFKC.String(s)
	}
	space := false
	started := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' {
				space = true
				continue
			}
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if space && started {
				dst = append(dst, ' ')
			}
			space, started = false, true
			dst = append(dst, c)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			space = true
			i += size
			continue
		}
		if space && started {
			dst = append(dst, ' ')
		}
		space, started = false, true
		dst = append(dst, s[i:i+size]...)
		i += size
	}
	return dst
}
