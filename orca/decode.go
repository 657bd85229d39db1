package orca

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"unsafe"
)

// This file decodes the values of one page of a flat BYTE_ARRAY column. Decoded strings point into the
// page's own decompressed buffer (PLAIN, DELTA_LENGTH_BYTE_ARRAY), the dictionary's buffer (dictionary
// encodings) or one buffer built for the page (DELTA_BYTE_ARRAY): no per-value allocation, and those
// buffers are never reused, so strings stay valid for as long as anything holds them.

// str makes a string over b without copying; b must never be written again.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// decodeLevels decodes n definition levels (RLE/bit-packed hybrid, bit width of maxDef) from src and
// marks null[i] for levels below maxDef. It returns the number of non-null values. null may be nil when
// the caller has not allocated it yet; it is allocated on the first NULL.
func decodeLevels(src []byte, maxDef int, n int, null *[]bool) (nonNull int, err error) {
	width := bits.Len(uint(maxDef))
	want := uint64(maxDef)
	i := 0
	setNull := func(from, to int) {
		if *null == nil {
			*null = make([]bool, n)
		}
		for j := from; j < to; j++ {
			(*null)[j] = true
		}
	}
	for i < n {
		h, k := binary.Uvarint(src)
		if k <= 0 {
			return 0, fmt.Errorf("definition levels: bad run header after %d of %d levels", i, n)
		}
		src = src[k:]
		if h&1 == 0 { // RLE run
			count := h >> 1
			vb := (width + 7) / 8
			if len(src) < vb {
				return 0, errors.New("definition levels: RLE run truncated")
			}
			var v uint64
			for b := 0; b < vb; b++ {
				v |= uint64(src[b]) << (8 * b)
			}
			src = src[vb:]
			if count > uint64(n-i) {
				count = uint64(n - i) // a run may be longer than the levels left: only n are wanted
			}
			if v > want {
				return 0, fmt.Errorf("definition level %d > max %d", v, maxDef)
			}
			if v < want {
				setNull(i, i+int(count))
			} else {
				nonNull += int(count)
			}
			i += int(count)
			continue
		}
		groups := h >> 1
		if groups > uint64(len(src)) {
			return 0, fmt.Errorf("definition levels: bit-packed run of %d groups does not fit", groups)
		}
		nb := int(groups) * width
		if nb > len(src) {
			return 0, errors.New("definition levels: bit-packed run truncated")
		}
		count := int(groups) * 8
		if count > n-i {
			count = n - i
		}
		mask := uint64(1)<<width - 1
		for j := 0; j < count; j++ {
			bit := j * width
			v := (uint64(src[bit/8]) | uint64(at(src, bit/8+1))<<8) >> (bit % 8) & mask
			if v > want {
				return 0, fmt.Errorf("definition level %d > max %d", v, maxDef)
			}
			if v < want {
				setNull(i+j, i+j+1)
			} else {
				nonNull++
			}
		}
		i += count
		src = src[nb:]
	}
	return nonNull, nil
}

func at(b []byte, i int) byte {
	if i < len(b) {
		return b[i]
	}
	return 0
}

// decodeBitPackedLevels decodes the deprecated BIT_PACKED level encoding (most significant bit first).
func decodeBitPackedLevels(src []byte, maxDef int, n int, null *[]bool) (nonNull int, used int, err error) {
	width := bits.Len(uint(maxDef))
	used = (n*width + 7) / 8
	if used > len(src) {
		return 0, 0, errors.New("definition levels (BIT_PACKED) truncated")
	}
	for i := 0; i < n; i++ {
		var v int
		for b := 0; b < width; b++ {
			bit := i*width + b
			v = v<<1 | int(src[bit/8]>>(7-bit%8)&1)
		}
		if v > maxDef {
			return 0, 0, fmt.Errorf("definition level %d > max %d", v, maxDef)
		}
		if v < maxDef {
			if *null == nil {
				*null = make([]bool, n)
			}
			(*null)[i] = true
		} else {
			nonNull++
		}
	}
	return nonNull, used, nil
}

