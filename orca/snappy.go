package orca

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A big Snappy page is decoded in one of two ways (see also the top of stream.go):
//   - in one pass on its page goroutine (snappyStream, below), a piece at a time, unless the scan has
//     more than snappyParallelAbove workers and cores: the decode walks the elements once, and the fast
//     path is branch-free;
//   - cut into pieces that the decode workers decompress in parallel (snappyPieces, stream.go), when it
//     has: finding the cuts walks every element a second time before the decoder does.
//
// On two cores every CPU cycle counts and the one-pass decode wins: on DuckDB's 66 MB response pages it
// takes 80 ms where the cut and klauspost/compress's decoder take 57 + 100 ms (BenchmarkSnappy*). A page
// goroutine decodes ~0.8 GB/s, and a scan streams several pages at once (one per big column at least),
// which keeps ahead of the per-row stages (~0.15 GB/s a core) up to about that many cores; beyond them
// the pieces spread one page over every worker.
var snappyParallelAbove = 8

// snappyInputBytes is the first size of a Snappy page's input window (a variable for tests).
var snappyInputBytes = 256 << 10

// snappyInput is a window of a Snappy block's compressed bytes, read from the file as needed.
type snappyInput struct {
	r        io.ReaderAt
	off, end int64 // compressed bytes not yet read from the file
	in       []byte
	ip       int // next element in in
}

// refill reads more input, keeping in[keep:]; offsets into in shift by keep.
func (si *snappyInput) refill(keep int) error {
	if keep > 0 {
		n := copy(si.in, si.in[keep:])
		si.in = si.in[:n]
		si.ip -= keep
	}
	if si.off >= si.end {
		return nil
	}
	if len(si.in) == cap(si.in) {
		si.in = append(si.in, make([]byte, cap(si.in))...)[:len(si.in)]
	}
	m := int(min(int64(cap(si.in)-len(si.in)), si.end-si.off))
	if err := readFull(si.r, si.in[len(si.in):len(si.in)+m], si.off); err != nil {
		return err
	}
	si.in = si.in[:len(si.in)+m]
	si.off += int64(m)
	return nil
}

// open reads the block's first bytes and its length preamble, which must be size.
func (si *snappyInput) open(size int) error {
	si.in = make([]byte, 0, snappyInputBytes)
	if err := si.refill(0); err != nil {
		return err
	}
	n, k := binary.Uvarint(si.in)
	if k <= 0 {
		return errors.New("bad length preamble")
	}
	if n != uint64(size) {
		return fmt.Errorf("block decodes to %d bytes, header says %d", n, size)
	}
	si.ip = k
	return nil
}

// snappyStream decodes a Snappy block in one pass, a piece at a time.
type snappyStream struct {
	snappyInput
	s     *Scanner
	g     *segmenter
	total int // decoded size
	out   int // decoded bytes in the pieces returned so far
	// hist ends with the last snappyFragment (or more) bytes before the current piece: back-references
	// reach into it. It is the last piece when that is big enough (always, but in tests), else a buffer
	// of ours (histOwned) that small pieces are appended to.
	hist      []byte
	histOwned bool
	// An element that crosses the end of a piece: what is left of it.
	lit       int // literal bytes still to copy
	cp, cpOff int // bytes still to copy, and the copy's offset
}

func newSnappyStream(s *Scanner, g *segmenter, off, end int64, size int) (*snappyStream, error) {
	ss := &snappyStream{snappyInput: snappyInput{r: s.f.r, off: off, end: end}, s: s, g: g, total: size}
	if err := ss.open(size); err != nil {
		return nil, fmt.Errorf("decompressing SNAPPY page: %w", err)
	}
	return ss, nil
}

func (ss *snappyStream) next() ([]byte, int64, error) {
	if ss.out >= ss.total {
		if err := ss.done(); err != nil {
			return nil, 0, err
		}
		return nil, 0, io.EOF
	}
	n := min(pieceBytes, ss.total-ss.out)
	if err := ss.g.acquire(int64(n)); err != nil {
		return nil, 0, err
	}
	dst, err := ss.piece(n)
	if err != nil {
		ss.s.release(int64(n))
		return nil, 0, err
	}
	return dst, int64(n), nil
}

