package tokenizer

// pairTable is an open-addressing hash table from a pair key (pairKey) to its merge, built once at load time.
// It replaces a Go map on the hottest path of encoding: a multiplicative hash and linear probing over flat
// arrays make a lookup a couple of cache-line reads, about twice as fast as map[uint64]merge here.
type pairTable struct {
	keys  []uint64
	vals  []merge
	shift uint
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
	t := pairTable{keys: make([]uint64, size), vals: make([]merge, size), shift: shift}
	for i := range t.keys {
		t.keys[i] = emptyKey
	}
	mask := uint64(size - 1)
	for k, v := range m {
		i := (k * 0x9E3779B97F4A7C15) >> shift
		for t.keys[i] != emptyKey {
			i = (i + 1) & mask
		}
		t.keys[i], t.vals[i] = k, v
	}
	return t
}

func (t *pairTable) get(k uint64) (merge, bool) {
	mask := uint64(len(t.keys) - 1)
	for i := (k * 0x9E3779B97F4A7C15) >> t.shift; ; i = (i + 1) & mask {
		switch t.keys[i] {
		case k:
			return t.vals[i], true
		case emptyKey:
			return merge{}, false
		}
	}
}
