package pipeline

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// codecFields are the item fields the record codec carries, as values (compared after a round trip) or as
// positions (start/end…: their payload or signature bytes are compared instead). A field added to item that is
// not listed here fails TestRecordCarriesEveryItemField: add it to recordWriter.batch and recordReader.next,
// then here — or the staged run silently differs from run.
var codecFields = map[string]bool{
	"id": true, "system": true, "nulls": true, "file": true, "row": true, "stage": true, "reason": true, "detail": true,
	"ntok": true, "trainStart": true, "trainEnd": true, "tooLong": true, "idDigits": true, "labelDigits": true,
	"qChars": true, "rChars": true, "sChars": true, "key": true,
	// positions
	"start": true, "end": true, "tokStart": true, "tokEnd": true, "sigStart": true, "sigEnd": true,
}

func TestRecordCarriesEveryItemField(t *testing.T) {
	var missing []string
	rt := reflect.TypeOf(item{})
	for i := 0; i < rt.NumField(); i++ {
		if !codecFields[rt.Field(i).Name] {
			missing = append(missing, rt.Field(i).Name)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("item fields the record codec does not carry: %s", strings.Join(missing, ", "))
	}
	for _, packed := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(5, 6))
		var recs, pay bytes.Buffer
		w := newRecordWriter(&recs, &pay, packed)
		var want []*batch
		row := int64(0)
		for bi := 0; bi < 5; bi++ {
			b := randomBatch(rng, 1+rng.IntN(40), bi%3, &row, packed)
			if err := w.batch(b); err != nil {
				t.Fatal(err)
			}
			want = append(want, b)
		}
		if err := w.end(); err != nil {
			t.Fatal(err)
		}
		rr, err := newRecordReader(bytes.NewReader(recs.Bytes()), packed)
		if err != nil {
			t.Fatal(err)
		}
		payload := pay.Bytes()
		got := &batch{}
		for bi := 0; ; bi++ {
			err := rr.next(got)
			if err == io.EOF {
				if bi != len(want) {
					t.Fatalf("%d batches back, %d written", bi, len(want))
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			wb := want[bi]
			if got.selected != wb.selected || len(got.items) != len(wb.items) {
				t.Fatalf("batch %d: selected %v rows %d, want %v %d", bi, got.selected, len(got.items), wb.selected, len(wb.items))
			}
			for i := range wb.items {
				a, g := wb.items[i], got.items[i]
				if !bytes.Equal(wb.sigs[a.sigStart:a.sigEnd], got.sigs[g.sigStart:g.sigEnd]) {
					t.Fatalf("batch %d row %d: signature differs", bi, i)
				}
				var wp, gp []byte
				if packed {
					wp = tokBytes(wb.toks[a.tokStart:a.tokEnd])
					gp = payload[4*g.tokStart : 4*g.tokEnd]
				} else {
					wp, gp = wb.arena[a.start:a.end], payload[g.start:g.end]
				}
				if !bytes.Equal(wp, gp) {
					t.Fatalf("batch %d row %d: payload differs", bi, i)
				}
				if len(wp) > 0 && rr.sums[i] != payloadSum(wp) {
					t.Fatalf("batch %d row %d: payload checksum differs", bi, i)
				}
				a.start, a.end, a.tokStart, a.tokEnd, a.sigStart, a.sigEnd = 0, 0, 0, 0, 0, 0
				g.start, g.end, g.tokStart, g.tokEnd, g.sigStart, g.sigEnd = 0, 0, 0, 0, 0, 0
				if a != g {
					t.Fatalf("batch %d row %d:\n got %+v\nwant %+v", bi, i, g, a)
				}
			}
		}
		// A truncated or damaged file is an error, never a silent short read.
		for _, cut := range []int{len(recs.Bytes()) - 1, len(recs.Bytes()) / 2} {
			rr, _ := newRecordReader(bytes.NewReader(recs.Bytes()[:cut]), packed)
			var err error
			for err == nil {
				err = rr.next(got)
			}
			if err == io.EOF {
				t.Fatalf("records cut at %d of %d bytes read as complete", cut, len(recs.Bytes()))
			}
		}
	}
}

func tokBytes(toks []int32) []byte {
	var b []byte
	for _, v := range toks {
		b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	}
	return b
}

// randomBatch makes a batch of n items with every field set (strings that repeat, as prompts and reasons do).
func randomBatch(rng *rand.Rand, n, file int, row *int64, packed bool) *batch {
	b := &batch{selected: rng.IntN(4) > 0}
	word := func(k int) string { return fmt.Sprintf("w%d", rng.IntN(k)) }
	for i := 0; i < n; i++ {
		*row += int64(1 + rng.IntN(3))
		it := item{id: "niv." + word(1000000), system: word(3), nulls: uint8(rng.IntN(16)), file: file, row: *row,
			stage: rng.IntN(6), reason: []string{"", "refusal", "not_selected"}[rng.IntN(3)], detail: strings.Repeat(word(50), rng.IntN(3)),
			ntok: rng.IntN(5000) - 1, trainStart: rng.IntN(100), trainEnd: rng.IntN(1000), tooLong: rng.IntN(2) == 1,
			idDigits: rng.IntN(9999), labelDigits: rng.IntN(9999), qChars: rng.IntN(1 << 20), rChars: rng.IntN(1 << 20), sChars: rng.IntN(1 << 20)}
		if rng.IntN(2) == 0 {
			for k := range it.key {
				it.key[k] = byte(rng.Uint32())
			}
		}
		it.sigStart = len(b.sigs)
		for k := rng.IntN(2) * 521; k > 0; k-- {
			b.sigs = append(b.sigs, byte(rng.Uint32()))
		}
		it.sigEnd = len(b.sigs)
		if packed {
			it.tokStart = len(b.toks)
			for k := rng.IntN(30); k > 0; k-- {
				b.toks = append(b.toks, int32(rng.Uint32()))
			}
			it.tokEnd = len(b.toks)
		} else {
			it.start = len(b.arena)
			b.arena = append(b.arena, strings.Repeat(word(100), rng.IntN(40))...)
			it.end = len(b.arena)
		}
		b.items = append(b.items, it)
	}
	return b
}

// TestPackedLineLenIsTheRenderedLength: the length reduce plans for a packed row (from digit counts) is the
// length of the line the write task renders, whatever the ids, trained spans and sample counts.
func TestPackedLineLenIsTheRenderedLength(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := 0; trial < 300; trial++ {
		var row packedRow
		n, d := 0, 0
		for s := rng.IntN(5); s > 0; s-- {
			ids := make([]int32, rng.IntN(1200))
			for k := range ids {
				ids[k] = int32(rng.IntN([]int{10, 1000, 32003, 1 << 31}[rng.IntN(4)]))
			}
			ts := rng.IntN(len(ids) + 1)
			te := ts + rng.IntN(len(ids)-ts+1)
			idD, labD := sampleDigits(ids, ts, te)
			n += len(ids)
			d += idD + labD + positionDigits(len(ids))
			row.add(tokBytes(ids), ts, te)
		}
		if got, want := packedLineLen(n, d), len(row.render()); got != want {
			t.Fatalf("trial %d: planned %d bytes, rendered %d", trial, got, want)
		}
	}
	if !slices.Equal([]int{positionDigits(0), positionDigits(10), positionDigits(11), positionDigits(101)}, []int{0, 10, 12, 193}) {
		t.Fatal("positionDigits")
	}
}

func TestDigits(t *testing.T) {
	for _, v := range []int32{0, 9, 10, 99, 100, 32002, 99999, 100000, 123456789, 2147483647, -1, -100, -2147483648} {
		if got, want := digits(v), len(strconv.Itoa(int(v))); got != want {
			t.Fatalf("digits(%d) = %d, want %d", v, got, want)
		}
	}
}
