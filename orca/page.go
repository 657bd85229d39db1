package orca

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"sync"
)

// colPage is one page of one column chunk: planned (read from the file) by the scanner's reader
// goroutine, decoded by a decode worker, consumed in row order by the assembler.
type colPage struct {
	// set by the planner
	col     int   // index into Scanner.cols
	rg      int   // row group
	num     int   // page number within the column chunk (0-based, dictionary page included), for errors
	off     int64 // file offset of the page header, for errors
	first   int64 // file row of the page's first row
	rows    int   // rows in the page (0 for a dictionary page)
	hdr     pageHeader
	raw     []byte // the page body as stored in the file
	pooled  bool   // raw came from the buffer pool and may go back once decoded
	rawKept bool   // decoded values point into raw (uncompressed PLAIN pages): it never goes back
	codec   int32
	maxDef  int
	dict    *colPage      // the chunk's dictionary page, for dictionary-encoded data pages
	cost    int64         // read-ahead bytes charged for this page
	done    chan struct{} // closed when the page's task is decoded
	ready   chan struct{} // dictionary pages: closed as soon as the dictionary itself is decoded
	segs    chan *segment // streamed pages: their rows, in order (see stream.go)

	// set by the decoder (before done is closed)
	vals []string // one per row ("" for NULL); for a dictionary page, the dictionary
	// idx replaces vals on dictionary-encoded data pages: each row's index into dict.vals (0 for NULL).
	// A []string per row is a pointer per row that every GC cycle scans while the page is in use, and
	// writers put whole row groups in one such page (DuckDB: 1M rows, 16 MB of pointers, 8% of the
	// run's CPU in marking); indexes hold no pointers and take a quarter of the memory.
	idx  []uint32
	null []bool // nil when the page has no NULLs
	err  error
}

// decodeScratch is a decode worker's reusable memory.
type decodeScratch struct {
	lens   []int64
	prefix []int64
	suffix []int64
	vals   []string
}

// decode decodes p in place, setting p.vals/p.null or p.err.
func (p *colPage) decode(s *decodeScratch) {
	p.err = p.decodeErr(s)
	if p.pooled && !p.rawKept {
		putBuf(p.raw)
	}
	p.raw = nil
}

func (p *colPage) decodeErr(s *decodeScratch) error {
	h := &p.hdr
	switch h.typ {
	case pageDictionary:
		if h.encoding != encPlain && h.encoding != encPlainDictionary {
			return fmt.Errorf("dictionary page encoding %s not supported", encodingName(h.encoding))
		}
		if h.numValues < 0 {
			return fmt.Errorf("dictionary page has %d values", h.numValues)
		}
		body, _, err := p.body(p.raw, int(h.uncompressedSize), true)
		if err != nil {
			return err
		}
		vals, err := decodePlain(body, int(h.numValues), make([]string, 0, h.numValues))
		if err != nil {
			return fmt.Errorf("dictionary: %w", err)
		}
		p.vals = vals
		return nil
	case pageData:
		body, pooled, err := p.body(p.raw, int(h.uncompressedSize), valuesPointIntoBody(h.encoding))
		if err != nil {
			return err
		}
		if pooled {
			defer putBuf(body)
		}
		n := p.rows
		nonNull := n
		if p.maxDef > 0 {
			switch h.defEncoding {
			case encRLE:
				if len(body) < 4 {
					return errors.New("definition levels: length truncated")
				}
				l := int(binary.LittleEndian.Uint32(body))
				if l < 0 || l > len(body)-4 {
					return fmt.Errorf("definition levels: length %d runs past the page", l)
				}
				if nonNull, err = decodeLevels(body[4:4+l], p.maxDef, n, &p.null); err != nil {
					return err
				}
				body = body[4+l:]
			case encBitPacked:
				var used int
				if nonNull, used, err = decodeBitPackedLevels(body, p.maxDef, n, &p.null); err != nil {
					return err
				}
				body = body[used:]
			default:
				return fmt.Errorf("definition level encoding %s not supported", encodingName(h.defEncoding))
			}
		}
		return p.values(body, n, nonNull, s)
	case pageDataV2:
		lv := int(h.repLevelsLen) + int(h.defLevelsLen)
		if h.repLevelsLen < 0 || h.defLevelsLen < 0 || lv > len(p.raw) || lv > int(h.uncompressedSize) {
			return fmt.Errorf("data page v2 level lengths (%d, %d) out of range", h.repLevelsLen, h.defLevelsLen)
		}
		n := p.rows
		nonNull := n
		if p.maxDef > 0 {
			var err error
			if nonNull, err = decodeLevels(p.raw[h.repLevelsLen:lv], p.maxDef, n, &p.null); err != nil {
				return err
			}
		}
		if !h.v2Compressed {
			// Values stored as is, whatever the column's codec.
			saved := p.codec
			p.codec = codecUncompressed
			defer func() { p.codec = saved }()
		}
		body, pooled, err := p.body(p.raw[lv:], int(h.uncompressedSize)-lv, valuesPointIntoBody(h.encoding))
		if err != nil {
			return err
		}
		if pooled {
			defer putBuf(body)
		}
		return p.values(body, n, nonNull, s)
	}
	return fmt.Errorf("page type %d not supported", h.typ)
}

