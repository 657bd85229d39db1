package orca

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// checkFooter validates the footer of a Parquet file before parquet-go decodes it. parquet-go allocates the
// footer buffer from the length field at the end of the file, and thrift lists from their declared sizes,
// before any bounds check: a 49 KB file claiming a 2 GiB footer cost 2.1 GB of RSS and 45 s. Here the length
// must fit in the file, and every list, set, map and string in the footer must fit in the bytes that remain,
// so whatever parquet-go then allocates is bounded by the footer's real size. (There is no fixed cap: a
// writer that stores statistics untruncated, like parquet-go, writes a 100 MB footer for one 100 MB value.)
//
// Files that do not end in the plain PAR1 magic are left to parquet-go, which names the problem.
func checkFooter(r io.ReaderAt, size int64) error {
	if size < 12 {
		return fmt.Errorf("too small to be Parquet (%d bytes; the magic numbers and footer length alone take 12)", size)
	}
	var tail [8]byte
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return fmt.Errorf("read footer: %w", err)
	}
	if string(tail[4:]) != "PAR1" {
		return nil
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n > size-12 {
		return fmt.Errorf("corrupt footer: its length field says %d bytes but the file has only %d bytes before it", n, size-12)
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, size-8-n); err != nil {
		return fmt.Errorf("read footer: %w", err)
	}
	w := thriftWalker{b: buf}
	if err := w.structure(0); err != nil {
		return fmt.Errorf("corrupt footer metadata at byte %d of %d: %w", w.off, n, err)
	}
	return nil
}

// thriftWalker skips through a thrift compact-protocol value without building it, checking that every
// declared size fits in the remaining input (each list element takes at least one byte).
type thriftWalker struct {
	b   []byte
	off int
}

const maxThriftDepth = 64

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
		return fmt.Errorf("%s of %d bytes, only %d left", what, n, w.left())
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
			return fmt.Errorf("list of %d elements in %d bytes", n, w.left())
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
			return fmt.Errorf("map of %d entries in %d bytes", n, w.left())
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
