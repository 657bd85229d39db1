package orca

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"runtime"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
)

// Pages larger than bigPage (uncompressed) in PLAIN or DELTA_*_BYTE_ARRAY encoding are streamed. Some
// writers (DuckDB) put a whole row group's column in one page of up to 100 MB; decoding such a page in
// one piece would hold it twice (compressed and decompressed) for every column and page read ahead, and
// on one core. A streamed page has a goroutine of its own that produces the decompressed body as a
// sequence of pieces of about pieceBytes and cuts the values out of them into segments, which the
// assembler consumes in order:
//   - Snappy (what DuckDB, pyarrow and arrow-rs write by default): with few workers, decoded in one
//     pass by the page goroutine, keeping 64 KiB of history for back-references (snappy.go). With many,
//     cut into pieces for the decode workers: the C++ and Rust encoders compress in independent 64 KiB
//     fragments, so the block can be cut at fragment boundaries into pieces that are valid blocks by
//     themselves; a scan of the element tags finds the cuts, and the workers decompress the pieces in
//     parallel. Either way a block whose back-references reach further is decoded whole instead
//     (errSnappyFarCopy).
//   - zstd, gzip, brotli: decompressed sequentially by a streaming decoder, a piece at a time.
//   - uncompressed: read a piece at a time.
//   - LZ4: decoded whole.
//
// Values lying inside one piece point into it (no copy); a value crossing pieces is copied.
var (
	// bigPage and pieceBytes are variables so that tests can stream small pages in many pieces.
	bigPage    = 4 << 20
	pieceBytes = 1 << 20
)

const (
	// streamCost is what an open streamed page costs beyond its pieces (input buffer, decoder state).
	streamCost = 2 << 20
	// snappyFragment is the fragment size of the C++ and Rust Snappy encoders.
	snappyFragment = 1 << 16
	// piecesAhead bounds the Snappy pieces one page has submitted and not yet parsed.
	piecesAhead = 8
)

var errSnappyFarCopy = errors.New("snappy block does not split into independent fragments")

// segment is a run of decoded rows of a streamed page.
type segment struct {
	first int64
	vals  []string
	null  []bool
	cost  int64
	err   error
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
	sent := 0 // rows already sent: a retry (whole page, after a Snappy block that does not cut) skips them
	err := s.streamOnce(p, body, false, &sent)
	if errors.Is(err, errSnappyFarCopy) {
		s.stats.WholeFallback.Add(1)
		err = s.streamOnce(p, body, true, &sent)
	}
	if err != nil {
		select {
		case p.segs <- &segment{first: p.first + int64(sent), err: err}:
		case <-s.ctx.Done():
		}
	}
}

// pieceSource yields a streamed page's decompressed body in order.
type pieceSource interface {
	// next returns the next piece and the read-ahead bytes charged for it; io.EOF after the last.
	next() ([]byte, int64, error)
	// close stops the source and returns the budget of pieces produced but not returned.
	close()
}

