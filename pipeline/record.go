package pipeline

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/zeebo/xxh3"
)

// The record codec: how a staged map task hands its processed batches to the reduce task. A batch's items
// go to records.bin (every field of item, compactly: the near signature is the Signer's band hashes and
// b-bit codes, never a full MinHash), and their payloads — the rendered line, or the sample's token ids for
// packed output — to payload.bin, which only the write tasks read. In `run` the same items cross from the
// map workers to the reduce in memory. TestRecordCarriesEveryItemField checks that the codec carries every
// field of item.
//
// records.bin: the format line, then per batch uvarint(len(body)) body, then uvarint(0), uvarint(rows),
// uvarint(payload bytes). A batch body: uvarint rows, byte selected, uvarint file, uvarint first row, the
// batch's string table (uvarint count, then uvarint length + bytes each: system prompts and reasons, which
// repeat), then per row:
//
//	str id · uvarint system (table) · byte nulls · uvarint row − first row · uvarint stage · uvarint reason (table)
//	str detail · varint ntok · uvarint trainStart, trainEnd · byte flags (1 too long, 2 has key)
//	uvarint idDigits, labelDigits · uvarint qChars, rChars, sChars · [16 bytes key] · str signature
//	uvarint payload length (bytes; tokens for packed) · [4 bytes xxh3 of the payload bytes, when length > 0]
//
// payload.bin: the payloads back to back, lines as bytes, tokens as little-endian uint32s.
const recordsFormat = "orcaprep-records/1\n"

// payloadSum is the checksum of one payload that travels with its record, so a write task checks every piece
// of a map task's payload it reads without hashing the whole file.
func payloadSum(b []byte) uint32 { return uint32(xxh3.Hash(b)) }

// recordWriter encodes batches into records.bin and payload.bin.
type recordWriter struct {
	rec, pay     *bufio.Writer
	body, head   []byte
	tokBuf       []byte
	table        map[string]int
	tableList    []string
	packed       bool
	rows, paylen int64
}

func newRecordWriter(rec, pay io.Writer, packed bool) *recordWriter {
	w := &recordWriter{rec: bufio.NewWriterSize(rec, 1<<20), pay: bufio.NewWriterSize(pay, 1<<20), packed: packed, table: map[string]int{}}
	w.rec.WriteString(recordsFormat)
	return w
}

func (w *recordWriter) str(s string) int {
	if i, ok := w.table[s]; ok {
		return i
	}
	w.table[s] = len(w.tableList)
	w.tableList = append(w.tableList, s)
	return len(w.tableList) - 1
}

// batch encodes b's items and writes their payloads.
func (w *recordWriter) batch(b *batch) error {
	clear(w.table)
	w.tableList = w.tableList[:0]
	var first int64
	file := 0
	if len(b.items) > 0 {
		first, file = b.items[0].row, b.items[0].file
	}
	p := w.body[:0]
	for i := range b.items {
		it := &b.items[i]
		if it.file != file || it.row < first {
			return fmt.Errorf("internal error: batch mixes files or rows (%d:%d after %d:%d)", it.file, it.row, file, first)
		}
		p = appendStr(p, it.id)
		p = binary.AppendUvarint(p, uint64(w.str(it.system)))
		p = append(p, it.nulls)
		p = binary.AppendUvarint(p, uint64(it.row-first))
		p = binary.AppendUvarint(p, uint64(it.stage))
		p = binary.AppendUvarint(p, uint64(w.str(it.reason)))
		p = appendStr(p, it.detail)
		p = binary.AppendVarint(p, int64(it.ntok))
		p = binary.AppendUvarint(p, uint64(it.trainStart))
		p = binary.AppendUvarint(p, uint64(it.trainEnd))
		var flags byte
		if it.tooLong {
			flags |= 1
		}
		if it.key != ([16]byte{}) {
			flags |= 2
		}
		p = append(p, flags)
		p = binary.AppendUvarint(p, uint64(it.idDigits))
		p = binary.AppendUvarint(p, uint64(it.labelDigits))
		p = binary.AppendUvarint(p, uint64(it.qChars))
		p = binary.AppendUvarint(p, uint64(it.rChars))
		p = binary.AppendUvarint(p, uint64(it.sChars))
		if flags&2 != 0 {
			p = append(p, it.key[:]...)
		}
		p = binary.AppendUvarint(p, uint64(it.sigEnd-it.sigStart))
		p = append(p, b.sigs[it.sigStart:it.sigEnd]...)
		// The payload: the rendered line, or the packed sample's tokens.
		var pay []byte
		n := it.end - it.start
		if w.packed {
			n = it.tokEnd - it.tokStart
			w.tokBuf = w.tokBuf[:0]
			for _, v := range b.toks[it.tokStart:it.tokEnd] {
				w.tokBuf = binary.LittleEndian.AppendUint32(w.tokBuf, uint32(v))
			}
			pay = w.tokBuf
		} else {
			pay = b.arena[it.start:it.end]
		}
		p = binary.AppendUvarint(p, uint64(n))
		if len(pay) > 0 {
			p = binary.LittleEndian.AppendUint32(p, payloadSum(pay))
			if _, err := w.pay.Write(pay); err != nil {
				return exitcode.Errorf(exitcode.Output, "write payload.bin: %w", err)
			}
			w.paylen += int64(len(pay))
		}
	}
	w.body = p
	h := binary.AppendUvarint(w.head[:0], uint64(len(b.items)))
	h = appendBool(h, b.selected)
	h = binary.AppendUvarint(h, uint64(file))
	h = binary.AppendUvarint(h, uint64(first))
	h = binary.AppendUvarint(h, uint64(len(w.tableList)))
	for _, s := range w.tableList {
		h = appendStr(h, s)
	}
	w.head = h
	w.rows += int64(len(b.items))
	var n [binary.MaxVarintLen64]byte
	if _, err := w.rec.Write(n[:binary.PutUvarint(n[:], uint64(len(h)+len(p)))]); err != nil {
		return exitcode.Errorf(exitcode.Output, "write records.bin: %w", err)
	}
	w.rec.Write(h)
	if _, err := w.rec.Write(p); err != nil {
		return exitcode.Errorf(exitcode.Output, "write records.bin: %w", err)
	}
	return nil
}

