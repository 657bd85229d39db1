package orca

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// snappyStream decodes one Snappy block (the raw format Parquet uses) incrementally into a sliding
// window, so a 100 MB page is decoded with a few MB of memory. The encoders Parquet writers use
// (C++ snappy, Rust snap, Go snappy) compress in 64 KiB fragments, so back-references stay within the
// history the window keeps; a block that refers further back fails with errSnappyFarCopy and the
// caller decodes the whole page in memory instead. Written in Go (no assembly), it can be preempted, so a
// large page does not hold up the garbage collector's stop-the-world phases.
type snappyStream struct {
	src    io.ReaderAt // compressed bytes [srcOff, srcEnd)
	srcOff int64
	srcEnd int64
	in     []byte // compressed input buffer; in[ip:] not yet decoded
	ip     int
	total  int // decoded length from the preamble
	out    int // bytes decoded so far
	win    []byte
	r, w   int // win[r:w] decoded, not yet consumed; win[:w] is history for back-references
	litN   int // literal bytes still to copy from input
	err    error
}

var errSnappyFarCopy = errors.New("snappy back-reference beyond the streaming window")

const (
	snappyHistory = 1 << 20 // history kept behind the write position
	snappyWindow  = 4 << 20
	snappyInBuf   = 1 << 20
)

// newSnappyStream reads the preamble at off. want is the expected decoded size (from the page header).
func newSnappyStream(src io.ReaderAt, off, end int64, want int) (*snappyStream, error) {
	d := &snappyStream{src: src, srcOff: off, srcEnd: end, in: make([]byte, 0, snappyInBuf), win: make([]byte, snappyWindow)}
	if err := d.ensureIn(10); err != nil {
		return nil, err
	}
	n, k := binary.Uvarint(d.in[d.ip:])
	if k <= 0 || n > 1<<32 {
		return nil, errors.New("snappy: bad length preamble")
	}
	if int(n) != want {
		return nil, fmt.Errorf("snappy block decodes to %d bytes, header says %d", n, want)
	}
	d.ip += k
	d.total = int(n)
	return d, nil
}