// streamOnce decodes p from its start, sending segments for rows from *sent on.
func (s *Scanner) streamOnce(p *colPage, body int64, whole bool, sent *int) error {
	h := &p.hdr
	n := p.rows
	end := body + int64(h.compressedSize)
	g := &segmenter{s: s, p: p, skip: *sent}
	defer func() { *sent = g.skip }()
	r := &pieceReader{g: g}
	g.r = r
	defer func() {
		r.close()
		s.release(g.cost) // pieces finished but not sent (on errors)
		g.cost = 0
	}()

	nonNull := n
	if h.typ == pageDataV2 {
		lv := int64(h.repLevelsLen) + int64(h.defLevelsLen)
		if h.repLevelsLen < 0 || h.defLevelsLen < 0 || lv > int64(h.compressedSize) || lv > int64(h.uncompressedSize) {
			return fmt.Errorf("data page v2 level lengths (%d, %d) out of range", h.repLevelsLen, h.defLevelsLen)
		}
		if p.maxDef > 0 {
			buf := make([]byte, h.defLevelsLen)
			if err := readFull(s.f.r, buf, body+int64(h.repLevelsLen)); err != nil {
				return fmt.Errorf("reading definition levels: %w", err)
			}
			var err error
			if nonNull, err = decodeLevels(buf, p.maxDef, n, &g.null); err != nil {
				return err
			}
		}
		codec := p.codec
		if !h.v2Compressed {
			codec = codecUncompressed
		}
		src, err := s.openPieces(g, codec, body+lv, end, int(int64(h.uncompressedSize)-lv), whole)
		if err != nil {
			return err
		}
		r.src = src
	} else {
		src, err := s.openPieces(g, p.codec, body, end, int(h.uncompressedSize), whole)
		if err != nil {
			return err
		}
		r.src = src
		if p.maxDef > 0 {
			switch h.defEncoding {
			case encRLE:
				b, err := r.take(4)
				if err != nil {
					return fmt.Errorf("definition levels: %w", err)
				}
				l := int(binary.LittleEndian.Uint32(b))
				if l < 0 || l > int(h.uncompressedSize) {
					return fmt.Errorf("definition levels: length %d runs past the page", l)
				}
				lv, err := r.take(l)
				if err != nil {
					return fmt.Errorf("definition levels: %w", err)
				}
				if nonNull, err = decodeLevels(lv, p.maxDef, n, &g.null); err != nil {
					return err
				}
			case encBitPacked:
				lv, err := r.take((n*bits.Len(uint(p.maxDef)) + 7) / 8)
				if err != nil {
					return fmt.Errorf("definition levels: %w", err)
				}
				if nonNull, _, err = decodeBitPackedLevels(lv, p.maxDef, n, &g.null); err != nil {
					return err
				}
			default:
				return fmt.Errorf("definition level encoding %s not supported", encodingName(h.defEncoding))
			}
		}
	}
	var err error
	switch h.encoding {
	case encPlain:
		err = g.plain(nonNull)
	case encDeltaLengthBytes:
		lens, e := deltaDecode(r, nonNull, nil)
		if e != nil {
			return fmt.Errorf("DELTA_LENGTH_BYTE_ARRAY lengths: %w", e)
		}
		err = g.lengths(lens, nil)
	case encDeltaByteArray:
		prefix, e := deltaDecode(r, nonNull, nil)
		if e != nil {
			return fmt.Errorf("DELTA_BYTE_ARRAY prefix lengths: %w", e)
		}
		suffix, e := deltaDecode(r, nonNull, nil)
		if e != nil {
			return fmt.Errorf("DELTA_BYTE_ARRAY suffix lengths: %w", e)
		}
		err = g.lengths(suffix, prefix)
	default:
		return fmt.Errorf("encoding %s not supported for streaming", encodingName(h.encoding))
	}
	if err != nil {
		return err
	}
	return g.finish()
}

// readFull reads len(b) bytes at off; a short read is a truncated file.
func readFull(f io.ReaderAt, b []byte, off int64) error {
	n, err := f.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return fmt.Errorf("file ends at byte %d, wanted bytes %d..%d: truncated file", off+int64(n), off, off+int64(len(b)))
	}
	return err
}