// end writes the trailer (so a truncated file is detected on its own) and flushes both files.
func (w *recordWriter) end() error {
	t := binary.AppendUvarint(nil, 0)
	t = binary.AppendUvarint(t, uint64(w.rows))
	t = binary.AppendUvarint(t, uint64(w.paylen))
	w.rec.Write(t)
	if err := w.rec.Flush(); err != nil {
		return exitcode.Errorf(exitcode.Output, "write records.bin: %w", err)
	}
	if err := w.pay.Flush(); err != nil {
		return exitcode.Errorf(exitcode.Output, "write payload.bin: %w", err)
	}
	return nil
}

func appendStr(p []byte, s string) []byte {
	p = binary.AppendUvarint(p, uint64(len(s)))
	return append(p, s...)
}

func appendBool(p []byte, v bool) []byte {
	if v {
		return append(p, 1)
	}
	return append(p, 0)
}

var errRecords = errors.New("corrupt records.bin")

// recordReader decodes records.bin back into batches. The items' payload positions are offsets into the map
// task's payload.bin (bytes, or tokens for packed), and sums[i] is item i's payload checksum.
type recordReader struct {
	r            *bufio.Reader
	packed       bool
	buf          []byte
	rows, paylen int64
	sums         []uint32
	done         bool
}

func newRecordReader(r io.Reader, packed bool) (*recordReader, error) {
	rr := &recordReader{r: bufio.NewReaderSize(r, 1<<20), packed: packed}
	head := make([]byte, len(recordsFormat))
	if _, err := io.ReadFull(rr.r, head); err != nil || string(head) != recordsFormat {
		return nil, fmt.Errorf("%w: not a records file", errRecords)
	}
	return rr, nil
}

// dec reads fields from a batch body; the first error sticks.
type dec struct {
	b   []byte
	s   string // the body as one string: decoded strings are substrings of it (one allocation per batch)
	off int
	err error
}

func (d *dec) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.err = fmt.Errorf("%w: bad varint at byte %d of a batch", errRecords, d.off)
		return 0
	}
	d.off += n
	return v
}

func (d *dec) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.err = fmt.Errorf("%w: bad varint at byte %d of a batch", errRecords, d.off)
		return 0
	}
	d.off += n
	return v
}

func (d *dec) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.err = fmt.Errorf("%w: field of %d bytes past the end of a batch", errRecords, n)
		return nil
	}
	v := d.b[d.off : d.off+n]
	d.off += n
	return v
}

func (d *dec) str() string {
	n := int(d.uvarint())
	if d.bytes(n) == nil {
		return ""
	}
	return d.s[d.off-n : d.off]
}

