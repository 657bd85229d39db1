package orca

import (
	"errors"
	"fmt"
)

// This file decodes Parquet page headers (Thrift compact protocol) by hand: only the fields the page
// reader needs are kept, everything else (statistics, CRC, future fields) is skipped. Owning it keeps the
// reader goroutine's per-page work to a few hundred nanoseconds and lets every malformed header become an
// error with a byte offset instead of a panic deep in a generic decoder.

// Page types (parquet.thrift PageType).
const (
	pageData       = 0
	pageIndex      = 1
	pageDictionary = 2
	pageDataV2     = 3
)

// Encodings (parquet.thrift Encoding).
const (
	encPlain             = 0
	encPlainDictionary   = 2
	encRLE               = 3
	encBitPacked         = 4
	encDeltaBinaryPacked = 5
	encDeltaLengthBytes  = 6
	encDeltaByteArray    = 7
	encRLEDictionary     = 8
)

// pageHeader holds what the reader uses of a Parquet PageHeader.
type pageHeader struct {
	typ              int32
	uncompressedSize int32
	compressedSize   int32
	// data page v1/v2 and dictionary page
	numValues int32
	encoding  int32
	// data page v1
	defEncoding int32
	// data page v2
	numNulls     int32
	numRows      int32
	defLevelsLen int32
	repLevelsLen int32
	v2Compressed bool
	// which of the union members were present
	hasData, hasDict, hasDataV2 bool
}

var errThriftShort = errors.New("thrift data ends inside a value")

// Compact protocol type ids.
const (
	ctStop   = 0
	ctTrue   = 1
	ctFalse  = 2
	ctByte   = 3
	ctI16    = 4
	ctI32    = 5
	ctI64    = 6
	ctDouble = 7
	ctBinary = 8
	ctList   = 9
	ctSet    = 10
	ctMap    = 11
	ctStruct = 12
)

// maxThriftDepth bounds nesting when skipping unknown fields, so a hostile header or footer cannot recurse
// forever (a real footer nests about ten deep: row groups, columns, metadata, statistics, logical types).
const maxThriftDepth = 32

type thriftReader struct {
	b   []byte
	pos int
	err error
}

func (r *thriftReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *thriftReader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.pos >= len(r.b) {
		r.fail(errThriftShort)
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *thriftReader) uvarint() uint64 {
	var x uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= 64 {
			r.fail(fmt.Errorf("varint overflow at byte %d", r.pos))
			return 0
		}
		c := r.byte()
		if r.err != nil {
			return 0
		}
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x
		}
	}
}

func (r *thriftReader) zigzag() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (r *thriftReader) i32() int32 {
	v := r.zigzag()
	if v < -1<<31 || v > 1<<31-1 {
		r.fail(fmt.Errorf("i32 out of range at byte %d", r.pos))
		return 0
	}
	return int32(v)
}

// field reads a field header; it returns typ ctStop at the end of a struct.
func (r *thriftReader) field(last int16) (id int16, typ byte) {
	c := r.byte()
	if r.err != nil {
		return 0, ctStop
	}
	typ = c & 0x0f
	if typ == ctStop {
		return 0, ctStop
	}
	if d := c >> 4; d != 0 {
		return last + int16(d), typ
	}
	v := r.zigzag()
	if v < -1<<15 || v > 1<<15-1 {
		r.fail(fmt.Errorf("field id out of range at byte %d", r.pos))
	}
	return int16(v), typ
}

// skip skips one value of compact type typ.
func (r *thriftReader) skip(typ byte, depth int) {
	if depth > maxThriftDepth {
		r.fail(fmt.Errorf("nested deeper than %d at byte %d", maxThriftDepth, r.pos))
		return
	}
	switch typ {
	case ctTrue, ctFalse:
		// the value is in the type nibble (fields) — callers handle list elements below
	case ctByte:
		r.byte()
	case ctI16, ctI32, ctI64:
		r.uvarint()
	case ctDouble:
		r.bytes(8)
	case ctBinary:
		n := r.uvarint()
		if n > uint64(len(r.b)-r.pos) {
			r.fail(fmt.Errorf("string of %d bytes, only %d left: %w", n, len(r.b)-r.pos, errThriftShort))
			return
		}
		r.bytes(int(n))
	case ctList, ctSet:
		c := r.byte()
		n := uint64(c >> 4)
		et := c & 0x0f
		if n == 15 {
			n = r.uvarint()
		}
		if n > uint64(len(r.b)-r.pos) { // every element takes at least a byte (bools in lists too)
			r.fail(fmt.Errorf("list of %d elements, only %d bytes left: %w", n, len(r.b)-r.pos, errThriftShort))
			return
		}
		for i := uint64(0); i < n && r.err == nil; i++ {
			if et == ctTrue || et == ctFalse {
				r.byte()
				continue
			}
			r.skip(et, depth+1)
		}
	case ctMap:
		n := r.uvarint()
		if n == 0 {
			return
		}
		if n > uint64(len(r.b)-r.pos) {
			r.fail(fmt.Errorf("map of %d entries, only %d bytes left: %w", n, len(r.b)-r.pos, errThriftShort))
			return
		}
		kv := r.byte()
		kt, vt := kv>>4, kv&0x0f
		for i := uint64(0); i < n && r.err == nil; i++ {
			r.skipElem(kt, depth+1)
			r.skipElem(vt, depth+1)
		}
	case ctStruct:
		var last int16
		for r.err == nil {
			id, t := r.field(last)
			if t == ctStop {
				return
			}
			r.skip(t, depth+1)
			last = id
		}
	default:
		r.fail(fmt.Errorf("unknown thrift type %d at byte %d", typ, r.pos))
	}
}

