package dedupe

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/orcaprep/orcaprep/orca"
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

// TestInertRunesAreInert checks the inert list against the Unicode tables: each rune is NFKC-normal, folds to
// itself, is a starter, and neither composes with a preceding letter nor takes a following mark.
func TestInertRunesAreInert(t *testing.T) {
	for _, r := range []rune{'\u2013', '\u2014', '\u2018', '\u2019', '\u201c', '\u201d'} {
		for _, s := range []string{string(r), "a" + string(r), string(r) + "\u0301", "e" + string(r) + "e"} {
			if normalizeUnicode(s) != s {
				t.Fatalf("%U is not inert in %q: %q", r, s, normalizeUnicode(s))
			}
		}
		if !inert("x" + string(r)) {
			t.Fatalf("%U not in the inert list", r)
		}
	}
	if inert("e\u0301") || inert("ß") {
		t.Fatal("inert accepts runes that normalize")
	}
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

// TestLowerBlockExhaustive checks the eight-byte path byte by byte against the plain definition.
func TestLowerBlockExhaustive(t *testing.T) {
	pack := func(b []byte) uint64 {
		x := uint64(0)
		for k := 7; k >= 0; k-- {
			x = x<<8 | uint64(b[k])
		}
		return x
	}
	base := []byte("abcdefgh")
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			blk := append([]byte(nil), base...)
			blk[pos] = byte(c)
			ws := c >= '\t' && c <= '\r' // whitespace controls become spaces
			wantOK := c >= 0x20 && c < 0x80 || ws
			out, trailing, ok := lowerBlock(pack(blk))
			if ok != wantOK {
				t.Fatalf("byte %#x at %d: ok %v", c, pos, ok)
			}
			if !ok {
				continue
			}
			if ws {
				blk[pos] = ' '
			}
			want := []byte(strings.ToLower(string(blk)))
			if out != pack(want) || trailing != (pos == 7 && (c == ' ' || ws)) {
				t.Fatalf("byte %#x at %d: out %x want %x trailing %v", c, pos, out, pack(want), trailing)
			}
		}
	}
	for _, s := range []string{"ab  cdef", "A B C D ", " ABCDEFG", "Zz@[`{~ ", "a\tbcdefg", "a\t bcdef", "ab\n\ncdef", "ab\r\ncdef", "a\vb\fc\rde", "abc\x00defg", "abc\x1fdefg", "abc\x0edefg"} {
		_, _, ok := lowerBlock(pack([]byte(s)))
		ws := strings.NewReplacer("\t", " ", "\n", " ", "\v", " ", "\f", " ", "\r", " ").Replace(s)
		if want := !strings.Contains(ws, "  ") && !strings.ContainsAny(ws, "\x00\x0e\x1f"); ok != want {
			t.Fatalf("%q: ok %v want %v", s, ok, want)
		}
	}
}

// TestNormalizeRandomText compares with the definition on many random strings from an alphabet that hits every
// path: block boundaries, uppercase, single and double spaces, other whitespace, combining and non-ASCII runes.
func TestNormalizeRandomText(t *testing.T) {
	alphabet := []string{"a", "b", "Z", "Q", " ", " ", "  ", "\t", "\n", ".", "é", "e\u0301", "\u0301", "ß", "ﬁ", "“", "”", "’", "–", "—", "İ", "\u00a0", "x"}
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 20000; n++ {
		var b strings.Builder
		for k := r.IntN(60); k > 0; k-- {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s := b.String()
		if got, want := string(appendNormalized(nil, s)), wholeNormalized(s); got != want {
			t.Fatalf("%q: got %q want %q", s, got, want)
		}
	}
}

// TestExactKeyStreamedEqualsWhole: the piecewise key of huge rows equals the one-buffer key, with pieces small
// enough that every kind of text (islands, whitespace runs, marks, leading/trailing space) crosses a cut.
func TestExactKeyStreamedEqualsWhole(t *testing.T) {
	defer func(p int) { keyPiece = p }(keyPiece)
	alphabet := []string{"a", "B", " ", "  ", "\t", "\n", ".", "é", "e\u0301", "\u0301", "ß", "ﬁ", "“", "—", "İ", "\u00a0", "한", "Ｆ"}
	r := rand.New(rand.NewPCG(5, 6))
	cfg := ExactConfig{Fields: []string{FieldSystemPrompt, FieldQuestion, FieldResponse}}
	field := func() string {
		var b strings.Builder
		for k := r.IntN(200); k > 0; k-- {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for n := 0; n < 3000; n++ {
		keyPiece = 1 + r.IntN(16)
		rec := orca.Record{SystemPrompt: field(), Question: field(), Response: field()}
		if n%7 == 0 {
			rec.Response = "  " + normalizeSeeds[n%len(normalizeSeeds)] + "  "
		}
		if got, want := exactKeyStreamed(cfg, &rec), ExactKey(cfg, &rec); got != want {
			t.Fatalf("piece %d: streamed key differs for %+v", keyPiece, rec)
		}
	}
	// And through ExactKey itself on a row over the threshold, against a lowered threshold's other path.
	big := orca.Record{Question: "Write it.", Response: strings.Repeat("Ünïcode  text ﬁne\n", 80000)}
	whole := func() Key {
		defer func(v int) { streamKeyAbove = v }(streamKeyAbove)
		streamKeyAbove = 1 << 40
		return ExactKey(cfg, &big)
	}()
	keyPiece = 64 << 10
	if ExactKey(cfg, &big) != whole {
		t.Fatal("a 1.5 MB row's streamed key differs from its one-buffer key")
	}
}
