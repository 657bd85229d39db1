package orca

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy"
)

// streamDecode decodes block with snappyStream in pieces of piece bytes, as a streamed page does.
func streamDecode(block []byte, piece int) ([]byte, error) {
	size, err := snappy.DecodedLen(block)
	if err != nil {
		return nil, err
	}
	ss := &snappyStream{snappyInput: snappyInput{r: bytes.NewReader(block), end: int64(len(block))}, total: size}
	if err := ss.open(size); err != nil {
		return nil, err
	}
	out := make([]byte, 0, size)
	for ss.out < ss.total {
		b, err := ss.piece(min(piece, ss.total-ss.out))
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, ss.done()
}

// snappyCorpus is real text (the curation test sets: e-mails, refusals, instructions) and data
// that makes every kind of element: incompressible bytes (long literals), runs (copies that overlap
// themselves), short periods, and repeats from far back (copies with 2- and 4-byte offsets).
func snappyCorpus(t testing.TB) map[string][]byte {
	t.Helper()
	var text []byte
	filepath.WalkDir("../testdata/curation", func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			b, err := os.ReadFile(path)
			text = append(text, b...)
			return err
		}
		return err
	})
	if len(text) < 1<<20 {
		t.Fatalf("only %d bytes of real text under testdata/curation", len(text))
	}
	r := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 300<<10)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	var mixed []byte
	for len(mixed) < 2<<20 {
		switch r.IntN(5) {
		case 0:
			mixed = append(mixed, bytes.Repeat([]byte{byte(r.Uint32())}, 1+r.IntN(300))...)
		case 1:
			mixed = append(mixed, bytes.Repeat(random[:1+r.IntN(15)], 1+r.IntN(40))...)
		case 2:
			mixed = append(mixed, random[r.IntN(1000):][:1+r.IntN(5000)]...)
		case 3:
			if len(mixed) > 0 {
				from := r.IntN(len(mixed))
				mixed = append(mixed, mixed[from:min(len(mixed), from+4+r.IntN(200))]...)
			}
		case 4:
			from := r.IntN(len(text) - 3000)
			mixed = append(mixed, text[from:from+r.IntN(3000)]...)
		}
	}
	return map[string][]byte{"text": text, "random": random, "mixed": mixed, "empty": nil, "one": {'x'},
		"run": bytes.Repeat([]byte{'a'}, 200<<10)}
}

var snappyEncoders = map[string]func(dst, src []byte) []byte{
	"snappy": snappy.Encode, "s2-snappy-better": s2.EncodeSnappyBetter, "s2-snappy-best": s2.EncodeSnappyBest,
}

// TestSnappyStreamMatchesDecoder: the one-pass decoder gives klauspost/compress's output for blocks
// from three encoders, in pieces of every size from 1 byte, with the input window refilled as little
// as 64 bytes at a time. A back-reference further back than the previous piece is the one allowed
// failure (the page is then decoded whole): Go's encoders reach back up to 4 MiB, the C++ and Rust
// ones that DuckDB, pyarrow and arrow-rs use only 64 KiB (TestScanMatchesDuckDB checks that their
// pages never fall back). With the whole block in one piece it cannot happen.
func TestSnappyStreamMatchesDecoder(t *testing.T) {
	defer func(n int) { snappyInputBytes = n }(snappyInputBytes)
	for _, window := range []int{64, 256 << 10} {
		snappyInputBytes = window
		for name, data := range snappyCorpus(t) {
			for enc, encode := range snappyEncoders {
				block := encode(nil, data)
				for _, piece := range []int{1, 7, 100, 4096, 65536, 1 << 20, max(1, len(data))} {
					got, err := streamDecode(block, piece)
					if errors.Is(err, errSnappyFarCopy) && piece < len(data) {
						continue
					}
					if err != nil {
						t.Fatalf("%s/%s window %d piece %d: %v", name, enc, window, piece, err)
					}
					if !bytes.Equal(got, data) {
						t.Fatalf("%s/%s window %d piece %d: decoded bytes differ", name, enc, window, piece)
					}
				}
			}
		}
	}
}

// TestSnappyStreamRejectsDamage: damaged blocks fail with an error (never a panic or a wrong
// output that passes): truncated, cut short by a byte, with a byte flipped, with bytes appended.
func TestSnappyStreamRejectsDamage(t *testing.T) {
	data := snappyCorpus(t)["mixed"][:200<<10]
	block := snappy.Encode(nil, data)
	r := rand.New(rand.NewPCG(3, 4))
	check := func(what string, b []byte) {
		got, err := streamDecode(b, 4096)
		want, werr := snappy.Decode(nil, b)
		if err == nil && (werr != nil || !bytes.Equal(got, want)) {
			t.Fatalf("%s: accepted (reference decoder: %v)", what, werr)
		}
	}
	check("truncated", block[:len(block)/2])
	check("one byte short", block[:len(block)-1])
	check("trailing bytes", append(bytes.Clone(block), 0, 0, 0))
	for range 300 {
		b := bytes.Clone(block)
		b[r.IntN(len(b))] ^= byte(1 + r.IntN(255))
		check("flipped byte", b)
	}
}

// FuzzSnappyStream: on any input the one-pass decoder agrees with klauspost/compress's decoder
// (same bytes, or both fail), but for the far back-reference fallback.
func FuzzSnappyStream(f *testing.F) {
	for _, data := range []string{"", "a", "hello hello hello hello hello", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa xyz xyz xyz"} {
		f.Add(snappy.Encode(nil, []byte(data)), uint16(3))
	}
	f.Fuzz(func(t *testing.T, block []byte, piece uint16) {
		want, werr := snappy.Decode(nil, block)
		got, err := streamDecode(block, 1+int(piece))
		switch {
		case errors.Is(err, errSnappyFarCopy):
		case err == nil && werr != nil:
			t.Fatalf("accepted a block the reference decoder rejects (%v)", werr)
		case err != nil && werr == nil:
			t.Fatalf("rejected a block the reference decoder accepts: %v", err)
		case err == nil && !bytes.Equal(got, want):
			t.Fatal("decoded bytes differ")
		}
	})
}

// BenchmarkSnappy compares, on real text, the one-pass decode with the two passes of the parallel
// path: the cut's element walk, then klauspost/compress's decode (which the workers share).
func BenchmarkSnappy(b *testing.B) {
	data := snappyCorpus(b)["text"]
	block := snappy.Encode(nil, data)
	b.Run("stream", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := streamDecode(block, 1<<20); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cut", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			sp := &snappyPieces{snappyInput: snappyInput{r: bytes.NewReader(block), end: int64(len(block))}, total: len(data)}
			if err := sp.open(len(data)); err != nil {
				b.Fatal(err)
			}
			for sp.out < sp.total {
				if _, _, err := sp.cut(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("klauspost", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := snappy.Decode(make([]byte, len(data)), block); err != nil {
				b.Fatal(err)
			}
		}
	})
}
