package shard

import (
	"encoding/binary"
	"slices"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// plain8 reports whether none of eight bytes needs escaping or UTF-8 decoding: all ASCII, none below 0x20,
// no '"' and no '\\'. Each test is exact per byte (no carry crosses a byte).
func plain8(x uint64) bool {
	const lo7, hi1 = 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	if x&hi1 != 0 {
		return false
	}
	if ^((x&lo7)+0x6060606060606060)&hi1 != 0 { // a byte below 0x20
		return false
	}
	zero := func(t uint64) uint64 { return ^(((t & lo7) + lo7) | t | lo7) } // high bit where a byte of t is 0
	return zero(x^0x2222222222222222)|zero(x^0x5c5c5c5c5c5c5c5c) == 0
}

// AppendString appends s as a JSON string, escaped exactly as encoding/json does with SetEscapeHTML(false):
// '<', '>' and '&' stay as they are (so "<|im_start|>" stays readable), control characters, '"', '\\',
// U+2028 and U+2029 are escaped, invalid UTF-8 becomes U+FFFD. It exists because it is several times
// faster than an Encoder and allocates nothing, and JSON encoding runs for every output row.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = AppendEscaped(dst, s)
	return append(dst, '"')
}

// AppendEscaped appends s escaped as inside a JSON string, without the quotes (AppendString is '"' +
// AppendEscaped + '"'). Escaping a text piece by piece gives the same bytes as escaping it whole, provided no
// piece ends inside a UTF-8 sequence the next one completes (ChatML markup between pieces is ASCII).
func AppendEscaped(dst []byte, s string) []byte {
	if len(s) > 1<<16 {
		// A long value: grow once to the exact size instead of doubling (a 100 MB response would otherwise
		// cost its size again in abandoned buffers).
		dst = slices.Grow(dst, escapedLen(s))
	}
	start := 0
	for i := 0; i < len(s); {
		// Skip eight plain bytes at a time: most of a shard is text that needs no escaping.
		for i+8 <= len(s) && plain8(binary.LittleEndian.Uint64([]byte(s[i:i+8]))) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// escapedLen is len(AppendEscaped(nil, s)).
func escapedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); {
		for i+8 <= len(s) && plain8(binary.LittleEndian.Uint64([]byte(s[i:i+8]))) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case b == '"' || b == '\\' || b == '\n' || b == '\r' || b == '\t' || b == '\b' || b == '\f':
				n++
			case b < 0x20:
				n += 5
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += 5 // one byte becomes \ufffd
		case r == '\u2028' || r == '\u2029':
			n += 3
		}
		i += size
	}
	return n
}

// AppendInt32s appends a JSON array of integers. Token arrays are most of a tokenized shard's bytes, so
// small values (token ids, -100 labels) take a fast path that writes digits straight from a table.
func AppendInt32s(dst []byte, v []int32) []byte {
	dst = append(dst, '[')
	for i, x := range v {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendInt32(dst, x)
	}
	return append(dst, ']')
}

// digits2 holds "00".."99".
const digits2 = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// AppendInt32 appends x in decimal, as strconv.AppendInt does.
func AppendInt32(dst []byte, x int32) []byte {
	if x < 0 {
		if x == -100 {
			return append(dst, "-100"...)
		}
		return strconv.AppendInt(dst, int64(x), 10)
	}
	u := uint32(x)
	if u < 10 {
		return append(dst, byte('0'+u))
	}
	var buf [10]byte
	i := len(buf)
	for u >= 100 {
		q := u / 100
		r := (u - q*100) * 2
		i -= 2
		buf[i], buf[i+1] = digits2[r], digits2[r+1]
		u = q
	}
	if u >= 10 {
		r := u * 2
		i -= 2
		buf[i], buf[i+1] = digits2[r], digits2[r+1]
	} else {
		i--
		buf[i] = byte('0' + u)
	}
	return append(dst, buf[i:]...)
}
