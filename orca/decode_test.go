package orca

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/plain"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// The hand-written decoders are checked against parquet-go's encoders, an implementation written
// independently of this package.

func TestPageHeaderMatchesParquetGo(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	stats := format.Statistics{Max: bytes.Repeat([]byte("z"), 300), Min: []byte("a"), NullCount: 3, MaxValue: []byte("zz"), MinValue: []byte("aa")}
	for i := range 300 {
		h := format.PageHeader{UncompressedPageSize: r.Int32N(1 << 30), CompressedPageSize: r.Int32N(1 << 30), CRC: r.Int32()}
		var want pageHeader
		switch i % 3 {
		case 0:
			h.Type = format.DataPage
			h.DataPageHeader = thrift.New(format.DataPageHeader{NumValues: r.Int32N(1 << 20), Encoding: format.Encoding(r.IntN(10)),
				DefinitionLevelEncoding: format.RLE, RepetitionLevelEncoding: format.BitPacked, Statistics: stats})
			d, _ := h.DataPageHeader.Get()
			want = pageHeader{numValues: d.NumValues, encoding: int32(d.Encoding), defEncoding: int32(d.DefinitionLevelEncoding), hasData: true}
		case 1:
			h.Type = format.DictionaryPage
			h.DictionaryPageHeader = thrift.New(format.DictionaryPageHeader{NumValues: r.Int32N(1 << 20), Encoding: format.PlainDictionary, IsSorted: i%2 == 0})
			d, _ := h.DictionaryPageHeader.Get()
			want = pageHeader{numValues: d.NumValues, encoding: int32(d.Encoding), hasDict: true}
		case 2:
			h.Type = format.DataPageV2
			v2 := format.DataPageHeaderV2{NumValues: r.Int32N(1 << 20), NumNulls: r.Int32N(100), NumRows: r.Int32N(1 << 20),
				Encoding: format.DeltaByteArray, DefinitionLevelsByteLength: r.Int32N(1000), RepetitionLevelsByteLength: r.Int32N(10), Statistics: stats}
			if i%2 == 0 {
				v2.IsCompressed = thrift.New(false)
			}
			h.DataPageHeaderV2 = thrift.New(v2)
			want = pageHeader{numValues: v2.NumValues, numNulls: v2.NumNulls, numRows: v2.NumRows, encoding: int32(v2.Encoding),
				defLevelsLen: v2.DefinitionLevelsByteLength, repLevelsLen: v2.RepetitionLevelsByteLength, hasDataV2: true}
		}
		want.typ, want.uncompressedSize, want.compressedSize = int32(h.Type), h.UncompressedPageSize, h.CompressedPageSize
		want.v2Compressed = !(i%3 == 2 && i%2 == 0)
		b, err := thrift.Marshal(new(thrift.CompactProtocol), &h)
		if err != nil {
			t.Fatal(err)
		}
		body := append(bytes.Clone(b), "page bytes"...)
		got, n, err := parsePageHeader(body)
		if err != nil {
			t.Fatalf("header %d: %v", i, err)
		}
		if n != len(b) {
			t.Fatalf("header %d: read %d bytes, header is %d", i, n, len(b))
		}
		if got != want {
			t.Fatalf("header %d:\n got %+v\nwant %+v", i, got, want)
		}
		for cut := 0; cut < len(b); cut++ { // every truncation is reported, never misread
			if _, _, err := parsePageHeader(b[:cut]); err == nil {
				t.Fatalf("header %d cut at %d of %d bytes parsed", i, cut, len(b))
			}
		}
	}
}

func randomStrings(r *rand.Rand, n int) ([]string, []byte, []uint32) {
	vals := make([]string, n)
	var data []byte
	offsets := []uint32{0}
	prefix := "shared prefix "
	for i := range vals {
		l := r.IntN(40)
		if r.IntN(50) == 0 {
			l = r.IntN(70000)
		}
		b := make([]byte, l)
		for j := range b {
			b[j] = byte('a' + r.IntN(26))
		}
		if i%3 == 0 {
			b = append([]byte(prefix[:r.IntN(len(prefix))]), b...)
		}
		vals[i] = string(b)
		data = append(data, b...)
		offsets = append(offsets, uint32(len(data)))
	}
	return vals, data, offsets
}

