//go:build amd64 || arm64

package orca

import "unsafe"

// snappyFast decodes elements of in from s into dst from d while each makes at most 16 bytes that a
// single 16-byte move gets right (a literal, or a copy from at least its length back within dst), and
// there is room: 16 bytes in dst, snappyFastInput in in. It returns where it stopped.
//
// It is branch-free but for that test: an element's 16 bytes are loaded from both places they could
// come from (the input after the tag, and dst at the copy offset; a literal's "offset" is its length,
// so that load is in bounds too) and one is selected with a mask. The 16-byte moves may write past the
// element; the next elements overwrite those bytes, and nothing writes past dst.
func snappyFast(dst, in []byte, d, s int) (int, int) {
	if len(in) < snappyFastInput || len(dst) < 16 || s < 0 || d < 0 {
		return d, s
	}
	ib := unsafe.Pointer(unsafe.SliceData(in))
	db := unsafe.Pointer(unsafe.SliceData(dst))
	sp := unsafe.Add(ib, s)
	sEnd := unsafe.Add(ib, len(in)-snappyFastInput)
	dEnd := len(dst) - 16
	for uintptr(sp) <= uintptr(sEnd) && d <= dEnd {
		tag := *(*byte)(sp)
		e := &snappyFastTags[tag]
		off := int(*(*uint32)(unsafe.Add(sp, 1))&e.mask | e.hi)
		n := int(e.out)
		if off < n || off > d {
			break
		}
		m := -uint64(e.lit)
		dp := unsafe.Add(db, d)
		cp := unsafe.Add(dp, -off)
		c0, c1 := *(*uint64)(cp), *(*uint64)(unsafe.Add(cp, 8))
		l0, l1 := *(*uint64)(unsafe.Add(sp, 1)), *(*uint64)(unsafe.Add(sp, 9))
		*(*uint64)(dp) = c0 ^ (l0^c0)&m
		*(*uint64)(unsafe.Add(dp, 8)) = c1 ^ (l1^c1)&m
		sp = unsafe.Add(sp, snappyFastIn[tag])
		d += n
	}
	return d, int(uintptr(sp) - uintptr(ib))
}