func (d *dec) u32() uint32 {
	if b := d.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *dec) byte1() byte {
	if b := d.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

// next decodes the next batch into b (io.EOF after the last, when the trailer checked out).
func (rr *recordReader) next(b *batch) error {
	if rr.done {
		return io.EOF
	}
	n, err := binary.ReadUvarint(rr.r)
	if err != nil {
		return fmt.Errorf("%w: %v", errRecords, err)
	}
	if n == 0 {
		rows, err1 := binary.ReadUvarint(rr.r)
		pay, err2 := binary.ReadUvarint(rr.r)
		switch {
		case err1 != nil || err2 != nil:
			return fmt.Errorf("%w: truncated trailer", errRecords)
		case int64(rows) != rr.rows || int64(pay) != rr.paylen:
			return fmt.Errorf("%w: %d rows and %d payload bytes, the trailer says %d and %d", errRecords, rr.rows, rr.paylen, rows, pay)
		}
		rr.done = true
		return io.EOF
	}
	if n > 1<<31 {
		return fmt.Errorf("%w: batch of %d bytes", errRecords, n)
	}
	if uint64(cap(rr.buf)) < n {
		rr.buf = make([]byte, n)
	}
	rr.buf = rr.buf[:n]
	if _, err := io.ReadFull(rr.r, rr.buf); err != nil {
		return fmt.Errorf("%w: %v", errRecords, err)
	}
	d := &dec{b: rr.buf, s: string(rr.buf)}
	rows := int(d.uvarint())
	b.selected = d.byte1() == 1
	file := int(d.uvarint())
	first := int64(d.uvarint())
	nt := int(d.uvarint())
	if d.err == nil && (rows > len(rr.buf) || nt > len(rr.buf)) {
		d.err = fmt.Errorf("%w: %d rows, %d strings in %d bytes", errRecords, rows, nt, len(rr.buf))
	}
	table := make([]string, 0, nt)
	for i := 0; i < nt && d.err == nil; i++ {
		table = append(table, d.str())
	}
	at := func(i uint64) string {
		if i >= uint64(len(table)) {
			if d.err == nil {
				d.err = fmt.Errorf("%w: string %d of a table of %d", errRecords, i, len(table))
			}
			return ""
		}
		return table[i]
	}
	b.recs, b.items, b.arena, b.toks, b.sigs = b.recs[:0], b.items[:0], b.arena[:0], b.toks[:0], b.sigs[:0]
	rr.sums = rr.sums[:0]
	for i := 0; i < rows && d.err == nil; i++ {
		it := item{file: file}
		it.id = d.str()
		it.system = at(d.uvarint())
		it.nulls = d.byte1()
		it.row = first + int64(d.uvarint())
		it.stage = int(d.uvarint())
		it.reason = at(d.uvarint())
		it.detail = d.str()
		it.ntok = int(d.varint())
		it.trainStart = int(d.uvarint())
		it.trainEnd = int(d.uvarint())
		flags := d.byte1()
		it.tooLong = flags&1 != 0
		it.idDigits = int(d.uvarint())
		it.labelDigits = int(d.uvarint())
		it.qChars = int(d.uvarint())
		it.rChars = int(d.uvarint())
		it.sChars = int(d.uvarint())
		if flags&2 != 0 {
			copy(it.key[:], d.bytes(len(it.key)))
		}
		sig := d.bytes(int(d.uvarint()))
		it.sigStart = len(b.sigs)
		b.sigs = append(b.sigs, sig...)
		it.sigEnd = len(b.sigs)
		plen := int64(d.uvarint())
		var sum uint32
		if plen > 0 {
			sum = d.u32()
		}
		rr.sums = append(rr.sums, sum)
		if rr.packed {
			it.tokStart, it.tokEnd = int(rr.paylen/4), int(rr.paylen/4+plen)
			rr.paylen += 4 * plen
		} else {
			it.start, it.end = int(rr.paylen), int(rr.paylen+plen)
			rr.paylen += plen
		}
		b.items = append(b.items, it)
	}
	if d.err == nil && d.off != len(d.b) {
		d.err = fmt.Errorf("%w: %d bytes left after a batch", errRecords, len(d.b)-d.off)
	}
	if d.err != nil {
		return d.err
	}
	rr.rows += int64(rows)
	return nil
}

// readRecords decodes every batch of a map task's records.bin into b and hands it to fn, in order.
func readRecords(path string, packed bool, b *batch, fn func(b *batch, sums []uint32) error) error {
	f, err := os.Open(path)
	if err != nil {
		return exitcode.With(exitcode.Integrity, err)
	}
	defer f.Close()
	rr, err := newRecordReader(f, packed)
	if err != nil {
		return exitcode.Errorf(exitcode.Integrity, "%s: %w", path, err)
	}
	for {
		err := rr.next(b)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return exitcode.Errorf(exitcode.Integrity, "%s: %w", path, err)
		}
		if err := fn(b, rr.sums); err != nil {
			return err
		}
	}
}