// openPieces returns the source of the page body [off, end) in the file, size bytes decompressed.
func (s *Scanner) openPieces(g *segmenter, codec int32, off, end int64, size int, whole bool) (pieceSource, error) {
	if size < 0 {
		return nil, fmt.Errorf("uncompressed size %d", size)
	}
	sec := io.NewSectionReader(s.f.r, off, end-off)
	rp := &readerPieces{g: g, left: size, name: codecName(codec)}
	switch {
	case codec == codecUncompressed:
		if end-off != int64(size) {
			return nil, fmt.Errorf("uncompressed page holds %d bytes, header says %d", end-off, size)
		}
		rp.r = sec
		return rp, nil
	case codec == codecSnappy && !whole && s.o.Workers > snappyParallelAbove && runtime.GOMAXPROCS(0) > snappyParallelAbove:
		return newSnappyPieces(s, g, off, end, size)
	case codec == codecSnappy && !whole:
		return newSnappyStream(s, g, off, end, size)
	case codec == codecZstd && !whole:
		d, err := zstd.NewReader(sec, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(size)+1<<20))
		if err != nil {
			return nil, fmt.Errorf("decompressing ZSTD page: %w", err)
		}
		rp.r, rp.closeFn = d, d.Close
		return rp, nil
	case codec == codecGzip && !whole:
		d, err := gzip.NewReader(sec)
		if err != nil {
			return nil, fmt.Errorf("decompressing GZIP page: %w", err)
		}
		rp.r = d
		return rp, nil
	case codec == codecBrotli && !whole:
		rp.r = brotli.NewReader(sec)
		return rp, nil
	}
	// Whole page in memory.
	if err := g.acquire(int64(end-off) + int64(size)); err != nil {
		return nil, err
	}
	raw := make([]byte, end-off)
	if err := readFull(s.f.r, raw, off); err != nil {
		s.release(int64(end-off) + int64(size))
		return nil, fmt.Errorf("reading page: %w", err)
	}
	dst := make([]byte, size)
	if err := decompress(codec, dst, raw); err != nil {
		s.release(int64(end-off) + int64(size))
		return nil, fmt.Errorf("decompressing %s page: %w", codecName(codec), err)
	}
	s.release(int64(end - off)) // the compressed copy is garbage now
	return &memoryPiece{s: s, b: dst, cost: int64(size)}, nil
}

// memoryPiece is a whole decompressed page as its only piece.
type memoryPiece struct {
	s    *Scanner
	b    []byte
	cost int64
}

func (m *memoryPiece) next() ([]byte, int64, error) {
	if m.b == nil {
		return nil, 0, io.EOF
	}
	b, c := m.b, m.cost
	m.b, m.cost = nil, 0
	return b, c, nil
}

func (m *memoryPiece) close() {
	m.s.release(m.cost)
	m.cost = 0
}

// readerPieces reads pieces from a (decompressing) reader.
type readerPieces struct {
	g       *segmenter
	r       io.Reader
	closeFn func()
	left    int
	name    string
}

func (rp *readerPieces) next() ([]byte, int64, error) {
	if rp.left == 0 {
		return nil, 0, io.EOF
	}
	n := min(pieceBytes, rp.left)
	if err := rp.g.acquire(int64(n)); err != nil {
		return nil, 0, err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(rp.r, b); err != nil {
		rp.g.s.release(int64(n))
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, 0, fmt.Errorf("%s page decodes to fewer bytes than its header says", rp.name)
		}
		return nil, 0, fmt.Errorf("decompressing %s page: %w", rp.name, err)
	}
	rp.left -= n
	return b, int64(n), nil
}

func (rp *readerPieces) close() {
	if rp.closeFn != nil {
		rp.closeFn()
	}
}

// snappyPieces cuts one Snappy block into independently decodable pieces (see the top of this file)
// and has the decode workers decompress them.
type snappyPieces struct {
	snappyInput
	s     *Scanner
	g     *segmenter
	total int // decoded size
	out   int // decoded bytes covered by the pieces cut so far (and the element scan)
	queue []*snappyPiece
	err   error // a cut that failed while reading ahead, reported after the pieces before it
}

type snappyPiece struct {
	comp []byte // preamble + elements (pooled)
	out  []byte
	cost int64
	err  error
	done chan struct{}
}

func newSnappyPieces(s *Scanner, g *segmenter, off, end int64, size int) (*snappyPieces, error) {
	sp := &snappyPieces{snappyInput: snappyInput{r: s.f.r, off: off, end: end}, s: s, g: g, total: size}
	if err := sp.open(size); err != nil {
		return nil, fmt.Errorf("decompressing SNAPPY page: %w", err)
	}
	return sp, nil
}

