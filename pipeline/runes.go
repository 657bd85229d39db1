package pipeline

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// runeCount is utf8.RuneCountInString for valid UTF-8, eight bytes at a time: a rune starts at every byte
// that is not a continuation byte (10xxxxxx). On invalid UTF-8 (rows about to be dropped as invalid_utf8) it
// may differ slightly, which only affects their length statistics. It runs on every question and
// response for the statistics, where the standard function was a visible share of a run.
func runeCount(s string) int {
	n := len(s)
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		if w&0x8080808080808080 == 0 {
			continue // all ASCII
		}
		// continuation bytes have bit 7 set and bit 6 clear
		cont := w & ^(w << 1) & 0x8080808080808080
		n -= bits.OnesCount64(cont)
	}
	for ; i < len(s); i++ {
		if s[i]&0xC0 == 0x80 {
			n--
		}
	}
	return n
}

// runeCountValid returns utf8.RuneCountInString(s) and utf8.ValidString(s) in one pass over s: eight ASCII
// bytes at a time, rune by rune elsewhere. The map stage needs both for every question and response (the
// length statistics and the invalid_utf8 check), and two passes over the text were ~7% of a text run's CPU.
func runeCountValid(s string) (n int, valid bool) {
	valid = true
	for i := 0; i < len(s); {
		if i+8 <= len(s) && binary.LittleEndian.Uint64([]byte(s[i:i+8]))&0x8080808080808080 == 0 {
			n, i = n+8, i+8
			continue
		}
		if s[i] < utf8.RuneSelf {
			n, i = n+1, i+1
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			valid = false // counted as one rune, as RuneCountInString does
		}
		n, i = n+1, i+size
	}
	return n, valid
}
