package orca

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Pages larger than bigPage (uncompressed) in PLAIN or DELTA_*_BYTE_ARRAY encoding are streamed: one
// goroutine per page reads the compressed bytes from the file as it goes, decompresses them through a
// window of a few MB and copies the values into segments of about segmentBytes, which the assembler
// consumes in order. Some writers (DuckDB) put a whole row group's column in one page of up to 100 MB;
// decoding such a page in one piece would cost the page twice over in memory (compressed and
// decompressed) for every column and page read ahead.
const (
	bigPage      = 4 << 20
	segmentBytes = 1 << 20
	streamBuf    = 1 << 20 // bufio buffer over generic decompressors
	// streamCost is what an open streamed page costs beyond its segments (window and buffers).
	streamCost = snappyWindow + snappyInBuf
)

// segment is a run of decoded rows of a streamed page.
type segment struct {
	first int64
	vals  []string
	null  []bool
	cost  int64
	err   error
}

// pageStream is a decompressed page body read sequentially (bufio.Reader and snappyStream have it).
type pageStream interface {
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
	Read(p []byte) (int, error)
}

// streamed reports whether p is decoded as a stream rather than in one piece.
func (p *colPage) streamed() bool {
	if p.rows == 0 || int(p.hdr.uncompressedSize) <= bigPage {
		return false
	}
	switch p.hdr.encoding {
	case encPlain, encDeltaLengthBytes, encDeltaByteArray:
		return true
	}
	return false
}

// streamPage is the goroutine decoding a streamed page: it sends segments on p.segs, then closes it.
// body is the file offset of the page body.
func (s *Scanner) streamPage(p *colPage, body int64) {
	defer s.wg.Done()
	defer close(p.segs)
	emitted := int64(0) // rows already sent: a retry (in memory, after a far snappy copy) skips them
	err := s.streamOnce(p, body, false, &emitted)
	if errors.Is(err, errSnappyFarCopy) {
		err = s.streamOnce(p, body, true, &emitted)
	}
	if err != nil {
		select {
		case p.segs <- &segment{first: p.first + emitted, err: err}:
		case <-s.ctx.Done():
		}
	}
}

// openStream returns the decompressed body of p after its levels, starting at file offset off. With
// inMemory (or for codecs without a streaming decoder here) the whole page is read and decompressed.
func (s *Scanner) openStream(p *colPage, off, end int64, size int, inMemory bool) (pageStream, func(), error) {
	src := io.NewSectionReader(s.f.f, off, end-off)
	nop := func() {}
	codec := p.codec
	if p.hdr.typ == pageDataV2 && !p.hdr.v2Compressed {
		codec = codecUncompressed
	}
	switch {
	case codec == codecUncompressed:
		if end-off != int64(size) {
			return nil, nop, fmt.Errorf("uncompressed page holds %d bytes, header says %d", end-off, size)
		}
		return bufio.NewReaderSize(src, streamBuf), nop, nil
	case codec == codecSnappy && !inMemory:
		d, err := newSnappyStream(s.f.f, off, end, size)
		if err != nil {
			return nil, nop, fmt.Errorf("decompressing SNAPPY page: %w", err)
		}
		return d, nop, nil
	case codec == codecZstd && !inMemory:
		d, err := zstd.NewReader(bufio.NewReaderSize(src, streamBuf), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(size)+1<<20))
		if err != nil {
			return nil, nop, err
		}
		return bufio.NewReaderSize(d, streamBuf), d.Close, nil
	case codec == codecGzip && !inMemory:
		d, err := gzip.NewReader(bufio.NewReaderSize(src, streamBuf))
		if err != nil {
			return nil, nop, fmt.Errorf("decompressing GZIP page: %w", err)
		}
		return bufio.NewReaderSize(d, streamBuf), nop, nil
	case codec == codecBrotli && !inMemory:
		return bufio.NewReaderSize(brotli.NewReader(bufio.NewReaderSize(src, streamBuf)), streamBuf), nop, nil
	}
	raw := make([]byte, end-off)
	if _, err := io.ReadFull(src, raw); err != nil {
		return nil, nop, fmt.Errorf("reading page: %w", err)
	}
	dst := make([]byte, size)
	if err := decompress(codec, dst, raw); err != nil {
		return nil, nop, fmt.Errorf("decompressing %s page: %w", codecName(codec), err)
	}
	return bufio.NewReaderSize(bytes.NewReader(dst), streamBuf), nop, nil
}