// snappyTag gives, for each element tag, the input bytes the element takes (header, plus data for
// a literal) and the output bytes it makes; in is 0 for literals with a length field (the slow path).
var snappyTag = func() (t [256]struct{ in, out uint8 }) {
	for tag := range 256 {
		x := tag >> 2
		switch tag & 3 {
		case 0:
			if x < 60 {
				t[tag].in, t[tag].out = uint8(1+x+1), uint8(x+1)
			}
		case 1:
			t[tag].in, t[tag].out = 2, uint8(4+x&7)
		case 2:
			t[tag].in, t[tag].out = 3, uint8(1+x)
		case 3:
			t[tag].in, t[tag].out = 5, uint8(1+x)
		}
	}
	return t
}()

// cut scans element tags from sp.ip up to a fragment boundary at least pieceBytes on and returns the
// piece's output size and its input span [start, sp.ip) (start is 0 after refills). It does not check
// back-references: the decoder does, and a piece that fails to decode sends the page down the
// whole-page path, which tells a corrupt block from one that does not cut.
func (sp *snappyPieces) cut() (outLen int, start int, err error) {
	start = sp.ip
	from := sp.out
	stop := min(sp.total, from+pieceBytes)
	for {
		// Fast scan: the element and, for a short literal, its data are buffered.
		in, ip, out := sp.in, sp.ip, sp.out
		for ip+64 <= len(in) && out < stop {
			t := snappyTag[in[ip]]
			if t.in == 0 {
				break
			}
			ip += int(t.in)
			out += int(t.out)
		}
		sp.ip, sp.out = ip, out
		if out >= stop {
			switch {
			case out > sp.total:
				return 0, 0, fmt.Errorf("elements decode to more than the block's %d bytes", sp.total)
			case out == sp.total, out%snappyFragment == 0, out-from >= 4*pieceBytes:
				return out - from, start, nil
			}
			stop = min(sp.total, (out+snappyFragment-1)&^(snappyFragment-1))
			continue
		}
		if err := sp.element(&start); err != nil {
			return 0, 0, err
		}
	}
}

// element scans one element near the end of the buffered input or with a long literal, refilling as
// needed.
func (sp *snappyPieces) element(start *int) error {
	if len(sp.in)-sp.ip < 5 && sp.off < sp.end {
		if err := sp.refill(*start); err != nil {
			return err
		}
		*start = 0
	}
	if sp.ip >= len(sp.in) {
		return errors.New("input ends before the block does")
	}
	in := sp.in[sp.ip:]
	tag := in[0]
	var length, hdr int
	switch tag & 3 {
	case 0:
		x := int(tag >> 2)
		hdr = 1
		if x >= 60 {
			nb := x - 59
			if len(in) < 1+nb {
				return errors.New("literal length truncated")
			}
			x = 0
			for i := 0; i < nb; i++ {
				x |= int(in[1+i]) << (8 * i)
			}
			hdr += nb
		}
		length = x + 1
		if length > sp.total-sp.out {
			return errors.New("literal longer than the block")
		}
		for len(sp.in)-sp.ip < hdr+length {
			if sp.off >= sp.end {
				return errors.New("literal runs past the input")
			}
			if err := sp.refill(*start); err != nil {
				return err
			}
			*start = 0
		}
		sp.ip += hdr + length
		sp.out += length
		return nil
	case 1:
		hdr = 2
	case 2:
		hdr = 3
	case 3:
		hdr = 5
	}
	if len(in) < hdr {
		return errors.New("copy truncated")
	}
	sp.ip += hdr
	sp.out += int(snappyTag[tag].out)
	return nil
}

