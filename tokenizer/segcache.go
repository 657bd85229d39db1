package tokenizer

import (
	"math/bits"
	"math/rand/v2"
)

// segCache maps segment keys (1..cacheMaxKey bytes) to their ids in two generations of open-addressing tables with
// pointer-free fixed-size slots. It replaces map[string]span, whose lookups (string hashing, swiss-table probing and
// memeqbody on the key) took ~10% of a full recipe run's CPU, and whose cloned key strings were one allocation per
// miss and pointers for the GC to scan.
//
// A key of up to 16 bytes is stored in the slot itself as two words (packed so that, given the length, they
// determine every byte), so a lookup compares two words and a length and touches no other memory. Longer keys also
// keep a copy in a byte arena that a match is confirmed against. The hash is computed from the same words.
//
// Eviction is the scheme the map cache had: when the current generation reaches maxEntries segments, maxIDs ids or
// maxKeyBytes arena bytes it becomes the old one and the previous old one is cleared and reused; hits in the old
// generation are copied forward, so hot segments survive without LRU bookkeeping. Results never depend on what is
// cached (a hit returns the ids the BPE gave for that very key), so eviction order and the hash seed cannot change
// output.
type segCache struct {
	cur, old    *segGen
	maxEntries  int
	maxIDs      int
	maxKeyBytes int
	maxSlots    int // table size a generation grows to: the power of two ≥ 2*maxEntries (load ≤ 1/2)
	seed        uint64
	key         cacheKey // the key of the last appendCached
	collide     bool     // tests: every key hashes to the same slot, so probing and key comparison are exercised
}

// segGen is one generation: a linear-probing table, the ids of its entries and the bytes of its long keys.
type segGen struct {
	slots   []cacheSlot // len is a power of two; klen == 0 marks an empty slot
	mask    uint32
	entries int
	ids     []int32
	keys    []byte
}

// cacheSlot is one entry (32 bytes, so a probe touches one cache line). w0 and w1 are the packed key (see setKey).
// Up to inlineIDs ids of a key of up to inlineKey bytes live in data, so such a hit touches nothing else; otherwise
// data[0] is the offset of the ids in segGen.ids and, for a long key, data[1] the offset of the key in segGen.keys.
type cacheSlot struct {
	w0, w1 uint64
	data   [inlineIDs]uint32
	klen   uint8 // 0: empty slot
	idN    uint8 // ≤ maxSegmentIDs
}

const (
	inlineKey     = 16                // keys up to this many bytes live in the slot only
	inlineIDs     = 3                 // ids of a short key kept in the slot
	maxSegmentIDs = 3*cacheMaxKey + 3 // ids of one key: a malformed byte normalizes to U+FFFD, three byte-fallback ids
	minCacheSlots = 1024              // a generation's first table; it doubles as entries arrive, up to maxSlots
)

// cacheKey is a key with its packed words and hash, computed once per lookup and kept for the put that follows a
// miss. (Returned by value, the struct was copied through the stack with 16-byte moves that read two separate
// 8-byte stores: a store-forwarding stall that cost more than the hash.)
type cacheKey struct {
	s      string
	w0, w1 uint64
	hash   uint32
}

func newSegCache(entries, ids int) *segCache {
	slots := minCacheSlots
	for slots < 2*entries {
		slots <<= 1
	}
	return &segCache{
		cur: &segGen{}, old: &segGen{},
		maxEntries: entries, maxIDs: ids, maxKeyBytes: entries * inlineKey, maxSlots: slots,
		seed: rand.Uint64(),
	}
}

