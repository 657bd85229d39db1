package orca

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// fuzzBases are files from other writers whose page bytes the fuzz test overwrites (the footer is kept,
// so the file still opens and the page reader, not the footer parser, meets the damage).
var fuzzBases = []string{
	"duckdb-snappy.parquet", "duckdb-v2-delta-snappy.parquet", "duckdb-gzip.parquet", "duckdb-zstd.parquet",
	"arrowrs-dict-snappy.parquet", "arrowrs-delta-v2-gzip.parquet", "arrowrs-largeutf8-zstd-rowgroups.parquet",
	"arrowrs-plain-uncompressed.parquet", "duckdb-rowgroups.parquet",
}

// openBytes opens an in-memory Parquet file the way Open opens one on disk.
func openBytes(name string, data []byte) (*File, error) {
	r := bytes.NewReader(data)
	var pf *parquet.File
	err := guard(func() error {
		var err error
		pf, err = parquet.OpenFile(r, int64(len(data)), parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true))
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := checkSchema(pf.Schema()); err != nil {
		return nil, err
	}
	f := &File{Path: name, Size: int64(len(data)), r: r, pf: pf}
	f.indexFooter()
	return f, nil
}

// FuzzScanDamagedPages overwrites bytes in the page area of real files and reads them: the reader must
// return the rows or an error naming the file, never panic or hang. With stream set, pages of over 1 KiB
// take the streaming path in pieces of 256 bytes.
func FuzzScanDamagedPages(f *testing.F) {
	var bases [][]byte
	for _, name := range fuzzBases {
		b, err := os.ReadFile(filepath.Join("../testdata/parquet", name))
		if err != nil {
			f.Fatal(err)
		}
		bases = append(bases, b)
	}
	for i := range bases {
		f.Add(uint8(i), uint32(0), []byte{}, false)
		f.Add(uint8(i), uint32(0), []byte{}, true)
		f.Add(uint8(i), uint32(100+i*37), []byte{0xff, 0xff, 0xff, 0xff}, i%2 == 0)
		f.Add(uint8(i), uint32(2000+i*101), []byte{0, 0, 0, 0, 0, 0, 0, 0}, i%2 == 1)
		f.Add(uint8(i), uint32(7), []byte{0x15, 0x00, 0x15, 0xff, 0xff, 0xff, 0xff, 0x0f}, true)
	}
	f.Fuzz(func(t *testing.T, which uint8, off uint32, patch []byte, stream bool) {
		base := bases[int(which)%len(bases)]
		data := bytes.Clone(base)
		footer := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
		region := len(data) - 8 - footer // pages live in [4, region)
		if region > 4 && len(patch) > 0 {
			o := 4 + int(off%uint32(region-4))
			copy(data[o:min(region, o+len(patch))], patch)
		}
		file, err := openBytes("fuzz.parquet", data)
		if err != nil {
			return
		}
		if stream {
			defer setStreaming(1<<10, 256)()
		}
		rows, err := scanAll(file, ScanOptions{Workers: 2, ReadAhead: 64 << 10, BatchRows: 50})
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.parquet") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if int64(len(rows)) != file.NumRows() {
			t.Fatalf("read %d rows without error, footer says %d", len(rows), file.NumRows())
		}
	})
}