// submit cuts the next piece and queues it for decoding. With force it waits for budget (the caller
// needs the piece); otherwise it returns false when the budget is spent.
func (sp *snappyPieces) submit(force bool) (bool, error) {
	// The budget is charged before the scan, for the most a piece can hold.
	est := int64(min(pieceBytes+snappyFragment, sp.total-sp.out))
	if force {
		if err := sp.g.acquire(est); err != nil {
			return false, err
		}
	} else if !sp.s.tryAdmit(est) {
		return false, nil
	}
	outLen, start, err := sp.cut()
	if err != nil {
		sp.s.release(est)
		return false, fmt.Errorf("decompressing SNAPPY page: %w", err)
	}
	span := sp.ip - start
	comp := getBuf(binary.MaxVarintLen64 + span)
	k := binary.PutUvarint(comp, uint64(outLen))
	copy(comp[k:], sp.in[start:sp.ip])
	pc := &snappyPiece{comp: comp[:k+span], out: make([]byte, outLen), cost: est, done: make(chan struct{})}
	if int64(outLen) > est {
		sp.s.charge(int64(outLen) - est)
		pc.cost = int64(outLen)
	}
	sp.queue = append(sp.queue, pc)
	sp.s.stats.SnappyPieces.Add(1)
	if err := sp.s.submit(task{piece: pc}); err != nil {
		return false, err
	}
	return true, nil
}

func (sp *snappyPieces) next() ([]byte, int64, error) {
	if len(sp.queue) == 0 {
		if sp.err != nil {
			return nil, 0, sp.err
		}
		if sp.out >= sp.total {
			return nil, 0, io.EOF
		}
		if _, err := sp.submit(true); err != nil {
			sp.err = err
			return nil, 0, err
		}
	}
	for sp.err == nil && len(sp.queue) < piecesAhead && sp.out < sp.total {
		ok, err := sp.submit(false)
		if err != nil {
			sp.err = err // reported once the pieces before it are used
			break
		}
		if !ok {
			break
		}
	}
	pc := sp.queue[0]
	select {
	case <-pc.done:
	case <-sp.s.ctx.Done():
		return nil, 0, sp.s.ctx.Err()
	}
	sp.queue[0] = nil
	sp.queue = sp.queue[1:]
	if pc.err != nil {
		// A corrupt block, or one whose back-references cross the cut: the whole-page path decides.
		sp.s.release(pc.cost)
		sp.err = fmt.Errorf("%w: %v", errSnappyFarCopy, pc.err)
		return nil, 0, sp.err
	}
	return pc.out, pc.cost, nil
}

func (sp *snappyPieces) close() {
	for _, pc := range sp.queue {
		select {
		case <-pc.done:
		case <-sp.s.ctx.Done():
		}
		sp.s.release(pc.cost)
	}
	sp.queue = nil
}

// decode decompresses one piece (on a decode worker).
func (pc *snappyPiece) decode() {
	out, err := snappy.Decode(pc.out, pc.comp)
	switch {
	case err != nil:
		pc.err = err
	case len(out) != len(pc.out) || (len(out) > 0 && &out[0] != &pc.out[0]):
		pc.err = fmt.Errorf("piece decoded to %d bytes, want %d", len(out), len(pc.out))
	}
	putBuf(pc.comp)
	pc.comp = nil
	close(pc.done)
}

// pieceReader reads a streamed page body across its pieces.
type pieceReader struct {
	g       *segmenter
	src     pieceSource
	cur     []byte
	pos     int
	curCost int64
	scratch []byte
}

// more moves to the next piece; the finished one's budget goes to the open segment.
func (r *pieceReader) more() error {
	if r.src == nil {
		return io.ErrUnexpectedEOF
	}
	b, cost, err := r.src.next()
	if err == io.EOF {
		return errors.New("page body ends early")
	}
	if err != nil {
		return err
	}
	r.g.cost += r.curCost
	r.cur, r.pos, r.curCost = b, 0, cost
	return nil
}

func (r *pieceReader) close() {
	if r.src != nil {
		r.src.close()
	}
	r.g.s.release(r.curCost)
	r.curCost = 0
}