// valuesPointIntoBody reports whether decoded strings of this encoding point into the decompressed
// page (so it must be a fresh buffer), rather than into the dictionary or a rebuilt buffer.
func valuesPointIntoBody(enc int32) bool {
	return enc == encPlain || enc == encDeltaLengthBytes
}

// body returns the decompressed page body of size bytes, and whether it came from the buffer pool (the
// caller returns it once decoded). When keep is set values will point into the result, so it is never a
// pooled buffer; for uncompressed pages it is raw itself, which is then kept out of the pool too.
func (p *colPage) body(raw []byte, size int, keep bool) ([]byte, bool, error) {
	if size < 0 {
		return nil, false, fmt.Errorf("uncompressed size %d", size)
	}
	if p.codec == codecUncompressed {
		if len(raw) != size {
			return nil, false, fmt.Errorf("uncompressed page holds %d bytes, header says %d", len(raw), size)
		}
		if keep {
			p.rawKept = true
		}
		return raw, false, nil
	}
	if err := checkSize(p.codec, raw, size); err != nil {
		return nil, false, fmt.Errorf("decompressing %s page: %w", codecName(p.codec), err)
	}
	var dst []byte
	if keep {
		dst = make([]byte, size)
	} else {
		dst = getBuf(size)
	}
	if err := decompress(p.codec, dst, raw); err != nil {
		if !keep {
			putBuf(dst)
		}
		return nil, false, fmt.Errorf("decompressing %s page: %w", codecName(p.codec), err)
	}
	return dst, !keep, nil
}

// values decodes nonNull values of the page's encoding from body and spreads them over n rows.
func (p *colPage) values(body []byte, n, nonNull int, s *decodeScratch) error {
	h := &p.hdr
	var vals []string
	var err error
	if h.encoding == encPlainDictionary || h.encoding == encRLEDictionary {
		return p.dictIndexes(body, n, nonNull)
	}
	// Decode straight into the page's row slice when there are no NULLs; otherwise via scratch.
	dst := s.vals[:0]
	if p.null == nil {
		dst = make([]string, 0, n)
	}
	switch h.encoding {
	case encPlain:
		vals, err = decodePlain(body, nonNull, dst)
	case encDeltaLengthBytes:
		vals, s.lens, err = decodeDeltaLength(body, nonNull, dst, s.lens)
	case encDeltaByteArray:
		vals, s.prefix, s.suffix, err = decodeDeltaByteArray(body, nonNull, dst, s.prefix, s.suffix)
	default:
		return fmt.Errorf("encoding %s not supported for strings", encodingName(h.encoding))
	}
	if err != nil {
		return err
	}
	if p.null == nil {
		p.vals = vals
		return nil
	}
	s.vals = vals[:0]
	out := make([]string, n)
	j := 0
	for i := range out {
		if !p.null[i] {
			out[i] = vals[j]
			j++
		}
	}
	clear(vals) // scratch must not pin page buffers
	p.vals = out
	return nil
}