// decodeIndexes decodes n dictionary indexes (RLE/bit-packed hybrid of the given width) into out.
func decodeIndexes(src []byte, width int, out []uint32) error {
	if width > 32 {
		return fmt.Errorf("dictionary index bit width %d > 32", width)
	}
	n := len(out)
	i := 0
	mask := uint64(1)<<width - 1
	for i < n {
		h, k := binary.Uvarint(src)
		if k <= 0 {
			return fmt.Errorf("dictionary indexes: bad run header after %d of %d", i, n)
		}
		src = src[k:]
		if h&1 == 0 {
			count := h >> 1
			vb := (width + 7) / 8
			if len(src) < vb {
				return errors.New("dictionary indexes: RLE run truncated")
			}
			var v uint32
			for b := 0; b < vb; b++ {
				v |= uint32(src[b]) << (8 * b)
			}
			src = src[vb:]
			if count > uint64(n-i) {
				count = uint64(n - i)
			}
			for j := 0; j < int(count); j++ {
				out[i+j] = v
			}
			i += int(count)
			continue
		}
		groups := h >> 1
		if groups > uint64(len(src)) {
			return fmt.Errorf("dictionary indexes: bit-packed run of %d groups does not fit", groups)
		}
		nb := int(groups) * width
		if nb > len(src) {
			return errors.New("dictionary indexes: bit-packed run truncated")
		}
		count := min(int(groups)*8, n-i)
		unpack(src[:nb], width, mask, out[i:i+count])
		i += count
		src = src[nb:]
	}
	return nil
}

// unpack reads len(out) little-endian bit-packed values of width bits from src (which holds enough bits).
func unpack(src []byte, width int, mask uint64, out []uint32) {
	if width == 0 {
		clear(out)
		return
	}
	var acc uint64
	var have int
	p := 0
	for j := range out {
		for have < width {
			acc |= uint64(src[p]) << have
			p++
			have += 8
		}
		out[j] = uint32(acc & mask)
		acc >>= width
		have -= width
	}
}

// byteSource is what the DELTA_BINARY_PACKED decoder reads from: a byte slice or a page stream.
type byteSource interface {
	uvarint() (uint64, bool)
	chunk(n int) ([]byte, bool) // the next n bytes, valid until the next call
}

type sliceSource struct {
	b   []byte
	pos int
}

func (s *sliceSource) uvarint() (uint64, bool) {
	v, k := binary.Uvarint(s.b[s.pos:])
	if k <= 0 {
		return 0, false
	}
	s.pos += k
	return v, true
}

func (s *sliceSource) chunk(n int) ([]byte, bool) {
	if n < 0 || n > len(s.b)-s.pos {
		return nil, false
	}
	b := s.b[s.pos : s.pos+n]
	s.pos += n
	return b, true
}

// deltaBinaryPacked decodes a DELTA_BINARY_PACKED run of exactly want values from src and returns them
// with the number of bytes used.
func deltaBinaryPacked(src []byte, want int, out []int64) ([]int64, int, error) {
	s := &sliceSource{b: src}
	out, err := deltaDecode(s, want, out)
	return out, s.pos, err
}

// deltaDecode decodes a DELTA_BINARY_PACKED run of exactly want values (as int64). Arithmetic wraps,
// as the format specifies.
func deltaDecode(src byteSource, want int, out []int64) ([]int64, error) {
	blockSize, ok1 := src.uvarint()
	miniBlocks, ok2 := src.uvarint()
	total, ok3 := src.uvarint()
	first, ok4 := src.uvarint()
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, errors.New("delta header truncated")
	}
	if blockSize == 0 || blockSize%128 != 0 || miniBlocks == 0 || blockSize%miniBlocks != 0 || (blockSize/miniBlocks)%32 != 0 || blockSize > 1<<20 {
		return nil, fmt.Errorf("delta header invalid (block %d, miniblocks %d)", blockSize, miniBlocks)
	}
	if total != uint64(want) {
		return nil, fmt.Errorf("delta run holds %d values, want %d", total, want)
	}
	out = out[:0]
	if want == 0 {
		return out, nil
	}
	if cap(out) < want {
		out = make([]int64, 0, want)
	}
	v := int64(first>>1) ^ -int64(first&1)
	out = append(out, v)
	per := int(blockSize / miniBlocks)
	var buf [64]uint64
	var widths [256]byte
	if miniBlocks > uint64(len(widths)) {
		return nil, fmt.Errorf("delta header: %d miniblocks per block", miniBlocks)
	}
	for len(out) < want {
		md, ok := src.uvarint()
		if !ok {
			return nil, errors.New("delta block header truncated")
		}
		minDelta := int64(md>>1) ^ -int64(md&1)
		wb, ok := src.chunk(int(miniBlocks))
		if !ok {
			return nil, errors.New("delta bit widths truncated")
		}
		copy(widths[:], wb)
		for _, w := range widths[:miniBlocks] {
			if len(out) >= want {
				break
			}
			if w > 64 {
				return nil, fmt.Errorf("delta bit width %d > 64", w)
			}
			mb, ok := src.chunk(per * int(w) / 8)
			if !ok {
				return nil, errors.New("delta miniblock truncated")
			}
			for off := 0; off < per && len(out) < want; off += 64 {
				cnt := min(64, per-off)
				unpack64(mb, int(w), off, buf[:cnt])
				for _, d := range buf[:cnt] {
					if len(out) >= want {
						break
					}
					v += minDelta + int64(d)
					out = append(out, v)
				}
			}
		}
	}
	return out, nil
}