// take returns the next n bytes: a view into the piece, or a copy when they cross pieces.
func (r *pieceReader) take(n int) ([]byte, error) {
	if n <= len(r.cur)-r.pos {
		b := r.cur[r.pos : r.pos+n]
		r.pos += n
		return b, nil
	}
	if cap(r.scratch) < n {
		r.scratch = make([]byte, n)
	}
	b := r.scratch[:n]
	if err := r.fill(b); err != nil {
		return nil, err
	}
	return b, nil
}

// fill copies the next len(b) bytes into b.
func (r *pieceReader) fill(b []byte) error {
	for len(b) > 0 {
		if r.pos == len(r.cur) {
			if err := r.more(); err != nil {
				return err
			}
		}
		n := copy(b, r.cur[r.pos:])
		r.pos += n
		b = b[n:]
	}
	return nil
}

// str returns the next n bytes as a string pointing into the piece when possible.
func (r *pieceReader) str(n int) (string, error) {
	if n == 0 {
		return "", nil
	}
	if r.pos == len(r.cur) {
		if err := r.more(); err != nil {
			return "", err
		}
	}
	if n <= len(r.cur)-r.pos {
		v := str(r.cur[r.pos : r.pos+n])
		r.pos += n
		return v, nil
	}
	if err := r.g.reserve(n); err != nil {
		return "", err
	}
	b := make([]byte, n)
	if err := r.fill(b); err != nil {
		return "", err
	}
	return str(b), nil
}

// uvarint and chunk make pieceReader the delta decoder's byteSource.
func (r *pieceReader) uvarint() (uint64, bool) {
	var x uint64
	for shift := uint(0); shift < 64; shift += 7 {
		b, err := r.take(1)
		if err != nil {
			return 0, false
		}
		x |= uint64(b[0]&0x7f) << shift
		if b[0] < 0x80 {
			return x, true
		}
	}
	return 0, false
}

func (r *pieceReader) chunk(n int) ([]byte, bool) {
	b, err := r.take(n)
	return b, err == nil
}

// segmenter cuts a streamed page's rows into segments and sends them to the assembler.
type segmenter struct {
	s    *Scanner
	p    *colPage
	r    *pieceReader
	null []bool
	skip int // rows sent by an earlier attempt: decoded again, not sent
	row  int // next row of the page
	// the open segment
	first int // its first row (page-relative)
	vals  []string
	cost  int64 // budget of finished pieces, handed to the assembler with the segment
	extra int64 // bytes of values copied across pieces
}

// acquire charges the budget for a piece about to be produced. If it has to wait, the rows decoded so
// far are sent first: the assembler may be waiting for them, and the budget it frees lets us go on.
func (g *segmenter) acquire(cost int64) error {
	if g.s.tryAdmit(cost) {
		return nil
	}
	if err := g.flush(); err != nil {
		return err
	}
	if !g.s.admit(cost, g.p.first+int64(g.row)) {
		return g.s.ctx.Err()
	}
	return nil
}

// reserve accounts for n bytes about to be allocated for the next value. A value larger than a piece
// waits for budget like a piece (so a page of 100 MB values holds one of them at a time, not as many as
// fit before the assembler catches up); smaller ones are charged when their segment is sent.
func (g *segmenter) reserve(n int) error {
	if n <= pieceBytes {
		g.extra += int64(n)
		return nil
	}
	if err := g.acquire(int64(n)); err != nil {
		return err
	}
	g.cost += int64(n)
	return nil
}

// nulls adds the NULL rows before the next value.
func (g *segmenter) nulls() {
	for g.null != nil && g.row < g.p.rows && g.null[g.row] {
		if g.row >= g.skip {
			g.vals = append(g.vals, "")
		}
		g.row++
		if g.row <= g.skip {
			g.first = g.row
		}
	}
}

