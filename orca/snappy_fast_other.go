//go:build !amd64 && !arm64

package orca

import "encoding/binary"

// snappyFast is snappy_fast.go's loop without unsafe, for architectures where unaligned or
// native-endian loads are not what it needs.
func snappyFast(dst, in []byte, d, s int) (int, int) {
	for s+snappyFastInput <= len(in) && d+16 <= len(dst) && s >= 0 && d >= 0 {
		e := &snappyFastTags[in[s]]
		off := int(binary.LittleEndian.Uint32(in[s+1:])&e.mask | e.hi)
		n := int(e.out)
		if n > 16 || off < n || off > d {
			break
		}
		if e.lit != 0 {
			copy(dst[d:d+16], in[s+1:s+17])
		} else {
			copy(dst[d:d+16], dst[d-off:d-off+16])
		}
		s += int(e.in)
		d += n
	}
	return d, s
}
