package dedupe

import (
	"testing"
	"unicode"
	"unicode/utf8"
)

// wholeNormalized is the definition, written plainly: Unicode normalization of the whole text, then one rune
// at a time, ASCII letters lower-cased and whitespace runs collapsed to one space, trimmed.
func wholeNormalized(s string) string {
	var out []rune
	space := false
	for _, r := range normalizeUnicode(s) {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		if space && len(out) > 0 {
			out = append(out, ' ')
		}
		space = false
		out = append(out, r)
	}
	return string(out)
}

var normalizeSeeds = []string{
	"", "plain ascii  text\n", "Caf\u0065\u0301 au lait", "e\u0301", "\u0301lead", "x\u0301\u0327y", "ﬁne ﬂour",
	"ＦＵＬＬ　ｗｉｄｔｈ", "Straße STRASSE", "“quoted” — dash – ’tis", "a\u0308b\u0308", "A\u030a\u0301", "İstanbul",
	"ΣΊΣΥΦΟΣ σίσυφος", "한국어 텍스트", "\u1100\u1161\u11a8", "ab\u00a0cd\u2003ef", "x\u0345y", "\u0344", "end\u0301",
	"a\u0301b", "a\u0301bc", "ab\u0301c\u0327d", "Ⅻ ½ ㎞", "\ufb01\u0301",
}

func TestNormalizeIslandsEqualsWhole(t *testing.T) {
	for _, s := range normalizeSeeds {
		if got, want := string(appendNormalized(nil, s)), wholeNormalized(s); got != want {
			t.Errorf("%q: islands %q, whole %q", s, got, want)
		}
	}
}

func FuzzNormalizeIslands(f *testing.F) {
	for _, s := range normalizeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // rows with invalid UTF-8 are dropped before dedupe
		}
		if got, want := string(appendNormalized(nil, s)), wholeNormalized(s); got != want {
			t.Fatalf("%q: islands %q, whole %q", s, got, want)
		}
	})
}
