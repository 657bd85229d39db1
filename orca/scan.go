package orca

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// ScanOptions say what a Scanner reads and how much work it may have in flight.
type ScanOptions struct {
	// From and To select row groups [From, To); To ≤ 0 means through the last one.
	From, To int
	// IDsOnly reads only the id column (other fields stay empty): enough to account for rows not used.
	IDsOnly bool
	// Fields, when not nil, are the columns read besides id (names from Columns; the others stay empty):
	// near-dedupe's first read needs only the id and the question.
	Fields []string
	// BatchRows caps the rows per batch (default 1024).
	BatchRows int
	// BatchBytes ends a batch early once its text reaches this many bytes (default 4 MiB), so huge
	// values make small batches instead of huge ones. A batch always holds at least one row.
	BatchBytes int
	// Workers is the number of goroutines decompressing and decoding pages (default GOMAXPROCS).
	Workers int
	// ReadAhead bounds the bytes of pages read and decoded ahead of the batch being assembled
	// (default 64 MiB). A page the next batch needs is always admitted, so one page larger than
	// this is read on its own; beyond that, memory does not grow with page or row-group size.
	ReadAhead int64
}

const (
	defaultBatchRows  = 1024
	defaultBatchBytes = 4 << 20
	defaultReadAhead  = 32 << 20
	// Pages are handed to decode workers in tasks of up to this many bytes (or taskPages pages), so
	// files with tiny pages (one-row row groups) do not pay a channel hand-off per page.
	taskBytes = 256 << 10
	taskPages = 64
	// Row groups whose projected column chunks span at most this many bytes are read with one
	// ReadAt; larger chunks are read page by page.
	smallSpan = 1 << 20
	// First read of a page header; grown (up to maxHeader) when a header carries large statistics.
	headerWindow = 16 << 10
	maxHeader    = 16 << 20
)

// A Scanner streams the records of a range of row groups of one File in order, in batches. A reader
// goroutine reads raw page bytes (the only I/O), decode workers decompress and decode whole pages in
// parallel, and Next assembles rows from the decoded pages in file order, so the result does not depend
// on the number of workers. Memory is bounded by ReadAhead bytes of pages plus what the caller keeps of
// the returned strings (they point into decoded page buffers, which are never reused; keep them as
// long as needed, clone them to keep small pieces of big pages).
type Scanner struct {
	f    *File
	o    ScanOptions
	cols []scanCol
	ctx  context.Context
	stop context.CancelFunc

	stats ScanStats

	pages chan *colPage // planner → assembler, in planning order
	work  chan task
	wg    sync.WaitGroup

	mu       sync.Mutex
	cond     *sync.Cond
	inflight int64 // read-ahead bytes charged and not yet released
	asmPos   int64 // file row the assembler needs next
	quit     bool
	planErr  error // planner failure, reported when the assembler reaches it

	// assembler state (Next's goroutine only)
	queue [][]*colPage // per column, planned pages not yet current
	cur   []cursor
	pos   int64 // next file row to assemble
	end   int64 // file row after the last one of the range
	recs  []Record
	err   error
}

// ScanStats counts what a Scanner did (for benchmarks and tests).
type ScanStats struct {
	Pages         atomic.Int64 // data pages
	Streamed      atomic.Int64 // data pages decoded as a stream (bigger than bigPage)
	SnappyPieces  atomic.Int64 // Snappy pieces decoded in parallel
	WholeFallback atomic.Int64 // streamed pages decoded whole after all (Snappy block that does not cut)
}

// Stats returns the scanner's counters (safe to call at any time).
func (s *Scanner) Stats() *ScanStats { return &s.stats }

// scanCol is one projected column.
type scanCol struct {
	name   string
	field  int   // index in Columns: which Record field it fills
	bit    uint8 // Record.Nulls bit
	leaf   int   // column index in the file's row groups
	maxDef int
}

