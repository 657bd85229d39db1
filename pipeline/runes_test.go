package pipeline

import (
	"testing"
	"unicode/utf8"
)

func FuzzRuneCount(f *testing.F) {
	for _, s := range []string{"", "ascii only text here", "日本語テキスト", "mixed “quotes” — and 🙂 emoji", "é", "abcdefgé"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		if got, want := runeCount(s), utf8.RuneCountInString(s); got != want {
			t.Fatalf("%q: %d, want %d", s, got, want)
		}
	})
}

// FuzzRuneCountValid: runeCountValid is RuneCountInString and ValidString, on any bytes.
func FuzzRuneCountValid(f *testing.F) {
	for _, s := range []string{"", "ascii only text here", "日本語テキスト", "mixed “quotes” — and 🙂 emoji", "abcdefgh\xff", "\xed\xa0\x80 surrogate", "\xf4\x90\x80\x80", "abcdefg\xe2\x80", "\uFFFD literal"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := runeCountValid(s)
		if n != utf8.RuneCountInString(s) || ok != utf8.ValidString(s) {
			t.Fatalf("%q: (%d, %v), want (%d, %v)", s, n, ok, utf8.RuneCountInString(s), utf8.ValidString(s))
		}
	})
}