// skipElem skips a container element (booleans take a byte there, unlike in field headers).
func (r *thriftReader) skipElem(typ byte, depth int) {
	if typ == ctTrue || typ == ctFalse {
		r.byte()
		return
	}
	r.skip(typ, depth)
}

func (r *thriftReader) bytes(n int) {
	if r.err != nil {
		return
	}
	if n < 0 || len(r.b)-r.pos < n {
		r.fail(errThriftShort)
		return
	}
	r.pos += n
}

// readI32Field reads an i32-typed field value, failing on any other wire type.
func (r *thriftReader) readI32Field(typ byte, name string) int32 {
	if typ != ctI32 {
		r.fail(fmt.Errorf("page header field %s has thrift type %d, want i32", name, typ))
		r.skip(typ, 1)
		return 0
	}
	return r.i32()
}

// parsePageHeader decodes the page header at the start of b and returns it with its length in bytes.
// errThriftShort means b ended inside the header (the caller may retry with more bytes).
func parsePageHeader(b []byte) (pageHeader, int, error) {
	r := &thriftReader{b: b}
	h := pageHeader{typ: -1, uncompressedSize: -1, compressedSize: -1, v2Compressed: true}
	var last int16
	for r.err == nil {
		id, typ := r.field(last)
		if typ == ctStop {
			break
		}
		last = id
		switch id {
		case 1:
			h.typ = r.readI32Field(typ, "type")
		case 2:
			h.uncompressedSize = r.readI32Field(typ, "uncompressed_page_size")
		case 3:
			h.compressedSize = r.readI32Field(typ, "compressed_page_size")
		case 5, 7, 8:
			if typ != ctStruct {
				r.fail(fmt.Errorf("page header field %d has thrift type %d, want struct", id, typ))
				break
			}
			r.subHeader(&h, id)
		default:
			r.skip(typ, 1)
		}
	}
	if r.err != nil {
		return h, 0, r.err
	}
	switch {
	case h.typ < 0:
		return h, 0, errors.New("page header has no type")
	case h.compressedSize < 0 || h.uncompressedSize < 0:
		return h, 0, fmt.Errorf("page header has no or negative sizes (compressed %d, uncompressed %d)", h.compressedSize, h.uncompressedSize)
	}
	return h, r.pos, nil
}

// subHeader reads DataPageHeader (5), DictionaryPageHeader (7) or DataPageHeaderV2 (8).
func (r *thriftReader) subHeader(h *pageHeader, which int16) {
	var last int16
	h.numValues = -1
	switch which {
	case 5:
		h.hasData = true
	case 7:
		h.hasDict = true
	case 8:
		h.hasDataV2 = true
	}
	for r.err == nil {
		id, typ := r.field(last)
		if typ == ctStop {
			break
		}
		last = id
		switch {
		case id == 1:
			h.numValues = r.readI32Field(typ, "num_values")
		case which == 5 && id == 2, which == 7 && id == 2, which == 8 && id == 4:
			h.encoding = r.readI32Field(typ, "encoding")
		case which == 5 && id == 3:
			h.defEncoding = r.readI32Field(typ, "definition_level_encoding")
		case which == 8 && id == 2:
			h.numNulls = r.readI32Field(typ, "num_nulls")
		case which == 8 && id == 3:
			h.numRows = r.readI32Field(typ, "num_rows")
		case which == 8 && id == 5:
			h.defLevelsLen = r.readI32Field(typ, "definition_levels_byte_length")
		case which == 8 && id == 6:
			h.repLevelsLen = r.readI32Field(typ, "repetition_levels_byte_length")
		case which == 8 && id == 7:
			switch typ {
			case ctTrue:
				h.v2Compressed = true
			case ctFalse:
				h.v2Compressed = false
			default:
				r.fail(fmt.Errorf("is_compressed has thrift type %d, want bool", typ))
			}
		default:
			r.skip(typ, 2)
		}
	}
}