// streamOnce decodes p from its start, sending segments for rows from *emitted on.
func (s *Scanner) streamOnce(p *colPage, body int64, inMemory bool, emitted *int64) error {
	h := &p.hdr
	n := p.rows
	end := body + int64(h.compressedSize)
	var null []bool
	nonNull := n
	var st pageStream
	closeFn := func() {}
	defer func() { closeFn() }()
	var err error
	if h.typ == pageDataV2 {
		lv := int64(h.repLevelsLen) + int64(h.defLevelsLen)
		if h.repLevelsLen < 0 || h.defLevelsLen < 0 || lv > int64(h.compressedSize) || lv > int64(h.uncompressedSize) {
			return fmt.Errorf("data page v2 level lengths (%d, %d) out of range", h.repLevelsLen, h.defLevelsLen)
		}
		if p.maxDef > 0 {
			lvBuf := make([]byte, h.defLevelsLen)
			if _, err := s.f.f.ReadAt(lvBuf, body+int64(h.repLevelsLen)); err != nil {
				return fmt.Errorf("reading levels: %w", err)
			}
			if nonNull, err = decodeLevels(lvBuf, p.maxDef, n, &null); err != nil {
				return err
			}
		}
		if st, closeFn, err = s.openStream(p, body+lv, end, int(int64(h.uncompressedSize)-lv), inMemory); err != nil {
			return err
		}
	} else {
		if st, closeFn, err = s.openStream(p, body, end, int(h.uncompressedSize), inMemory); err != nil {
			return err
		}
		if p.maxDef > 0 {
			switch h.defEncoding {
			case encRLE:
				b, err := st.Peek(4)
				if err != nil {
					return fmt.Errorf("definition levels: %w", err)
				}
				l := int(binary.LittleEndian.Uint32(b))
				st.Discard(4)
				if l < 0 || l > int(h.uncompressedSize) {
					return fmt.Errorf("definition levels: length %d runs past the page", l)
				}
				lv, err := take(st, l, nil)
				if err != nil {
					return fmt.Errorf("definition levels: %w", err)
				}
				if nonNull, err = decodeLevels(lv, p.maxDef, n, &null); err != nil {
					return err
				}
			case encBitPacked:
				lv, err := take(st, (n*bits.Len(uint(p.maxDef))+7)/8, nil)
				if err != nil {
					return fmt.Errorf("definition levels: %w", err)
				}
				if nonNull, _, err = decodeBitPackedLevels(lv, p.maxDef, n, &null); err != nil {
					return err
				}
			default:
				return fmt.Errorf("definition level encoding %s not supported", encodingName(h.defEncoding))
			}
		}
	}
	sg := &segmenter{s: s, p: p, null: null, skip: int(*emitted)}
	defer func() { *emitted = int64(sg.skip) }()
	switch h.encoding {
	case encPlain:
		err = sg.plain(st, nonNull)
	case encDeltaLengthBytes:
		lens, e := deltaBinaryPackedStream(st, nonNull)
		if e != nil {
			return fmt.Errorf("DELTA_LENGTH_BYTE_ARRAY lengths: %w", e)
		}
		err = sg.lengths(st, lens, nil)
	case encDeltaByteArray:
		prefix, e := deltaBinaryPackedStream(st, nonNull)
		if e != nil {
			return fmt.Errorf("DELTA_BYTE_ARRAY prefix lengths: %w", e)
		}
		suffix, e := deltaBinaryPackedStream(st, nonNull)
		if e != nil {
			return fmt.Errorf("DELTA_BYTE_ARRAY suffix lengths: %w", e)
		}
		err = sg.lengths(st, suffix, prefix)
	default:
		return fmt.Errorf("encoding %s not supported for streaming", encodingName(h.encoding))
	}
	if err != nil {
		return err
	}
	return sg.finish()
}

