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

// cacheSlot is one entry (32 bytes). w0 and w1 are the packed key (see makeKey); for one id, idOff holds the id
// itself so the hit needs no arena access.
type cacheSlot struct {
	w0, w1 uint64
	hash   uint32
	keyOff uint32 // offset of the key in segGen.keys (klen > 16 only)
	idOff  uint32 // offset in segGen.ids, or the id when idN == 1
	idN    uint16
	klen   uint8
}

const (
	inlineKey     = 16   // keys up to this many bytes live in the slot only
	minCacheSlots = 1024 // a generation's first table; it doubles as entries arrive, up to maxSlots
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
	acc := c.seed ^ uint64(n)
	if n > inlineKey {
		for i := 0; i+16 <= n; i += 16 {
			acc = mix(le64(s, i)^mixK0, le64(s, i+8)^acc)
		}
	}
	h := mix(w0^mixK0^acc, w1^mixK1)
	hash := uint32(h) ^ uint32(h>>32)
	if c.collide {
		hash = 0
	}
	c.key.s, c.key.w0, c.key.w1, c.key.hash = s, w0, w1, hash
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
			(n <= inlineKey || string(g.keys[s.keyOff:s.keyOff+uint32(n)]) == k.s) {
			return s
		}
	}
}

// appendIDs appends the ids of slot s of g.
func (g *segGen) appendIDs(dst []int32, s *cacheSlot) []int32 {
	if s.idN == 1 {
		return append(dst, int32(s.idOff))
	}
	return append(dst, g.ids[s.idOff:s.idOff+uint32(s.idN)]...)
}

// appendCached appends the cached ids of key s and reports whether there were any. An old-generation hit is
// copied into the current generation. After a miss, put(ids) stores the ids of s.
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
	if g.entries >= c.maxEntries || (len(ids) > 1 && len(g.ids)+len(ids) > c.maxIDs) ||
		(long && len(g.keys)+len(k.s) > c.maxKeyBytes) {
		c.cur, c.old = c.old, c.cur
		g = c.cur
		clear(g.slots)
		g.entries, g.ids, g.keys = 0, g.ids[:0], g.keys[:0]
	}
	if 2*(g.entries+1) > len(g.slots) && len(g.slots) < c.maxSlots {
		g.grow(c.maxSlots)
	}
	s := cacheSlot{w0: k.w0, w1: k.w1, hash: k.hash, klen: uint8(len(k.s)), idN: uint16(len(ids))}
	if len(ids) == 1 {
		s.idOff = uint32(ids[0])
	} else {
		s.idOff = uint32(len(g.ids))
		g.ids = append(g.ids, ids...)
	}
	if long {
		s.keyOff = uint32(len(g.keys))
		g.keys = append(g.keys, k.s...)
	}
	k.s = "" // do not pin the caller's text
	g.insert(s)
	g.entries++
}

func (g *segGen) insert(s cacheSlot) {
	i := s.hash & g.mask
	for g.slots[i].klen != 0 {
		i = (i + 1) & g.mask
	}
	g.slots[i] = s
}

// grow doubles the table (at least minCacheSlots, at most max) and reinserts the entries.
func (g *segGen) grow(limit int) {
	n := min(max(minCacheSlots, 2*len(g.slots)), limit)
	old := g.slots
	g.slots, g.mask = make([]cacheSlot, n), uint32(n-1)
	for _, s := range old {
		if s.klen != 0 {
			g.insert(s)
		}
	}
}
