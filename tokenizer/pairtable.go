package tokenizer

// pairTable is an open-addressing hash table from a pair key (pairKey) to its merge, built once at load time.
// It replaces a Go map on the hottest path of encoding: a multiplicative hash and linear probing over flat
// array make a lookup usually one cache-line read, about twice as fast as map[uint64]merge here.
type pairTable struct {
	slots []pairSlot // key and value side by side: a probe touches one cache line
	shift uint
}

type pairSlot struct {
	key uint64
	m   merge
}

// emptyKey marks a free slot: it is pairKey(-1, -1), and lookups never ask for symbols with id -1.
const emptyKey = ^uint64(0)

func newPairTable(m map[uint64]merge) pairTable {
	size := 16
	for size < 2*len(m) {
		size *= 2
	}
	shift := uint(64)
	for s := size; s > 1; s /= 2 {
		shift--
	}
	t := pairTable{slots: make([]pairSlot, size), shift: shift}
	for i := range t.slots {
		t.slots[i].key = emptyKey
	}
	mask := uint64(size - 1)
	for k, v := range m {
		i := (k * 0x9E3779B97F4A7C15) >> shift
		for t.slots[i].key != emptyKey {
			i = (i + 1) & mask
		}
		t.slots[i] = pairSlot{k, v}
	}
	return t
}

func (t *pairTable) get(k uint64) (merge, bool) {
	mask := uint64(len(t.slots) - 1)
	for i := (k * 0x9E3779B97F4A7C15) >> t.shift; ; i = (i + 1) & mask {
		s := &t.slots[i]
		switch s.key {
		case k:
			return s.m, true
		case emptyKey:
			return merge{}, false
		}
	}
}
