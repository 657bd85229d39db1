package shard

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func stdEncode(s string) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(s); err != nil {
		panic(err)
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "<|im_start|>user\nhi<|im_end|>\n", "q\"uo\\te", "\x00\x01\x1f\x7f", "tab\tcr\rff\fbs\b",
		"日本語 🙂", "\u2028\u2029", "bad\xffutf8\xc3", "&amp; <b>"} {
		if got, want := string(AppendString(nil, s)), stdEncode(s); got != want {
			t.Errorf("%q: got %s want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("<|im_end|>\n")
	f.Add("\xe2\x80\xa8x\xff")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(AppendString(nil, s)), stdEncode(s); got != want {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
	})
}

func TestAppendInt32s(t *testing.T) {
	if got := string(AppendInt32s(nil, []int32{1, -100, 32001})); got != "[1,-100,32001]" {
		t.Fatal(got)
	}
	if got := string(AppendInt32s(nil, nil)); got != "[]" {
		t.Fatal(got)
	}
}

func TestAppendInt32MatchesStrconv(t *testing.T) {
	for _, x := range []int32{0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 29871, 32001, 32002, 65535, 99999, 100000, 1234567,
		2147483647, -1, -100, -101, -2147483648} {
		if got, want := string(AppendInt32(nil, x)), strconv.Itoa(int(x)); got != want {
			t.Fatalf("%d: %s", x, got)
		}
	}
	for x := int32(0); x < 200000; x += 7 {
		if got, want := string(AppendInt32(nil, x)), strconv.Itoa(int(x)); got != want {
			t.Fatalf("%d: %s", x, got)
		}
	}
}

func TestPlain8Exhaustive(t *testing.T) {
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			blk := []byte("abcdefgh")
			blk[pos] = byte(c)
			want := c >= 0x20 && c < 0x80 && c != '"' && c != '\\'
			x := uint64(0)
			for k := 7; k >= 0; k-- {
				x = x<<8 | uint64(blk[k])
			}
			if got := plain8(x); got != want {
				t.Fatalf("byte %#x at %d: %v", c, pos, got)
			}
		}
	}
}

func TestAppendStringRandomLong(t *testing.T) {
	alphabet := []string{"a", "b", "c", " ", "<|im_end|>", "\"", "\\", "\n", "\t", "\x01", "\x7f", "é", "\u2028", "🙂", "\xff", "&"}
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 5000; n++ {
		var b strings.Builder
		for k := r.IntN(80); k > 0; k-- {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s := b.String()
		if got, want := string(AppendString(nil, s)), stdEncode(s); got != want {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
	}
}

// escapedLen is the exact size AppendEscaped grows to for long values: checked against the bytes it writes,
// on short strings of every kind of byte and on long ones that take the pre-sized path.
func TestEscapedLenIsExact(t *testing.T) {
	alphabet := []string{"a", " ", "<|im_end|>", "\"", "\\", "\n", "\t", "\x01", "\x7f", "é", "\u2028", "\u2029", "🙂", "\xff", "\xc3", "&", "\b", "\f", "\r"}
	r := rand.New(rand.NewPCG(7, 8))
	for n := 0; n < 3000; n++ {
		var b strings.Builder
		size := r.IntN(80)
		if n%500 == 0 {
			size = 40000 // > 64 KiB once built: the pre-sized path
		}
		for k := size; k > 0; k-- {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s := b.String()
		got := AppendEscaped(nil, s)
		if escapedLen(s) != len(got) {
			t.Fatalf("%q: escapedLen %d, wrote %d", s[:min(len(s), 60)], escapedLen(s), len(got))
		}
		if want := stdEncode(s); `"`+string(got)+`"` != want {
			t.Fatalf("%q: AppendEscaped differs from encoding/json", s[:min(len(s), 60)])
		}
	}
}
