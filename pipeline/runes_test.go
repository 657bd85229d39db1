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