// ensureIn makes at least k input bytes available (fewer only at the end of the input).
func (d *snappyStream) ensureIn(k int) error {
	if len(d.in)-d.ip >= k || d.srcOff >= d.srcEnd {
		return nil
	}
	n := copy(d.in[:cap(d.in)], d.in[d.ip:])
	d.in = d.in[:n]
	d.ip = 0
	for len(d.in) < k && d.srcOff < d.srcEnd {
		m := int(min(int64(cap(d.in)-len(d.in)), d.srcEnd-d.srcOff))
		got, err := d.src.ReadAt(d.in[len(d.in):len(d.in)+m], d.srcOff)
		d.in = d.in[:len(d.in)+got]
		d.srcOff += int64(got)
		if got < m {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// fill decodes until at least need bytes are buffered (or the block ends).
func (d *snappyStream) fill(need int) error {
	for d.err == nil && d.w-d.r < need && d.out < d.total {
		if len(d.win)-d.w < 64 || d.r+need > len(d.win) {
			d.compact(need)
		}
		d.err = d.decode()
	}
	if d.err != nil {
		return d.err
	}
	if d.w-d.r < need {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// compact slides the window, keeping the unconsumed bytes and snappyHistory bytes of history, and grows
// it when that leaves too little room.
func (d *snappyStream) compact(need int) {
	if start := min(d.r, max(0, d.w-snappyHistory)); start > 0 {
		copy(d.win, d.win[start:d.w])
		d.r -= start
		d.w -= start
	}
	if len(d.win)-d.w < 64 || d.r+need > len(d.win) {
		nw := make([]byte, max(2*len(d.win), d.r+need+64))
		copy(nw, d.win[:d.w])
		d.win = nw
	}
}

// decode decodes elements until the window is nearly full or the block ends.
func (d *snappyStream) decode() (err error) {
	win := d.win
	w, out := d.w, d.out
	defer func() { d.w, d.out = w, out }()
	for out < d.total {
		if d.litN > 0 {
			room := len(win) - w
			if room == 0 {
				return nil
			}
			if d.ip == len(d.in) {
				if err := d.ensureIn(1); err != nil {
					return err
				}
				if d.ip == len(d.in) {
					return errors.New("snappy: literal runs past the input")
				}
			}
			n := copy(win[w:w+min(room, d.litN)], d.in[d.ip:])
			d.ip += n
			w += n
			out += n
			d.litN -= n
			continue
		}
		if len(win)-w < 64 {
			return nil
		}
		if len(d.in)-d.ip < 5 {
			if err := d.ensureIn(5); err != nil {
				return err
			}
		}
		in := d.in[d.ip:]
		if len(in) == 0 {
			return errors.New("snappy: input ends before the block does")
		}
		tag := in[0]
		var length, offset, hdr int
		switch tag & 3 {
		case 0:
			x := int(tag >> 2)
			hdr = 1
			if x >= 60 {
				nb := x - 59
				if len(in) < 1+nb {
					return errors.New("snappy: literal length truncated")
				}
				x = 0
				for i := 0; i < nb; i++ {
					x |= int(in[1+i]) << (8 * i)
				}
				hdr += nb
			}
			length = x + 1
			if length > d.total-out {
				return errors.New("snappy: literal longer than the block")
			}
			d.ip += hdr
			if length <= len(in)-hdr && length <= len(win)-w {
				copy(win[w:w+length], in[hdr:])
				d.ip += length
				w += length
				out += length
			} else {
				d.litN = length
			}
			continue
		case 1:
			if len(in) < 2 {
				return errors.New("snappy: copy truncated")
			}
			length = 4 + int(tag>>2)&7
			offset = int(tag&0xe0)<<3 | int(in[1])
			hdr = 2
		case 2:
			if len(in) < 3 {
				return errors.New("snappy: copy truncated")
			}
			length = 1 + int(tag>>2)
			offset = int(binary.LittleEndian.Uint16(in[1:]))
			hdr = 3
		case 3:
			if len(in) < 5 {
				return errors.New("snappy: copy truncated")
			}
			length = 1 + int(tag>>2)
			offset = int(binary.LittleEndian.Uint32(in[1:]))
			hdr = 5
		}
		if offset <= 0 || offset > out {
			return fmt.Errorf("snappy: copy offset %d at decoded byte %d is invalid", offset, out)
		}
		if length > d.total-out {
			return errors.New("snappy: copy longer than the block")
		}
		if offset > w {
			return errSnappyFarCopy
		}
		d.ip += hdr
		if offset >= length {
			copy(win[w:w+length], win[w-offset:])
		} else {
			for i := 0; i < length; i++ {
				win[w+i] = win[w-offset+i]
			}
		}
		w += length
		out += length
	}
	return nil
}

// Peek returns the next n decoded bytes without consuming them; valid until the next call.
func (d *snappyStream) Peek(n int) ([]byte, error) {
	if err := d.fill(n); err != nil {
		return nil, err
	}
	return d.win[d.r : d.r+n], nil
}

// Discard consumes n bytes.
func (d *snappyStream) Discard(n int) (int, error) {
	if err := d.fill(n); err != nil {
		return 0, err
	}
	d.r += n
	return n, nil
}

// Read copies decoded bytes into p.
func (d *snappyStream) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if d.w == d.r {
		if d.out >= d.total {
			return 0, io.EOF
		}
		if err := d.fill(1); err != nil {
			return 0, err
		}
	}
	n := copy(p, d.win[d.r:d.w])
	d.r += n
	return n, nil
}

// done reports whether the block was decoded and consumed completely.
func (d *snappyStream) done() bool { return d.out == d.total && d.r == d.w }