// dictIndexes decodes the nonNull dictionary indexes of a dictionary-encoded page into p.idx, spread
// over its n rows (NULL rows get index 0 and are never looked up).
func (p *colPage) dictIndexes(body []byte, n, nonNull int) error {
	if p.dict == nil {
		return errors.New("dictionary-encoded page without a dictionary page")
	}
	<-p.dict.ready
	if p.dict.err != nil {
		return fmt.Errorf("dictionary page: %w", p.dict.err)
	}
	dict := p.dict.vals
	idx := make([]uint32, n)
	if nonNull > 0 {
		if len(body) < 1 {
			return errors.New("dictionary indexes: bit width missing")
		}
		width := int(body[0])
		// Decoded into the tail of idx, then moved forward to their rows (the tail is never overtaken).
		vals := idx[n-nonNull:]
		if err := decodeIndexes(body[1:], width, vals); err != nil {
			return err
		}
		if width > 0 && len(dict) == 0 {
			return errors.New("dictionary indexes into an empty dictionary")
		}
		for i, k := range vals {
			if int(k) >= len(dict) {
				return fmt.Errorf("dictionary index %d of value %d out of range (dictionary has %d values)", k, i, len(dict))
			}
		}
		if p.null != nil {
			j := n - nonNull
			for i := range idx {
				if p.null[i] {
					idx[i] = 0
				} else {
					idx[i] = idx[j]
					j++
				}
			}
		}
	}
	p.idx = idx
	return nil
}

var encodingNames = map[int32]string{encPlain: "PLAIN", 1: "GROUP_VAR_INT", encPlainDictionary: "PLAIN_DICTIONARY",
	encRLE: "RLE", encBitPacked: "BIT_PACKED", encDeltaBinaryPacked: "DELTA_BINARY_PACKED",
	encDeltaLengthBytes: "DELTA_LENGTH_BYTE_ARRAY", encDeltaByteArray: "DELTA_BYTE_ARRAY",
	encRLEDictionary: "RLE_DICTIONARY", 9: "BYTE_STREAM_SPLIT"}

func encodingName(e int32) string {
	if n, ok := encodingNames[e]; ok {
		return n
	}
	return fmt.Sprintf("encoding %d", e)
}

// Page buffers (compressed page bodies, decompressed dictionary indexes) are pooled by power-of-two
// size class: they are garbage as soon as a page is decoded, and at a few hundred MB/s per worker
// recycling them keeps the allocation rate, and so the GC's work, proportional to the values alone.
// Buffers that values point into are never pooled.
const (
	minPoolClass = 12 // 4 KiB
	maxPoolClass = 28 // 256 MiB
)

var bufPools [maxPoolClass + 1]sync.Pool

func poolClass(n int) int {
	if n <= 1<<minPoolClass {
		return minPoolClass
	}
	return bits.Len(uint(n - 1))
}

// getBuf returns a buffer of length n from the pool (contents undefined).
func getBuf(n int) []byte {
	c := poolClass(n)
	if c > maxPoolClass {
		return make([]byte, n)
	}
	if v := bufPools[c].Get(); v != nil {
		b := *(v.(*[]byte))
		return b[:n]
	}
	return make([]byte, n, 1<<c)
}

// putBuf returns b to the pool; b must not be used (or referenced by strings) afterwards.
func putBuf(b []byte) {
	c := cap(b)
	if c < 1<<minPoolClass || c&(c-1) != 0 || bits.Len(uint(c-1)) > maxPoolClass {
		return
	}
	b = b[:0]
	bufPools[bits.Len(uint(c-1))].Put(&b)
}