// piece decodes the next n bytes of the block.
func (ss *snappyStream) piece(n int) ([]byte, error) {
	dst := make([]byte, n)
	if err := ss.fill(dst); err != nil {
		return nil, fmt.Errorf("decompressing SNAPPY page at decoded byte %d: %w", ss.out, err)
	}
	ss.out += n
	ss.remember(dst)
	return dst, nil
}

// remember makes dst the end of the history.
func (ss *snappyStream) remember(dst []byte) {
	if len(dst) >= snappyFragment {
		ss.hist, ss.histOwned = dst, false
		return
	}
	if !ss.histOwned {
		ss.hist = append(make([]byte, 0, 4*snappyFragment), ss.hist[max(0, len(ss.hist)-snappyFragment):]...)
		ss.histOwned = true
	}
	if len(ss.hist)+len(dst) > cap(ss.hist) {
		ss.hist = ss.hist[:copy(ss.hist, ss.hist[len(ss.hist)-snappyFragment:])]
	}
	ss.hist = append(ss.hist, dst...)
}

func (ss *snappyStream) close() {}

// done checks, once the block's bytes are decoded, that its elements and its input end there too.
func (ss *snappyStream) done() error {
	switch {
	case ss.lit > 0 || ss.cp > 0:
		return fmt.Errorf("decompressing SNAPPY page: elements decode to more than the block's %d bytes", ss.total)
	case ss.ip < len(ss.in) || ss.off < ss.end:
		return fmt.Errorf("decompressing SNAPPY page: input goes on after the block's %d bytes", ss.total)
	}
	return nil
}

// fill decodes the next len(dst) bytes of the block into dst.
func (ss *snappyStream) fill(dst []byte) error {
	d := 0
	for {
		if ss.lit > 0 || ss.cp > 0 {
			var err error
			if d, err = ss.finish(dst, d); err != nil {
				return err
			}
		}
		if d == len(dst) {
			return nil
		}
		if len(ss.in)-ss.ip < snappyFastInput && ss.off < ss.end {
			if err := ss.refill(ss.ip); err != nil {
				return err
			}
		}
		d, ss.ip = snappyFast(dst, ss.in, d, ss.ip)
		if d == len(dst) {
			return nil
		}
		if len(ss.in)-ss.ip < snappyFastInput && ss.off < ss.end {
			continue // refill, then the fast path again
		}
		if err := ss.element(); err != nil {
			return err
		}
	}
}

// element reads the header of the element at ip into lit or cp/cpOff (finish makes it).
func (ss *snappyStream) element() error {
	if len(ss.in)-ss.ip < 5 && ss.off < ss.end {
		if err := ss.refill(ss.ip); err != nil {
			return err
		}
	}
	in := ss.in[ss.ip:]
	if len(in) == 0 {
		return errors.New("input ends before the block does")
	}
	tag := in[0]
	x := int(tag >> 2)
	switch tag & 3 {
	case 0:
		hdr := 1
		if x >= 60 {
			nb := x - 59
			if len(in) < 1+nb {
				return errors.New("literal length truncated")
			}
			x = 0
			for i := range nb {
				x |= int(in[1+i]) << (8 * i)
			}
			hdr += nb
		}
		ss.lit = x + 1
		ss.ip += hdr
		if ss.lit <= 0 || ss.lit > ss.total {
			return fmt.Errorf("literal of %d bytes in a block of %d", ss.lit, ss.total)
		}
		return nil
	case 1:
		if len(in) < 2 {
			return errors.New("copy truncated")
		}
		ss.cp, ss.cpOff = 4+x&7, int(tag&0xe0)<<3|int(in[1])
		ss.ip += 2
	case 2:
		if len(in) < 3 {
			return errors.New("copy truncated")
		}
		ss.cp, ss.cpOff = 1+x, int(binary.LittleEndian.Uint16(in[1:]))
		ss.ip += 3
	case 3:
		if len(in) < 5 {
			return errors.New("copy truncated")
		}
		ss.cp, ss.cpOff = 1+x, int(binary.LittleEndian.Uint32(in[1:]))
		ss.ip += 5
	}
	if ss.cpOff == 0 {
		return errors.New("copy with offset 0")
	}
	return nil
}