func le64(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

func le32(s string, i int) uint64 {
	_ = s[i+3]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24
}

// mix is wyhash's multiply-fold.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

const (
	mixK0 = 0xa0761d6478bd642f
	mixK1 = 0xe7037ed1a0b428db
)

// setKey packs s (1..cacheMaxKey bytes) into two words, hashes it and keeps the result in c.key. For len(s) ≤ 16
// the words with the length determine s: 8..16 bytes are the first and the last 8 (overlapping), 4..7 the first
// and the last 4, 1..3 the first, middle and last byte. Longer keys use the first and last 8 bytes as a quick
// filter before the full comparison.
func (c *segCache) setKey(s string) {
	var w0, w1 uint64
	n := len(s)
	switch {
	case n >= 8:
		w0, w1 = le64(s, 0), le64(s, n-8)
	case n >= 4:
		w0 = le32(s, 0) | le32(s, n-4)<<32
	default:
		w0 = uint64(s[0]) | uint64(s[n>>1])<<8 | uint64(s[n-1])<<16
	}
	c.key.s, c.key.w0, c.key.w1, c.key.hash = s, w0, w1, c.hash(w0, w1, n, s)
}

// hash hashes a key of n bytes from its packed words and, when longer than inlineKey, all of its bytes s (else s
// is not read).
func (c *segCache) hash(w0, w1 uint64, n int, s string) uint32 {
	acc := c.seed ^ uint64(n)
	if n > inlineKey {
		for i := 0; i+16 <= n; i += 16 {
			acc = mix(le64(s, i)^mixK0, le64(s, i+8)^acc)
		}
	}
	h := mix(w0^mixK0^acc, w1^mixK1)
	if c.collide {
		return 0
	}
	return uint32(h) ^ uint32(h>>32)
}

// find returns the slot holding k, or nil.
func (g *segGen) find(k *cacheKey) *cacheSlot {
	if g.slots == nil {
		return nil
	}
	n := len(k.s)
	for i := k.hash & g.mask; ; i = (i + 1) & g.mask {
		s := &g.slots[i]
		if s.klen == 0 {
			return nil
		}
		if s.w0 == k.w0 && s.w1 == k.w1 && int(s.klen) == n &&
			(n <= inlineKey || string(g.keys[s.data[1]:s.data[1]+uint32(n)]) == k.s) {
			return s
		}
	}
}

// appendIDs appends the ids of slot s of g.
func (g *segGen) appendIDs(dst []int32, s *cacheSlot) []int32 {
	if s.klen <= inlineKey {
		switch s.idN {
		case 1:
			return append(dst, int32(s.data[0]))
		case 2:
			return append(dst, int32(s.data[0]), int32(s.data[1]))
		case 3:
			return append(dst, int32(s.data[0]), int32(s.data[1]), int32(s.data[2]))
		}
	}
	return append(dst, g.ids[s.data[0]:s.data[0]+uint32(s.idN)]...)
}

// appendCached appends the cached ids of key and reports whether there were any. An old-generation hit is
// copied into the current generation. After a miss, put(ids) stores the ids of key.
func (c *segCache) appendCached(dst []int32, key string) ([]int32, bool) {
	c.setKey(key)
	k := &c.key
	if s := c.cur.find(k); s != nil {
		return c.cur.appendIDs(dst, s), true
	}
	s := c.old.find(k)
	if s == nil {
		return dst, false
	}
	mark := len(dst)
	dst = c.old.appendIDs(dst, s)
	c.put(dst[mark:])
	return dst, true
}

// put stores ids under the key of the last appendCached, which missed the current generation, starting a new
// generation when the current one is full.
func (c *segCache) put(ids []int32) {
	k := &c.key
	g := c.cur
	long := len(k.s) > inlineKey
	inline := !long && len(ids) >= 1 && len(ids) <= inlineIDs
	if g.entries >= c.maxEntries || (!inline && len(g.ids)+len(ids) > c.maxIDs) ||
		(long && len(g.keys)+len(k.s) > c.maxKeyBytes) {
		c.cur, c.old = c.old, c.cur
		g = c.cur
		clear(g.slots)
		g.entries, g.ids, g.keys = 0, g.ids[:0], g.keys[:0]
	}
	if 2*(g.entries+1) > len(g.slots) && len(g.slots) < c.maxSlots {
		c.grow(g)
	}
	s := cacheSlot{w0: k.w0, w1: k.w1, klen: uint8(len(k.s)), idN: uint8(len(ids))}
	if inline {
		for i, id := range ids {
			s.data[i] = uint32(id)
		}
	} else {
		s.data[0] = uint32(len(g.ids))
		g.ids = append(growBounded(g.ids, len(ids), c.maxIDs+maxSegmentIDs), ids...)
	}
	if long {
		s.data[1] = uint32(len(g.keys))
		g.keys = append(growBounded(g.keys, len(k.s), c.maxKeyBytes+cacheMaxKey), k.s...)
	}
	k.s = "" // do not pin the caller's text
	g.insert(s, k.hash)
	g.entries++
}

// growBounded makes room for add more elements in a, doubling its capacity but never past limit, so that an
// arena's memory is its bound rather than append's growth past it.
func growBounded[T any](a []T, add, limit int) []T {
	n := len(a) + add
	if n <= cap(a) {
		return a
	}
	b := make([]T, len(a), min(max(2*cap(a), 256, n), max(limit, n)))
	copy(b, a)
	return b
}

func (g *segGen) insert(s cacheSlot, hash uint32) {
	i := hash & g.mask
	for g.slots[i].klen != 0 {
		i = (i + 1) & g.mask
	}
	g.slots[i] = s
}

// grow doubles g's table (at least minCacheSlots, at most maxSlots) and reinserts the entries.
func (c *segCache) grow(g *segGen) {
	n := min(max(minCacheSlots, 2*len(g.slots)), c.maxSlots)
	old := g.slots
	g.slots, g.mask = make([]cacheSlot, n), uint32(n-1)
	for i := range old {
		s := &old[i]
		if s.klen == 0 {
			continue
		}
		var key string
		if s.klen > inlineKey {
			key = string(g.keys[s.data[1] : s.data[1]+uint32(s.klen)])
		}
		g.insert(*s, c.hash(s.w0, s.w1, int(s.klen), key))
	}
}
