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
	w := thriftWalker{b: buf}
	if err := w.structure(0); err != nil {
		return 0, fmt.Errorf("corrupt footer metadata at byte %d of %d: %w", w.off, n, err)
	}
	return size - 8 - n, nil
}

// checkPages walks the page headers of the column chunks orcaprep reads, before parquet-go does: every
// chunk must lie inside the file's data, every page inside its chunk, and each header's own lists and
// strings (statistics) inside the chunk. parquet-go allocates a page's buffer from its header before reading
// it: one header claiming 2 GiB of compressed data cost 2.9 GB of RSS. The walk reads only the headers
// (a few KB each, sequentially), so it costs little next to reading the pages.
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

// checkChunkPages walks the pages of the chunk [start, end); buf is reused between calls.
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
			w := thriftWalker{b: b}
			comp, err := w.pageHeader()
			if errors.Is(err, errThriftEOF) && n < end-pos {
				// A header longer than what was read (large statistics): read more, at once as much as a
				// string in it said it needs.
				n = min(max(2*n, int64(min(w.need, uint64(end-pos)))+4096), end-pos)
				continue
			}
			if err != nil {
				return buf, fmt.Errorf("corrupt page header at byte %d: %w", pos, err)
			}
			if left := end - pos - int64(w.off); comp > left {
				return buf, fmt.Errorf("corrupt page header at byte %d: the page claims %d bytes of data, the column chunk has %d left", pos, comp, left)
			}
			pos += int64(w.off) + comp
			break
		}
	}
	return buf, nil
}

// pageHeader walks a thrift PageHeader and returns its compressed_page_size (field 3).
func (w *thriftWalker) pageHeader() (int64, error) {
	comp := int64(-1)
	id := int64(0)
	for {
		h, err := w.byte1()
		if err != nil {
			return 0, err
		}
		if h == 0 {
			break
		}
		if d := int64(h >> 4); d != 0 {
			id += d
		} else {
			v, err := w.uvarint()
			if err != nil {
				return 0, err
			}
			id = int64(v>>1) ^ -int64(v&1)
		}
		t := h & 0x0f
		if t == 5 && id == 3 {
			v, err := w.uvarint()
			if err != nil {
				return 0, err
			}
			comp = int64(v>>1) ^ -int64(v&1)
			continue
		}
		if t != 1 && t != 2 {
			if err := w.value(t, 1); err != nil {
				return 0, err
			}
		}
	}
	if comp < 0 {
		return 0, fmt.Errorf("no valid compressed_page_size (%d)", comp)
	}
	return comp, nil
}

// thriftWalker skips through a thrift compact-protocol value without building it, checking that every
// declared size fits in the remaining input (each list element takes at least one byte).
type thriftWalker struct {
	b   []byte
	off int
	// need is at least how many bytes the value needs when it reached past the input's end (0: unknown)
	need uint64
}

const maxThriftDepth = 64

// errThriftEOF: the input ends inside a value, or a size reaches past its end.
var errThriftEOF = errors.New("ends inside a value")

func (w *thriftWalker) left() int { return len(w.b) - w.off }

func (w *thriftWalker) byte1() (byte, error) {
	if w.off >= len(w.b) {
		return 0, errThriftEOF
	}
	c := w.b[w.off]
	w.off++
	return c, nil
}

func (w *thriftWalker) uvarint() (uint64, error) {
	v, n := binary.Uvarint(w.b[w.off:])
	if n <= 0 {
		if n == 0 {
			return 0, errThriftEOF
		}
		return 0, errors.New("varint overflows 64 bits")
	}
	w.off += n
	return v, nil
}

func (w *thriftWalker) skip(n uint64, what string) error {
	if n > uint64(w.left()) {
		w.need = uint64(w.off) + n
		return fmt.Errorf("%s of %d bytes, only %d left: %w", what, n, w.left(), errThriftEOF)
	}
	w.off += int(n)
	return nil
}

func (w *thriftWalker) structure(depth int) error {
	if depth > maxThriftDepth {
		return fmt.Errorf("nested deeper than %d", maxThriftDepth)
	}
	for {
		h, err := w.byte1()
		if err != nil {
			return err
		}
		if h == 0 { // stop
			return nil
		}
		if h>>4 == 0 { // long form: the field id follows as a zigzag varint
			if _, err := w.uvarint(); err != nil {
				return err
			}
		}
		if t := h & 0x0f; t != 1 && t != 2 { // booleans carry their value in the type
			if err := w.value(t, depth); err != nil {
				return err
			}
		}
	}
}

func (w *thriftWalker) value(t byte, depth int) error {
	switch t {
	case 1, 2: // a boolean element of a list takes one byte
		return w.skip(1, "bool")
	case 3:
		return w.skip(1, "byte")
	case 4, 5, 6:
		_, err := w.uvarint()
		return err
	case 7:
		return w.skip(8, "double")
	case 8:
		n, err := w.uvarint()
		if err != nil {
			return err
		}
		return w.skip(n, "string")
	case 9, 10:
		h, err := w.byte1()
		if err != nil {
			return err
		}
		n := uint64(h >> 4)
		if n == 15 {
			if n, err = w.uvarint(); err != nil {
				return err
			}
		}
		if n > uint64(w.left()) {
			return fmt.Errorf("list of %d elements in %d bytes: %w", n, w.left(), errThriftEOF)
		}
		for i := uint64(0); i < n; i++ {
			if err := w.value(h&0x0f, depth+1); err != nil {
				return err
			}
		}
		return nil
	case 11:
		n, err := w.uvarint()
		if err != nil || n == 0 {
			return err
		}
		kv, err := w.byte1()
		if err != nil {
			return err
		}
		if n > uint64(w.left())/2 {
			return fmt.Errorf("map of %d entries in %d bytes: %w", n, w.left(), errThriftEOF)
		}
		for i := uint64(0); i < n; i++ {
			if err := w.value(kv>>4, depth+1); err != nil {
				return err
			}
			if err := w.value(kv&0x0f, depth+1); err != nil {
				return err
			}
		}
		return nil
	case 12:
		return w.structure(depth + 1)
	case 13:
		return w.skip(16, "uuid")
	}
	return fmt.Errorf("unknown thrift type %d", t)
}