// take returns the next n bytes of st (a view when they fit its buffer, else copied into scratch).
func take(st pageStream, n int, scratch []byte) ([]byte, error) {
	if n <= 64<<10 {
		b, err := st.Peek(n)
		if err != nil {
			return nil, err
		}
		st.Discard(n)
		return b, nil
	}
	if cap(scratch) < n {
		scratch = make([]byte, n)
	}
	scratch = scratch[:n]
	if _, err := io.ReadFull(st, scratch); err != nil {
		return nil, err
	}
	return scratch, nil
}

// streamSource adapts a pageStream to the byteSource the delta decoder reads.
type streamSource struct {
	st      pageStream
	scratch []byte
}

func (b *streamSource) uvarint() (uint64, bool) {
	var x uint64
	for shift := uint(0); shift < 64; shift += 7 {
		c, err := b.st.Peek(1)
		if err != nil {
			return 0, false
		}
		b.st.Discard(1)
		x |= uint64(c[0]&0x7f) << shift
		if c[0] < 0x80 {
			return x, true
		}
	}
	return 0, false
}

func (b *streamSource) take(n int) ([]byte, bool) {
	v, err := take(b.st, n, b.scratch)
	if err != nil {
		return nil, false
	}
	if n > 64<<10 {
		b.scratch = v
	}
	return v, true
}

func deltaBinaryPackedStream(st pageStream, want int) ([]int64, error) {
	return deltaDecode(&streamSource{st: st}, want, nil)
}

// segmenter cuts a streamed page's values into segments and sends them to the assembler.
type segmenter struct {
	s    *Scanner
	p    *colPage
	null []bool
	skip int // rows sent by an earlier attempt: decoded again, not sent
	row  int // next row of the page
	// the open segment
	open  bool
	first int // its first row (page-relative)
	buf   []byte
	vals  []string
	cost  int64
}

// start opens a segment at g.row, waiting for read-ahead budget; its first value is l bytes.
func (g *segmenter) start(l int) error {
	size := max(segmentBytes, l)
	est := size/512 + 64
	cost := int64(size) + 16*int64(est)
	if !g.s.admit(cost, g.p.first+int64(g.row)) {
		return g.s.ctx.Err()
	}
	g.open, g.first, g.cost = true, g.row, cost
	g.buf = make([]byte, 0, size)
	g.vals = make([]string, 0, est)
	return nil
}

// nulls adds the NULL rows before the next value.
func (g *segmenter) nulls() error {
	for g.null != nil && g.row < g.p.rows && g.null[g.row] {
		if g.row >= g.skip {
			if !g.open {
				if err := g.start(0); err != nil {
					return err
				}
			}
			g.vals = append(g.vals, "")
		}
		g.row++
	}
	return nil
}

// value adds the next non-null value, l bytes, whose bytes fill writes into dst.
func (g *segmenter) value(l int, fill func(dst []byte) error) error {
	if err := g.nulls(); err != nil {
		return err
	}
	if g.row >= g.p.rows {
		return fmt.Errorf("more values than the %d rows' definition levels allow", g.p.rows)
	}
	if g.row < g.skip {
		g.row++
		return fill(make([]byte, l))
	}
	if g.open && len(g.vals) > 0 && len(g.buf)+l > cap(g.buf) {
		if err := g.flush(); err != nil {
			return err
		}
	}
	if !g.open {
		if err := g.start(l); err != nil {
			return err
		}
	}
	start := len(g.buf)
	g.buf = g.buf[:start+l]
	if err := fill(g.buf[start:]); err != nil {
		return err
	}
	g.vals = append(g.vals, str(g.buf[start:]))
	g.row++
	if len(g.buf) >= segmentBytes {
		return g.flush()
	}
	return nil
}