// finish makes as much of the pending element as fits in dst from d; it returns the new d.
func (ss *snappyStream) finish(dst []byte, d int) (int, error) {
	for ss.lit > 0 && d < len(dst) {
		if ss.ip == len(ss.in) {
			if ss.off >= ss.end {
				return d, errors.New("literal runs past the input")
			}
			if err := ss.refill(ss.ip); err != nil {
				return d, err
			}
		}
		k := copy(dst[d:d+min(ss.lit, len(dst)-d)], ss.in[ss.ip:])
		d += k
		ss.ip += k
		ss.lit -= k
	}
	if ss.cp == 0 {
		return d, nil
	}
	// Output position p (in the block) copies from p-cpOff: in dst, or in the history.
	if pos := ss.out + d; ss.cpOff > pos {
		return d, fmt.Errorf("copy offset %d before the block's start (at byte %d)", ss.cpOff, pos)
	}
	if ss.cpOff <= d && ss.cpOff >= ss.cp {
		k := min(ss.cp, len(dst)-d)
		copy(dst[d:d+k], dst[d-ss.cpOff:])
		ss.cp -= k
		return d + k, nil
	}
	for ss.cp > 0 && d < len(dst) {
		q := d - ss.cpOff
		if q >= 0 {
			dst[d] = dst[q]
		} else {
			if q < -len(ss.hist) {
				// Further back than the history (Go's encoders reach 4 MiB back; the C++ and Rust
				// ones 64 KiB): the page is decoded whole instead.
				return d, errSnappyFarCopy
			}
			dst[d] = ss.hist[len(ss.hist)+q]
		}
		d++
		ss.cp--
	}
	return d, nil
}

// snappyFastInput is the input the fast path needs buffered after an element's tag.
const snappyFastInput = 24

// snappyFastTag describes an element by its tag, for the fast path.
type snappyFastTag struct {
	in   uint8  // input bytes: tag, offset bytes, and a short literal's data
	out  uint8  // output bytes
	lit  uint8  // 1 for literals
	_    uint8  //
	mask uint32 // a copy's offset is the 4 bytes after the tag, masked, ORed with hi
	hi   uint32 // a copy's offset bits in the tag; for literals their length (see snappyFast)
}

// snappyFastTags: an element the fast path does not make (more than 16 bytes out, or a literal with a
// length field) has mask and hi 0, so its offset, 0, is less than its length: the loop's one test
// sends it to the slow path.
var snappyFastTags = func() (t [256]snappyFastTag) {
	for tag := range 256 {
		x := tag >> 2
		e := &t[tag]
		switch tag & 3 {
		case 0:
			e.in, e.out, e.lit, e.hi = uint8(x+2), uint8(x+1), 1, uint32(x+1)
			if x >= 60 {
				e.in, e.out = 0, 255
			}
		case 1:
			e.in, e.out, e.mask, e.hi = 2, uint8(4+x&7), 0xff, uint32(tag&0xe0)<<3
		case 2:
			e.in, e.out, e.mask = 3, uint8(1+x), 0xffff
		case 3:
			e.in, e.out, e.mask = 5, uint8(1+x), 0xffffffff
		}
		if e.out > 16 {
			e.mask, e.hi = 0, 0
		}
	}
	return t
}()

// snappyFastIn is snappyFastTags[tag].in on its own: the next element's address depends on it, and a
// byte table indexed by the tag is one load on that chain.
var snappyFastIn = func() (t [256]uint8) {
	for tag := range t {
		t[tag] = snappyFastTags[tag].in
	}
	return t
}()
