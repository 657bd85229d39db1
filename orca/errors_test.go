package orca

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func fixtureBytes(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../testdata/parquet", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// chunkRange returns the byte range of column col's chunk in row group 0.
func chunkRange(t *testing.T, data []byte, col int) (int64, int64) {
	t.Helper()
	f, err := openBytes("x.parquet", data)
	if err != nil {
		t.Fatal(err)
	}
	m := f.groups[0].chunks[col]
	return m.start, m.end
}

// Damaged page data gives an error naming the file, the row group, the column and (for page
// problems) the page, never a panic or a silent short read.
func TestDamagedPagesReportWhere(t *testing.T) {
	snappy := fixtureBytes(t, "duckdb-snappy.parquet")
	qs, qe := chunkRange(t, snappy, 2)
	cases := []struct {
		name   string
		data   func() []byte
		stream bool
		want   []string
	}{
		{"zeroed page header", func() []byte {
			b := bytes.Clone(snappy)
			clear(b[qs : qs+8])
			return b
		}, false, []string{`row group 0 column "question"`, "page header at offset"}},
		{"garbage in a page", func() []byte {
			b := bytes.Clone(snappy)
			mid := (qs + qe) / 2
			for i := mid; i < mid+64; i++ {
				b[i] = 0xff
			}
			return b
		}, false, []string{`row group 0 column "question" page 0`, "decompressing SNAPPY page"}},
		{"garbage in a streamed page", func() []byte {
			b := bytes.Clone(snappy)
			mid := (qs + qe) / 2
			for i := mid; i < mid+64; i++ {
				b[i] = 0xff
			}
			return b
		}, true, []string{`row group 0 column "question" page 0`, "SNAPPY"}},
		{"page longer than its chunk", func() []byte {
			b := bytes.Clone(snappy)
			// compressed_page_size is the third field: find it after type (0x15 0x00) and uncompressed size
			h, hl, err := parsePageHeader(b[qs:])
			if err != nil || hl == 0 {
				t.Fatal(err)
			}
			_ = h
			pos := qs + 2
			_, k := binary.Uvarint(b[pos+1:]) // uncompressed size varint after its field header
			pos += 1 + int64(k)
			b[pos+1] |= 0x7f // compressed size field value: make it much larger (same varint length)
			return b
		}, false, []string{`row group 0 column "question"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := openBytes("damaged.parquet", c.data())
			if err != nil {
				t.Fatal(err)
			}
			if c.stream {
				defer setStreaming(1<<10, 256)()
			}
			_, err = scanAll(f, ScanOptions{Workers: 2})
			if err == nil {
				t.Fatal("damaged file read without error")
			}
			for _, w := range append([]string{"read damaged.parquet"}, c.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// A file cut short (footer kept) is refused with the bytes it lacks.
func TestChunkOutsideFile(t *testing.T) {
	b := fixtureBytes(t, "duckdb-zstd.parquet")
	footer := int(binary.LittleEndian.Uint32(b[len(b)-8:]))
	tail := b[len(b)-8-footer:]
	cut := append(bytes.Clone(b[:(len(b)-8-footer)/2]), tail...)
	f, err := openBytes("cut.parquet", cut)
	if err != nil {
		t.Skip("parquet-go refuses the footer itself:", err)
	}
	_, err = scanAll(f, ScanOptions{})
	if err == nil || !strings.Contains(err.Error(), "cut.parquet") || !strings.Contains(err.Error(), "row group 0") {
		t.Fatalf("want an error naming file and row group, got %v", err)
	}
}

// Cancelling the context or closing a scan half way stops every goroutine.
func TestScanStopsCleanly(t *testing.T) {
	before := runtime.NumGoroutine()
	f, err := Open("../testdata/parquet/duckdb-rowgroups.parquet", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := f.Scan(ctx, ScanOptions{BatchRows: 10, Workers: 3, ReadAhead: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	cancel()
	for {
		_, err := s.Next()
		if err == nil {
			continue
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("after cancel: %v", err)
		}
		break
	}
	s.Close()
	s2, err := f.Scan(context.Background(), ScanOptions{BatchRows: 10, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Next(); err != nil {
		t.Fatal(err)
	}
	s2.Close() // half way
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines left running (%d before)", n-before, before)
	}
}