// unpack64 reads len(out) values of width bits starting at value index first from the packed bytes src.
func unpack64(src []byte, width, first int, out []uint64) {
	if width == 0 {
		clear(out)
		return
	}
	for j := range out {
		bit := (first + j) * width
		var v uint64
		got := 0
		for got < width {
			b := bit + got
			take := min(8-b%8, width-got)
			v |= uint64(src[b/8]>>(b%8)&(1<<take-1)) << got
			got += take
		}
		out[j] = v
	}
}

// decodePlain splits PLAIN BYTE_ARRAY data into exactly n strings.
func decodePlain(src []byte, n int, out []string) ([]string, error) {
	out = out[:0]
	pos := 0
	for i := 0; i < n; i++ {
		if len(src)-pos < 4 {
			return nil, fmt.Errorf("PLAIN value %d of %d: length truncated", i, n)
		}
		l := int(binary.LittleEndian.Uint32(src[pos:]))
		pos += 4
		if l < 0 || l > len(src)-pos {
			return nil, fmt.Errorf("PLAIN value %d of %d: length %d runs past the page (%d bytes left)", i, n, l, len(src)-pos)
		}
		out = append(out, str(src[pos:pos+l]))
		pos += l
	}
	return out, nil
}

// decodeDeltaLength decodes DELTA_LENGTH_BYTE_ARRAY data into exactly n strings.
func decodeDeltaLength(src []byte, n int, out []string, lens []int64) ([]string, []int64, error) {
	lens, pos, err := deltaBinaryPacked(src, n, lens)
	if err != nil {
		return nil, lens, fmt.Errorf("DELTA_LENGTH_BYTE_ARRAY lengths: %w", err)
	}
	data := src[pos:]
	out = out[:0]
	p := 0
	for i, l := range lens {
		if l < 0 || l > int64(len(data)-p) {
			return nil, lens, fmt.Errorf("DELTA_LENGTH_BYTE_ARRAY value %d of %d: length %d runs past the page", i, n, l)
		}
		out = append(out, str(data[p:p+int(l)]))
		p += int(l)
	}
	return out, lens, nil
}

// decodeDeltaByteArray decodes DELTA_BYTE_ARRAY (prefix lengths, then suffixes as DELTA_LENGTH_BYTE_ARRAY)
// into exactly n strings rebuilt in one new buffer.
func decodeDeltaByteArray(src []byte, n int, out []string, prefix, suffix []int64) ([]string, []int64, []int64, error) {
	prefix, pos, err := deltaBinaryPacked(src, n, prefix)
	if err != nil {
		return nil, prefix, suffix, fmt.Errorf("DELTA_BYTE_ARRAY prefix lengths: %w", err)
	}
	suffix, spos, err := deltaBinaryPacked(src[pos:], n, suffix)
	if err != nil {
		return nil, prefix, suffix, fmt.Errorf("DELTA_BYTE_ARRAY suffix lengths: %w", err)
	}
	data := src[pos+spos:]
	var total int64
	prev := int64(0)
	var sufTotal int64
	for i := range n {
		p, s := prefix[i], suffix[i]
		if p < 0 || p > prev || s < 0 || s > int64(len(data)) {
			return nil, prefix, suffix, fmt.Errorf("DELTA_BYTE_ARRAY value %d of %d: prefix %d / suffix %d out of range", i, n, p, s)
		}
		sufTotal += s
		if sufTotal > int64(len(data)) {
			return nil, prefix, suffix, fmt.Errorf("DELTA_BYTE_ARRAY value %d of %d: suffixes run past the page", i, n)
		}
		prev = p + s
		total += prev
		if total > 1<<31 {
			return nil, prefix, suffix, errors.New("DELTA_BYTE_ARRAY values exceed 2 GiB in one page")
		}
	}
	buf := make([]byte, total)
	out = out[:0]
	w, d, prevStart := 0, 0, 0
	for i := range n {
		p, s := int(prefix[i]), int(suffix[i])
		start := w
		copy(buf[w:], buf[prevStart:prevStart+p])
		w += p
		copy(buf[w:], data[d:d+s])
		w += s
		d += s
		prevStart = start
		out = append(out, str(buf[start:w]))
	}
	return out, prefix, suffix, nil
}