func TestStringEncodingsMatchParquetGo(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 31, 32, 33, 127, 128, 129, 1000, 5000} {
		vals, data, offsets := randomStrings(r, n)
		var s decodeScratch
		t.Run(fmt.Sprint("plain/", n), func(t *testing.T) {
			enc, err := new(plain.Encoding).EncodeByteArray(nil, data, offsets)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodePlain(enc, n, nil)
			check(t, got, vals, err)
			if _, err := decodePlain(enc[:len(enc)/2], n, nil); n > 1 && err == nil {
				t.Fatal("truncated PLAIN data decoded")
			}
		})
		t.Run(fmt.Sprint("delta-length/", n), func(t *testing.T) {
			enc, err := new(delta.LengthByteArrayEncoding).EncodeByteArray(nil, data, offsets)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := decodeDeltaLength(enc, n, nil, s.lens)
			check(t, got, vals, err)
		})
		t.Run(fmt.Sprint("delta-byte-array/", n), func(t *testing.T) {
			enc, err := new(delta.ByteArrayEncoding).EncodeByteArray(nil, data, offsets)
			if err != nil {
				t.Fatal(err)
			}
			got, _, _, err := decodeDeltaByteArray(enc, n, nil, nil, nil)
			check(t, got, vals, err)
		})
	}
}

func check(t *testing.T, got, want []string, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d values, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("value %d: %q, want %q", i, trunc(got[i]), trunc(want[i]))
		}
	}
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func TestDeltaBinaryPackedMatchesParquetGo(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 2, 7, 128, 129, 1000, 4097} {
		for _, spread := range []int64{0, 1, 1000, 1 << 40} {
			src := make([]int64, n)
			for i := range src {
				src[i] = r.Int64N(spread+1) - spread/2
			}
			enc, err := new(delta.BinaryPackedEncoding).EncodeInt64(nil, src)
			if err != nil {
				t.Fatal(err)
			}
			got, used, err := deltaBinaryPacked(append(enc, 0xAB, 0xCD), n, nil)
			if err != nil {
				t.Fatalf("n=%d spread=%d: %v", n, spread, err)
			}
			if used != len(enc) {
				t.Fatalf("n=%d: used %d bytes of %d", n, used, len(enc))
			}
			for i := range src {
				if got[i] != src[i] {
					t.Fatalf("n=%d spread=%d value %d: %d, want %d", n, spread, i, got[i], src[i])
				}
			}
		}
	}
}

func TestLevelsAndIndexesMatchParquetGo(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 8, 9, 100, 1000, 10000} {
		for _, nullPct := range []int{0, 1, 50, 99, 100} {
			levels := make([]uint8, n)
			want := 0
			for i := range levels {
				if r.IntN(100) >= nullPct {
					levels[i] = 1
					want++
				}
			}
			enc, err := (&rle.Encoding{BitWidth: 1}).EncodeLevels(nil, levels)
			if err != nil {
				t.Fatal(err)
			}
			var null []bool
			got, err := decodeLevels(enc, 1, n, &null)
			if err != nil || got != want {
				t.Fatalf("n=%d nulls=%d%%: %d non-null (%v), want %d", n, nullPct, got, err, want)
			}
			for i := range levels {
				if (null != nil && null[i]) != (levels[i] == 0) {
					t.Fatalf("n=%d: level %d misread", n, i)
				}
			}
		}
		for _, width := range []int{1, 3, 8, 13, 20, 32} {
			idx := make([]int32, n)
			for i := range idx {
				if r.IntN(4) == 0 && i > 0 {
					idx[i] = idx[i-1] // runs, for RLE
				} else {
					idx[i] = int32(r.Uint32() & (1<<width - 1))
				}
			}
			enc, err := (&rle.Encoding{BitWidth: width}).EncodeInt32(nil, idx)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]uint32, n)
			if err := decodeIndexes(enc, width, got); err != nil {
				t.Fatal(err)
			}
			for i := range idx {
				if got[i] != uint32(idx[i]) {
					t.Fatalf("n=%d width=%d index %d: %d, want %d", n, width, i, got[i], idx[i])
				}
			}
		}
	}
}