// Scan starts reading row groups o.From..o.To of f. Call Next until io.EOF (or an error), then Close.
func (f *File) Scan(ctx context.Context, o ScanOptions) (*Scanner, error) {
	groups := f.groups
	if o.To <= 0 || o.To > len(groups) {
		o.To = len(groups)
	}
	if o.From < 0 || o.From > o.To {
		return nil, fmt.Errorf("read %s: row groups %d..%d out of range (file has %d)", f.Path, o.From, o.To, len(groups))
	}
	if o.BatchRows <= 0 {
		o.BatchRows = defaultBatchRows
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = defaultBatchBytes
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.ReadAhead <= 0 {
		o.ReadAhead = defaultReadAhead
	}
	s := &Scanner{f: f, o: o}
	s.cond = sync.NewCond(&s.mu)
	for i, name := range Columns {
		if i > 0 && (o.IDsOnly || o.Fields != nil && !slices.Contains(o.Fields, name)) {
			continue
		}
		if !f.cols[i].found {
			return nil, fmt.Errorf("read %s: %w: missing column %q", f.Path, ErrSchema, name)
		}
		s.cols = append(s.cols, scanCol{name: name, field: i, bit: 1 << i, leaf: f.cols[i].leaf, maxDef: f.cols[i].maxDef})
	}
	for rg := 0; rg < o.To; rg++ {
		if rg == o.From {
			s.pos = s.end
		}
		s.end += groups[rg].rows
	}
	if o.From == o.To {
		s.pos = s.end
	}
	s.asmPos = s.pos
	s.queue = make([][]*colPage, len(s.cols))
	s.cur = make([]cursor, len(s.cols))
	s.ctx, s.stop = context.WithCancel(ctx)
	s.pages = make(chan *colPage, 4096)
	s.work = make(chan task, 2*o.Workers)
	context.AfterFunc(s.ctx, func() {
		s.mu.Lock()
		s.quit = true
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	s.wg.Add(1 + o.Workers)
	go s.plan()
	for range o.Workers {
		go s.decodeLoop()
	}
	return s, nil
}

// Each scans o of f and calls fn with every batch, in order, until the end or an error (fn's included).
func (f *File) Each(ctx context.Context, o ScanOptions, fn func([]Record) error) error {
	s, err := f.Scan(ctx, o)
	if err != nil {
		return err
	}
	defer s.Close()
	for {
		recs, err := s.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(recs); err != nil {
			return err
		}
	}
}

// Close stops the scanner's goroutines and waits for them; the File may be closed afterwards.
func (s *Scanner) Close() {
	s.stop()
	s.wg.Wait()
	for _, q := range s.queue {
		clear(q)
	}
	clear(s.cur)
	clear(s.recs)
}

// task is a unit of decode work: a run of small pages, or a piece of a streamed Snappy page.
type task struct {
	pages []*colPage
	piece *snappyPiece
}

// submit hands t to the decode workers.
func (s *Scanner) submit(t task) error {
	select {
	case s.work <- t:
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

// decodeLoop is a decode worker. Workers stop when the scan is closed (not when the planner ends:
// streamed pages still hand them pieces).
func (s *Scanner) decodeLoop() {
	defer s.wg.Done()
	var scratch decodeScratch
	for {
		var t task
		select {
		case t = <-s.work:
		case <-s.ctx.Done():
			return
		}
		if t.piece != nil {
			t.piece.decode()
			continue
		}
		for _, p := range t.pages {
			if s.ctx.Err() != nil {
				p.err = s.ctx.Err()
			} else {
				p.decode(&scratch)
			}
			if p.ready != nil {
				close(p.ready)
			}
		}
		close(t.pages[0].done)
	}
}

// cursor is the assembler's position in one column: the decoded rows [first, end) it reads from.
type cursor struct {
	page       *colPage
	first, end int64
	vals       []string
	idx        []uint32 // instead of vals, for dictionary-encoded pages: indexes into dict
	dict       []string
	null       []bool
	cost       int64 // released when the cursor leaves these rows
	pageCost   int64 // released when the cursor leaves the page (streamed pages)
}

// Next returns the next batch of records in file order, or io.EOF after the last. The slice and the
// Records in it are reused by the following call; the strings are not.
func (s *Scanner) Next() ([]Record, error) {
	if s.err != nil {
		return nil, s.err
	}
	if s.pos >= s.end {
		s.err = io.EOF
		return nil, s.err
	}
	n := min(int64(s.o.BatchRows), s.end-s.pos)
	if cap(s.recs) < int(n) {
		s.recs = make([]Record, n)
	}
	recs := s.recs[:n]
	bytes := 0
	i := 0
	for i < len(recs) {
		r := &recs[i]
		*r = Record{File: s.f.Index, Row: s.pos}
		for c := range s.cols {
			cur := &s.cur[c]
			if s.pos >= cur.end {
				if err := s.advance(c); err != nil {
					s.err = err
					clear(recs)
					return nil, err
				}
			}
			k := int(s.pos - cur.first)
			var v string
			switch {
			case cur.null != nil && cur.null[k]:
				r.Nulls |= s.cols[c].bit
			case cur.idx != nil:
				v = cur.dict[cur.idx[k]]
			default:
				v = cur.vals[k]
			}
			switch s.cols[c].field {
			case 0:
				r.ID = v
			case 1:
				r.SystemPrompt = v
			case 2:
				r.Question = v
			case 3:
				r.Response = v
			}
			bytes += len(v)
		}
		s.pos++
		i++
		if bytes >= s.o.BatchBytes {
			break
		}
	}
	s.publish()
	return recs[:i], nil
}

// publish tells waiting producers which row assembly needs next (it is admitted whatever the budget).
func (s *Scanner) publish() {
	s.mu.Lock()
	if s.asmPos != s.pos {
		s.asmPos = s.pos
		s.cond.Broadcast()
	}
	s.mu.Unlock()
}

// advance moves column c's cursor to the rows starting at s.pos: the next segment of a streamed page,
// or the next page.
func (s *Scanner) advance(c int) error {
	cur := &s.cur[c]
	s.release(cur.cost)
	cur.cost, cur.vals, cur.idx, cur.dict, cur.null = 0, nil, nil, nil, nil
	p := cur.page
	if p == nil || p.segs == nil || s.pos >= p.first+int64(p.rows) {
		s.release(cur.pageCost)
		*cur = cursor{}
		var err error
		if p, err = s.nextPage(c); err != nil {
			return err
		}
		cur.page = p
		if p.segs == nil {
			select {
			case <-p.done:
			case <-s.ctx.Done():
				return s.ctx.Err()
			}
			if p.err != nil {
				return s.pageError(p, p.err)
			}
			cur.first, cur.end, cur.vals, cur.null, cur.cost = p.first, p.first+int64(p.rows), p.vals, p.null, p.cost
			if p.idx != nil {
				cur.idx, cur.dict = p.idx, p.dict.vals
			}
			return s.check(cur)
		}
		cur.pageCost = p.cost
	}
	s.publish()
	var seg *segment
	select {
	case seg = <-p.segs:
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
	if seg == nil {
		return s.pageError(p, errors.New("internal error: page stream ended early"))
	}
	if seg.err != nil {
		return s.pageError(p, seg.err)
	}
	cur.first, cur.end, cur.vals, cur.null, cur.cost = seg.first, seg.first+int64(len(seg.vals)), seg.vals, seg.null, seg.cost
	return s.check(cur)
}

func (s *Scanner) check(cur *cursor) error {
	rows := len(cur.vals)
	if cur.idx != nil {
		rows = len(cur.idx)
	}
	if s.pos < cur.first || s.pos >= cur.end || rows != int(cur.end-cur.first) || (cur.null != nil && len(cur.null) != rows) {
		return s.pageError(cur.page, fmt.Errorf("internal error: decoded rows %d..%d do not hold row %d", cur.first, cur.end, s.pos))
	}
	return nil
}

// nextPage returns column c's next planned page, taking pages from the planner as needed.
func (s *Scanner) nextPage(c int) (*colPage, error) {
	for len(s.queue[c]) == 0 {
		s.publish()
		select {
		case p, ok := <-s.pages:
			if !ok {
				s.mu.Lock()
				err := s.planErr
				s.mu.Unlock()
				if err == nil {
					if err = s.ctx.Err(); err == nil {
						err = fmt.Errorf("read %s: internal error: column %q has no page for row %d", s.f.Path, s.cols[c].name, s.pos)
					}
				}
				return nil, err
			}
			s.queue[p.col] = append(s.queue[p.col], p)
		case <-s.ctx.Done():
			return nil, s.ctx.Err()
		}
	}
	p := s.queue[c][0]
	s.queue[c][0] = nil
	s.queue[c] = s.queue[c][1:]
	return p, nil
}

func (s *Scanner) pageError(p *colPage, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("read %s row group %d column %q page %d (offset %d, rows %d..%d): %w",
		s.f.Path, p.rg, s.cols[p.col].name, p.num, p.off, p.first, p.first+int64(p.rows)-1, err)
}

func (s *Scanner) release(cost int64) {
	if cost == 0 {
		return
	}
	s.mu.Lock()
	s.inflight -= cost
	s.cond.Broadcast()
	s.mu.Unlock()
}

// admit waits until cost more bytes fit in the read-ahead budget, or the assembler needs the page
// starting at row first (then it is admitted regardless, so the scan never deadlocks). It reports
// false when the scan was stopped.
func (s *Scanner) admit(cost, first int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.quit && s.inflight > 0 && s.inflight+cost > s.o.ReadAhead && first > s.asmPos {
		s.cond.Wait()
	}
	if s.quit {
		return false
	}
	s.inflight += cost
	return true
}

// chunk is the planner's cursor in one column chunk.
type chunk struct {
	col      int
	off, end int64 // next page header, end of the chunk
	buf      []byte
	bufOff   int64 // when the whole chunk (or row group span) was read at once: its bytes and offset
	codec    int32
	next     int64 // file row of the next data page
	last     int64 // file row after the row group
	rows     int64 // rows in the row group
	num      int   // pages seen
	dict     *colPage
	dictCost int64 // read-ahead budget held by the dictionary page until the last data page
	done     bool
}

// planner state
type planner struct {
	s        *Scanner
	task     []*colPage
	taskDone chan struct{} // closed by the worker that decodes the pending task
	taskLen  int
	hdrBuf   []byte
}

// plan is the reader goroutine: it walks the row groups, reads page headers and page bytes, and hands
// pages to the decoders and (in the same order) to the assembler.
func (s *Scanner) plan() {
	defer s.wg.Done()
	pl := &planner{s: s}
	err := pl.run()
	pl.flush()
	if err != nil {
		s.mu.Lock()
		s.planErr = err
		s.mu.Unlock()
	}
	close(s.pages)
}

func (pl *planner) run() error {
	s := pl.s
	row := s.pos
	for rg := s.o.From; rg < s.o.To; rg++ {
		g := &s.f.groups[rg]
		if g.rows < 0 {
			return fmt.Errorf("read %s row group %d: footer says %d rows", s.f.Path, rg, g.rows)
		}
		if g.rows == 0 {
			continue // nothing to read (some writers leave empty chunks with no offsets)
		}
		chunks, err := pl.openChunks(rg, g, row)
		if err != nil {
			return err
		}
		for {
			// Advance the column that is furthest behind, so all columns reach each row together and
			// the read-ahead budget is spent evenly.
			var c *chunk
			for i := range chunks {
				if !chunks[i].done && (c == nil || chunks[i].next < c.next) {
					c = &chunks[i]
				}
			}
			if c == nil {
				break
			}
			if err := pl.step(rg, c); err != nil {
				return fmt.Errorf("read %s row group %d column %q: %w", s.f.Path, rg, s.cols[c.col].name, err)
			}
			if s.ctx.Err() != nil {
				return s.ctx.Err()
			}
		}
		row += g.rows
	}
	return nil
}

// openChunks validates the row group's projected column chunks and, when they are small, reads them
// with one ReadAt.
func (pl *planner) openChunks(rg int, g *groupMeta, first int64) ([]chunk, error) {
	s := pl.s
	chunks := make([]chunk, len(s.cols))
	lo, hi := int64(-1), int64(0)
	var sum int64
	for i, col := range s.cols {
		m := &g.chunks[col.field] // the footer's chunks are in Columns order; s.cols may be a projection
		where := func(msg string, a ...any) error {
			return fmt.Errorf("read %s row group %d column %q: %s", s.f.Path, rg, col.name, fmt.Sprintf(msg, a...))
		}
		switch {
		case m.missing:
			return nil, where("the row group has no chunk for this column")
		case m.filePath != "":
			return nil, where("column data in another file (%q) is not supported", m.filePath)
		case m.encrypted:
			return nil, where("encrypted columns are not supported")
		case !codecSupported(m.codec):
			return nil, where("compression %s is not supported", codecName(m.codec))
		case m.start < 4 || m.end > s.f.Size || m.end < m.start:
			return nil, where("column chunk bytes %d..%d lie outside the file (%d bytes): truncated or corrupt file", m.start, m.end, s.f.Size)
		}
		chunks[i] = chunk{col: i, off: m.start, end: m.end, codec: m.codec, next: first, last: first + g.rows, rows: g.rows}
		if g.rows == 0 {
			chunks[i].done = true
		}
		if lo < 0 || m.start < lo {
			lo = m.start
		}
		hi = max(hi, m.end)
		sum += m.end - m.start
	}
	if g.rows > 0 && hi-lo <= smallSpan && hi-lo <= 2*sum+4096 {
		buf := make([]byte, hi-lo)
		if err := readFull(pl.s.f.r, buf, lo); err != nil {
			return nil, fmt.Errorf("read %s row group %d: %w", s.f.Path, rg, err)
		}
		for i := range chunks {
			chunks[i].buf, chunks[i].bufOff = buf, lo
		}
	}
	return chunks, nil
}

// bytes returns the n bytes at off, from the chunk's buffer when it holds them, else read from the file
// into a pooled buffer (pooled reports which).
func (pl *planner) bytesAt(c *chunk, off int64, n int) (b []byte, pooled bool, err error) {
	if c.buf != nil && off >= c.bufOff && off+int64(n) <= c.bufOff+int64(len(c.buf)) {
		return c.buf[off-c.bufOff : off-c.bufOff+int64(n)], false, nil
	}
	b = getBuf(n)
	if err := readFull(pl.s.f.r, b, off); err != nil {
		putBuf(b)
		return nil, false, err
	}
	return b, true, nil
}

// header reads and parses the page header at c.off.
func (pl *planner) header(c *chunk) (pageHeader, int, error) {
	win := headerWindow
	for {
		n := int(min(int64(win), c.end-c.off))
		var b []byte
		if c.buf != nil && c.off >= c.bufOff && c.off+int64(n) <= c.bufOff+int64(len(c.buf)) {
			b = c.buf[c.off-c.bufOff : c.off-c.bufOff+int64(n)]
		} else {
			if cap(pl.hdrBuf) < n {
				pl.hdrBuf = make([]byte, n)
			}
			b = pl.hdrBuf[:n]
			if err := readFull(pl.s.f.r, b, c.off); err != nil {
				return pageHeader{}, 0, err
			}
		}
		h, hl, err := parsePageHeader(b)
		if errors.Is(err, errThriftShort) && n == win && win < maxHeader {
			win *= 4
			continue
		}
		if err != nil {
			return h, 0, fmt.Errorf("page header at offset %d: %w", c.off, err)
		}
		return h, hl, nil
	}
}

// step plans the next page of chunk c.
func (pl *planner) step(rg int, c *chunk) error {
	s := pl.s
	if c.off >= c.end {
		return fmt.Errorf("column chunk ends after %d of %d rows: truncated or corrupt file", c.rows-(c.last-c.next), c.rows)
	}
	h, hl, err := pl.header(c)
	if err != nil {
		return err
	}
	at := c.off
	body := at + int64(hl)
	if int64(h.compressedSize) > c.end-body {
		return fmt.Errorf("page %d at offset %d: %d bytes run past the column chunk end (%d): truncated or corrupt file", c.num, at, h.compressedSize, c.end)
	}
	c.off = body + int64(h.compressedSize)
	num := c.num
	c.num++
	p := &colPage{col: c.col, rg: rg, num: num, off: at, first: c.next, hdr: h, codec: c.codec, maxDef: s.cols[c.col].maxDef}
	switch h.typ {
	case pageIndex:
		return nil
	case pageDictionary:
		if !h.hasDict {
			return fmt.Errorf("page %d at offset %d: dictionary page without its header", num, at)
		}
		if c.dict != nil {
			return fmt.Errorf("page %d at offset %d: second dictionary page in a column chunk", num, at)
		}
		c.dict = p
		p.ready = make(chan struct{})
	case pageData, pageDataV2:
		rows := int64(h.numValues)
		if h.typ == pageDataV2 {
			if !h.hasDataV2 {
				return fmt.Errorf("page %d at offset %d: data page v2 without its header", num, at)
			}
			rows = int64(h.numRows)
			if h.numValues != h.numRows {
				return fmt.Errorf("page %d at offset %d: %d values in %d rows: repeated values in a flat column", num, at, h.numValues, h.numRows)
			}
		} else if !h.hasData {
			return fmt.Errorf("page %d at offset %d: data page without its header", num, at)
		}
		if rows < 0 || rows > c.last-c.next {
			return fmt.Errorf("page %d at offset %d: %d rows, but only %d rows of the row group are left: corrupt file", num, at, rows, c.last-c.next)
		}
		if rows == 0 {
			return nil
		}
		p.rows = int(rows)
		p.dict = c.dict
		c.next += rows
		if c.next == c.last {
			c.done = true
		}
	default:
		return fmt.Errorf("page %d at offset %d: unknown page type %d", num, at, h.typ)
	}
	if h.uncompressedSize > 1<<30 && int64(h.uncompressedSize) > 64*int64(h.compressedSize)+1<<20 {
		return fmt.Errorf("page %d at offset %d: %d bytes compressed claim %d uncompressed: corrupt header", num, at, h.compressedSize, h.uncompressedSize)
	}
	if p.rows > 0 {
		s.stats.Pages.Add(1)
	}
	if p.streamed() {
		s.stats.Streamed.Add(1)
		// Decoded as it is read by a goroutine of its own (stream.go); nothing is read here.
		p.cost = streamCost
		if !pl.admitOrFlush(p.cost, p.first) {
			return s.ctx.Err()
		}
		pl.chargeDict(c, p)
		p.segs = make(chan *segment, 16)
		s.wg.Add(1)
		go s.streamPage(p, body)
		return pl.send(p)
	}
	// A dictionary page is charged like a data page (the assembler needs it at the chunk's first row),
	// and released with the chunk's last data page: its values are used until then.
	p.cost = int64(h.compressedSize) + int64(h.uncompressedSize)
	if !pl.admitOrFlush(p.cost, p.first) {
		return s.ctx.Err()
	}
	if p.rows == 0 {
		c.dictCost, p.cost = p.cost, 0
	} else {
		pl.chargeDict(c, p)
	}
	raw, pooled, err := pl.bytesAt(c, body, int(h.compressedSize))
	if err != nil {
		s.release(p.cost)
		return fmt.Errorf("page %d at offset %d: %w", num, at, err)
	}
	p.raw, p.pooled = raw, pooled
	return pl.emit(p)
}

// chargeDict hands the chunk's dictionary budget to p when p is the chunk's last data page.
func (pl *planner) chargeDict(c *chunk, p *colPage) {
	if c.done {
		p.cost += c.dictCost
		c.dictCost = 0
	}
}

// admitOrFlush charges the budget, first handing pending pages to the workers if it has to wait (the
// assembler may be waiting for one of them).
func (pl *planner) admitOrFlush(cost, first int64) bool {
	s := pl.s
	s.mu.Lock()
	fits := s.inflight == 0 || s.inflight+cost <= s.o.ReadAhead || first <= s.asmPos
	if fits {
		s.inflight += cost
	}
	s.mu.Unlock()
	if fits {
		return true
	}
	pl.flush()
	return s.admit(cost, first)
}

// emit queues p for decoding and for the assembler.
func (pl *planner) emit(p *colPage) error {
	if len(pl.task) == 0 {
		pl.taskDone = make(chan struct{})
	}
	p.done = pl.taskDone // set before the assembler can see p
	pl.task = append(pl.task, p)
	pl.taskLen += len(p.raw) + int(p.hdr.uncompressedSize)
	if pl.taskLen >= taskBytes || len(pl.task) >= taskPages {
		pl.flush()
	}
	if p.rows == 0 {
		return nil // dictionary pages reach the assembler through the data pages that use them
	}
	return pl.send(p)
}

// send hands p to the assembler; if that has to wait, pending pages go to the workers first (the
// assembler may be waiting for one of them).
func (pl *planner) send(p *colPage) error {
	s := pl.s
	select {
	case s.pages <- p:
		return nil
	default:
	}
	pl.flush()
	select {
	case s.pages <- p:
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

// flush hands the pending task to the decode workers.
func (pl *planner) flush() {
	if len(pl.task) == 0 {
		return
	}
	done := pl.taskDone
	t := pl.task
	pl.task, pl.taskLen, pl.taskDone = nil, 0, nil
	select {
	case pl.s.work <- task{pages: t}:
	case <-pl.s.ctx.Done():
		for _, p := range t {
			p.err = pl.s.ctx.Err()
			if p.ready != nil {
				close(p.ready)
			}
		}
		close(done)
	}
}

// tryAdmit charges cost if it fits in the read-ahead budget now.
func (s *Scanner) tryAdmit(cost int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.quit || (s.inflight > 0 && s.inflight+cost > s.o.ReadAhead) {
		return false
	}
	s.inflight += cost
	return true
}

// charge adds bytes to the read-ahead total without waiting (memory already allocated).
func (s *Scanner) charge(cost int64) {
	s.mu.Lock()
	s.inflight += cost
	s.mu.Unlock()
}
