package orca

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go/format"
)

// checkFooter validates the footer of a Parquet file before parquet-go decodes it. parquet-go allocates the
// footer buffer from the length field at the end of the file, and thrift lists from their declared sizes,
// before any bounds check: a 49 KB file claiming a 2 GiB footer cost 2.1 GB of RSS and 45 s. Here the length
// must fit in the file, and every list, set, map and string in the footer must fit in the bytes that remain,
// so whatever parquet-go then allocates is bounded by the footer's real size. (There is no fixed cap: a
// writer that stores statistics untruncated, like parquet-go, writes a 100 MB footer for one 100 MB value.)
//
// Files that do not end in the plain PAR1 magic are left to parquet-go, which names the problem. dataEnd is
// where the footer starts (0 when the footer is not plain PAR1).
func checkFooter(r io.ReaderAt, size int64) (dataEnd int64, err error) {
	if size < 12 {
		return 0, fmt.Errorf("too small to be Parquet (%d bytes; the magic numbers and footer length alone take 12)", size)
	}
	var tail [8]byte
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return 0, fmt.Errorf("read footer: %w", err)
	}
	if string(tail[4:]) != "PAR1" {
		return 0, nil
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n > size-12 {
		return 0, fmt.Errorf("corrupt footer: its length field says %d bytes but the file has only %d bytes before it", n, size-12)
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, size-8-n); err != nil {
		return 0, fmt.Errorf("read footer: %w", err)
	}
	r2 := thriftReader{b: buf}
	r2.skip(ctStruct, 0)
	if r2.err != nil {
		return 0, fmt.Errorf("corrupt footer metadata at byte %d of %d: %w", r2.pos, n, r2.err)
	}
	return size - 8 - n, nil
}

// checkPages walks the page headers of the column chunks orcaprep reads, at Open: every chunk must lie inside
// the file's data, every page inside its chunk, and each header's own lists and strings (statistics) inside
// the chunk. The scanner checks the same bounds as it reads; checking at Open as well makes a damaged last
// file fail before any work instead of after an hour. The walk reads only the headers (a few KB each).
func checkPages(r io.ReaderAt, dataEnd int64, md *format.FileMetaData, columns []string) error {
	want := map[string]bool{}
	for _, c := range columns {
		want[c] = true
	}
	var buf []byte
	for gi, rg := range md.RowGroups {
		for _, cc := range rg.Columns {
			m := &cc.MetaData
			if len(m.PathInSchema) != 1 || !want[m.PathInSchema[0]] {
				continue
			}
			start := m.DataPageOffset
			if m.DictionaryPageOffset != 0 {
				start = m.DictionaryPageOffset
			}
			end := start + m.TotalCompressedSize
			if start < 4 || m.TotalCompressedSize < 0 || end < start || end > dataEnd {
				return fmt.Errorf("row group %d, column %q: corrupt metadata: its data would be at bytes %d..%d, the file's data is bytes 4..%d", gi, m.PathInSchema[0], start, end, dataEnd)
			}
			var err error
			if buf, err = checkChunkPages(r, start, end, buf); err != nil {
				return fmt.Errorf("row group %d, column %q: %w", gi, m.PathInSchema[0], err)
			}
		}
	}
	return nil
}

// checkChunkPages walks the pages of the chunk [start, end) with the scanner's page-header parser; buf is
// reused between calls.
func checkChunkPages(r io.ReaderAt, start, end int64, buf []byte) ([]byte, error) {
	for pos := start; pos < end; {
		n := min(int64(4096), end-pos)
		for {
			if int64(cap(buf)) < n {
				buf = make([]byte, n)
			}
			b := buf[:n]
			if _, err := r.ReadAt(b, pos); err != nil && !(errors.Is(err, io.EOF) && pos+n == end) {
				return buf, fmt.Errorf("read page header at byte %d: %w", pos, err)
			}
			h, hlen, err := parsePageHeader(b)
			if errors.Is(err, errThriftShort) && n < end-pos {
				n = min(2*n, end-pos) // a header longer than what was read (large statistics): read more
				continue
			}
			if err != nil {
				return buf, fmt.Errorf("corrupt page header at byte %d: %w", pos, err)
			}
			comp := int64(h.compressedSize)
			if left := end - pos - int64(hlen); comp > left {
				return buf, fmt.Errorf("corrupt page header at byte %d: the page claims %d bytes of data, the column chunk has %d left", pos, comp, left)
			}
			pos += int64(hlen) + comp
			break
		}
	}
	return buf, nil
}
