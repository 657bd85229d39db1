package pipeline

import (
	"encoding/binary"
	"math/bits"
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