// last returns the value just added (for DELTA_BYTE_ARRAY prefixes).
func (g *segmenter) last(prev string) string {
	if g.open && len(g.vals) > 0 {
		return g.vals[len(g.vals)-1]
	}
	return prev
}

// flush sends the open segment.
func (g *segmenter) flush() error {
	if !g.open {
		return nil
	}
	seg := &segment{first: g.p.first + int64(g.first), vals: g.vals}
	if g.null != nil {
		seg.null = g.null[g.first:g.row]
	}
	// charge what the segment really holds (a value longer than estimated, or more NULL rows)
	actual := int64(cap(g.buf)) + 16*int64(cap(g.vals))
	if actual > g.cost {
		g.s.charge(actual - g.cost)
		g.cost = actual
	}
	seg.cost = g.cost
	g.open, g.buf, g.vals, g.cost = false, nil, nil, 0
	select {
	case g.p.segs <- seg:
		g.skip = g.row // sent: a retry must not send these rows again
		return nil
	case <-g.s.ctx.Done():
		g.s.release(seg.cost)
		return g.s.ctx.Err()
	}
}

// finish adds trailing NULL rows and sends the last segment; every row must be accounted for.
func (g *segmenter) finish() error {
	if err := g.nulls(); err != nil {
		return err
	}
	if g.row != g.p.rows {
		return fmt.Errorf("page ends after %d of %d rows", g.row, g.p.rows)
	}
	return g.flush()
}

// plain reads nonNull PLAIN values.
func (g *segmenter) plain(st pageStream, nonNull int) error {
	for i := 0; i < nonNull; i++ {
		b, err := st.Peek(4)
		if err != nil {
			return fmt.Errorf("PLAIN value %d of %d: length truncated", i, nonNull)
		}
		l := int(binary.LittleEndian.Uint32(b))
		st.Discard(4)
		if l < 0 || l > int(g.p.hdr.uncompressedSize) {
			return fmt.Errorf("PLAIN value %d of %d: length %d runs past the page", i, nonNull, l)
		}
		if err := g.value(l, func(dst []byte) error {
			if _, err := io.ReadFull(st, dst); err != nil {
				return fmt.Errorf("PLAIN value %d of %d: %w", i, nonNull, err)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// lengths reads values whose (suffix) lengths are known; with prefix, each value starts with that many
// bytes of the previous one (DELTA_BYTE_ARRAY).
func (g *segmenter) lengths(st pageStream, lens, prefix []int64) error {
	var prev string
	var prevBuf []byte // the previous value when it was decoded but not kept (retry)
	size := int64(g.p.hdr.uncompressedSize)
	for i, l := range lens {
		pl := int64(0)
		if prefix != nil {
			pl = prefix[i]
			if pl < 0 || pl > int64(len(prev)) {
				return fmt.Errorf("DELTA_BYTE_ARRAY value %d: prefix %d longer than the previous value (%d)", i, pl, len(prev))
			}
		}
		if l < 0 || l > size || pl+l > 1<<31 {
			return fmt.Errorf("value %d of %d: length %d runs past the page", i, len(lens), l)
		}
		p := prev[:pl]
		skipped := g.nextRow() < g.skip
		if err := g.value(int(pl+l), func(dst []byte) error {
			copy(dst, p)
			if _, err := io.ReadFull(st, dst[pl:]); err != nil {
				return fmt.Errorf("value %d of %d: %w", i, len(lens), err)
			}
			if skipped {
				prevBuf = dst
			}
			return nil
		}); err != nil {
			return err
		}
		if skipped {
			prev = str(prevBuf)
		} else {
			prev = g.last(prev)
		}
	}
	return nil
}

// nextRow is the row the next non-null value goes to.
func (g *segmenter) nextRow() int {
	r := g.row
	for g.null != nil && r < g.p.rows && g.null[r] {
		r++
	}
	return r
}