// add appends the next non-null value.
func (g *segmenter) add(v string) error {
	if g.row >= g.skip {
		g.vals = append(g.vals, v)
	}
	g.row++
	if g.row <= g.skip {
		g.first = g.row
	}
	if g.cost > 0 || len(g.vals) >= 1<<16 {
		return g.flush()
	}
	return nil
}

// flush sends the open segment.
func (g *segmenter) flush() error {
	if len(g.vals) == 0 {
		if g.cost > 0 {
			g.s.release(g.cost)
			g.cost = 0
		}
		return nil
	}
	extra := g.extra + 16*int64(cap(g.vals))
	g.s.charge(extra)
	seg := &segment{first: g.p.first + int64(g.first), vals: g.vals, cost: g.cost + extra}
	if g.null != nil {
		seg.null = g.null[g.first:g.row]
	}
	g.first, g.vals, g.cost, g.extra = g.row, nil, 0, 0
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
	g.nulls()
	if g.row != g.p.rows {
		return fmt.Errorf("page ends after %d of %d rows", g.row, g.p.rows)
	}
	g.cost += g.r.curCost
	g.r.curCost = 0
	return g.flush()
}

func (g *segmenter) value(i, of int, n int) error {
	g.nulls()
	if g.row >= g.p.rows {
		return fmt.Errorf("more values than the %d rows' definition levels allow", g.p.rows)
	}
	v, err := g.r.str(n)
	if err != nil {
		return fmt.Errorf("value %d of %d: %w", i, of, err)
	}
	return g.add(v)
}

// plain reads nonNull PLAIN values.
func (g *segmenter) plain(nonNull int) error {
	limit := int(g.p.hdr.uncompressedSize)
	for i := 0; i < nonNull; i++ {
		b, err := g.r.take(4)
		if err != nil {
			return fmt.Errorf("PLAIN value %d of %d: length: %w", i, nonNull, err)
		}
		l := int(binary.LittleEndian.Uint32(b))
		if l < 0 || l > limit {
			return fmt.Errorf("PLAIN value %d of %d: length %d runs past the page", i, nonNull, l)
		}
		if err := g.value(i, nonNull, l); err != nil {
			return err
		}
	}
	return nil
}

// lengths reads values whose (suffix) lengths are known; with prefix, each value starts with that many
// bytes of the previous one (DELTA_BYTE_ARRAY) and is rebuilt in a buffer of its own.
func (g *segmenter) lengths(lens, prefix []int64) error {
	limit := int64(g.p.hdr.uncompressedSize)
	if prefix == nil {
		for i, l := range lens {
			if l < 0 || l > limit {
				return fmt.Errorf("value %d of %d: length %d runs past the page", i, len(lens), l)
			}
			if err := g.value(i, len(lens), int(l)); err != nil {
				return err
			}
		}
		return nil
	}
	var prev string
	var buf []byte
	for i, l := range lens {
		pl := prefix[i]
		if pl < 0 || pl > int64(len(prev)) {
			return fmt.Errorf("DELTA_BYTE_ARRAY value %d: prefix %d longer than the previous value (%d)", i, pl, len(prev))
		}
		if l < 0 || l > limit {
			return fmt.Errorf("value %d of %d: length %d runs past the page", i, len(lens), l)
		}
		g.nulls()
		if g.row >= g.p.rows {
			return fmt.Errorf("more values than the %d rows' definition levels allow", g.p.rows)
		}
		n := int(pl + l)
		if len(buf)+n > cap(buf) {
			if err := g.reserve(max(n, 64<<10)); err != nil {
				return err
			}
			buf = make([]byte, 0, max(n, 64<<10))
		}
		start := len(buf)
		buf = append(buf, prev[:pl]...)
		buf = buf[:start+n]
		if err := g.r.fill(buf[start+int(pl):]); err != nil {
			return fmt.Errorf("value %d of %d: %w", i, len(lens), err)
		}
		prev = str(buf[start:])
		if err := g.add(prev); err != nil {
			return err
		}
	}
	return nil
}
