package dedupe

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"github.com/orcaprep/orcaprep/orca"
)

// Reason names, as written to rejected-*.jsonl and stats.json.
const (
	ReasonExactDuplicate = "exact_duplicate"
	ReasonNearDuplicate  = "near_duplicate"
)

// Index remembers the rows kept so far and answers "is this row a duplicate of an earlier kept row?".
// It is not safe for concurrent use: the pipeline calls Check from one goroutine in input order, which is
// what makes the result independent of the worker count (the first occurrence always wins).
//
// Memory per kept row (see README.md for the derivation):
//   - exact: 16-byte key in a chunked array indexed by ordinal + a uint32 ordinal slot in an open-addressing
//     table kept between 50% and 75% full (it grows by 1.5×) → 16 + 5.3…8 = 21.3…24 bytes;
//   - near: NumPerm×SigBits/8 bytes of b-bit MinHash (64 with the defaults) + at most Bands uint32 slots in
//     segments filled to 75% (5.3 bytes per entry after Reserve, at most 8 without) → 117…144 bytes for
//     10 bands;
//   - id for duplicate_of: 8 bytes (OpenOrca ids "niv.123" are packed into the 8 bytes; other ids go to an
//     append-only arena).
type Index struct {
	cfg   Config
	ids   idStore
	exact *exactTable
	near  *nearIndex
	kept  uint32

	exactDups, nearDups int
	nearCandidates      int // candidates whose Jaccard was estimated
	nearBelow           int // rows whose best candidate was under the confirm threshold
	nearContained       int // near duplicates confirmed by the containment clause (Jaccard below threshold)
	dupCount            map[uint32]uint32
	confirm, confirmC   float64
	jaccardHist         [21]int // estimated Jaccard of confirmed near duplicates, 0.05 buckets
	kinds               [5]int  // rows near-checked, by signature kind (SigFull…SigFallback)
}

// NewIndex validates cfg and returns an empty index.
func NewIndex(cfg Config) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ix := &Index{cfg: cfg, dupCount: map[uint32]uint32{}}
	if cfg.Exact.Enabled {
		ix.exact = &exactTable{}
	}
	if cfg.Near.Enabled {
		ix.near = newNearIndex(cfg.Near)
		ix.confirm = cfg.Near.EffectiveConfirmThreshold()
		ix.confirmC = cfg.Near.EffectiveConfirmContainment()
	}
	return ix, nil
}

// Check decides row id, given its exact key and near signature from Signer.Sign (either is ignored when that
// dedupe is disabled; an empty signature is never a near duplicate). It returns "" and records the row as
// kept, or the reason, the id of the earlier kept row it duplicates and a detail for near duplicates
// ("jaccard=0.86", or "jaccard=0.55 containment=0.97" when the containment clause confirmed it).
func (ix *Index) Check(id string, key Key, sig []byte) (reason, dupOf, detail string) {
	if ix.exact != nil {
		if ord, ok := ix.exact.find(key); ok {
			ix.exactDups++
			ix.dupCount[ord]++
			return ReasonExactDuplicate, ix.ids.get(ord), ""
		}
	}
	hasSig := ix.near != nil && len(sig) == ix.near.sigLen
	if hasSig {
		if k := sig[0]; int(k) < len(ix.kinds) {
			ix.kinds[k]++
		}
		ix.near.prepare(sig)
		m := ix.near.best(ix.confirm, ix.confirmC)
		ix.nearCandidates += m.n
		if m.match {
			ix.nearDups++
			ix.dupCount[m.ord]++
			ix.jaccardHist[int(m.j*20)]++
			detail = "jaccard=" + strconv.FormatFloat(m.j, 'f', 2, 64)
			if m.j < ix.confirm {
				ix.nearContained++
				detail += " containment=" + strconv.FormatFloat(m.c, 'f', 2, 64)
			}
			return ReasonNearDuplicate, ix.ids.get(m.ord), detail
		}
		if m.n > 0 {
			ix.nearBelow++
		}
	}
	ord := ix.kept
	ix.kept++
	ix.ids.add(id)
	if ix.exact != nil {
		ix.exact.insert(key, ord)
	}
	if ix.near != nil {
		ix.near.add(ord, hasSig)
	}
	return "", "", ""
}

// Reserve sizes the index for about rows kept rows (e.g. the input row count), so tables need no growth:
// the near-duplicate band table is then a single segment. Call it before the first Check; it is a hint.
func (ix *Index) Reserve(rows int) {
	if ix.near != nil {
		ix.near.reserve(rows)
	}
	if ix.exact != nil && ix.exact.used == 0 && rows > 0 {
		ix.exact.slots = make([]uint32, nextSize(0, rows))
	}
}

// IndexStats summarizes an index for stats.json.
type IndexStats struct {
	Kept            int `json:"kept"`
	ExactDuplicates int `json:"exact_duplicates"`
	NearDuplicates  int `json:"near_duplicates"`
	// NearCandidates counts LSH candidates whose Jaccard was estimated; NearBelowThreshold counts rows that
	// had candidates but none reached the confirm threshold (kept).
	NearCandidates     int `json:"near_candidates"`
	NearBelowThreshold int `json:"near_below_threshold"`
	// NearContained counts near duplicates confirmed by the containment clause (their Jaccard was below the
	// confirm threshold: a cut or an addition within max_growth of the row).
	NearContained    int     `json:"near_contained"`
	ConfirmThreshold float64 `json:"confirm_threshold,omitempty"`
	// NearSignatures counts near-checked rows by what their signature covers: "full" (no template shingle),
	// "distinct" (template words removed), "pseudo" (only a few scattered non-template words), "fallback"
	// (every word is template, so all shingles are used).
	NearSignatures map[string]int `json:"near_signatures,omitempty"`
	// NearJaccard is a histogram of the estimated Jaccard of dropped near duplicates ("0.80-0.85": n).
	NearJaccard map[string]int `json:"near_jaccard,omitempty"`
	// Clusters is a histogram of duplicate cluster sizes (kept row + its duplicates): "2", "3", "4-7", "8-15", "16+".
	Clusters   map[string]int `json:"clusters"`
	MaxCluster int            `json:"max_cluster"`
	// Memory, in bytes, of what the index holds, and per kept row.
	MemoryBytes       int64   `json:"memory_bytes"`
	BytesPerKept      float64 `json:"bytes_per_kept"`
	ExactBytesPerKept float64 `json:"exact_bytes_per_kept"`
	NearBytesPerKept  float64 `json:"near_bytes_per_kept"`
	IDBytesPerKept    float64 `json:"id_bytes_per_kept"`
}

// Stats reports counts, the cluster-size histogram and a memory estimate.
func (ix *Index) Stats() IndexStats {
	s := IndexStats{
		Kept: int(ix.kept), ExactDuplicates: ix.exactDups, NearDuplicates: ix.nearDups,
		NearCandidates: ix.nearCandidates, NearBelowThreshold: ix.nearBelow, NearContained: ix.nearContained,
		ConfirmThreshold: ix.confirm,
		Clusters:         map[string]int{},
	}
	for _, n := range ix.dupCount {
		size := int(n) + 1
		if size > s.MaxCluster {
			s.MaxCluster = size
		}
		var b string
		switch {
		case size <= 3:
			b = strconv.Itoa(size)
		case size <= 7:
			b = "4-7"
		case size <= 15:
			b = "8-15"
		default:
			b = "16+"
		}
		s.Clusters[b]++
	}
	if ix.near != nil {
		s.NearSignatures = map[string]int{}
		for k, name := range []string{SigFull: "full", SigDistinct: "distinct", SigPseudo: "pseudo", SigFallback: "fallback"} {
			if name != "" && ix.kinds[k] > 0 {
				s.NearSignatures[name] = ix.kinds[k]
			}
		}
		s.NearJaccard = map[string]int{}
		for i, n := range ix.jaccardHist {
			if n > 0 {
				s.NearJaccard[fmt.Sprintf("%.2f-%.2f", float64(i)/20, float64(i+1)/20)] = n
			}
		}
	}
	idb := ix.ids.bytes()
	var eb, nb int64
	if ix.exact != nil {
		eb = ix.exact.bytes()
	}
	if ix.near != nil {
		nb = ix.near.bytes()
	}
	s.MemoryBytes = idb + eb + nb
	if ix.kept > 0 {
		k := float64(ix.kept)
		s.BytesPerKept = float64(s.MemoryBytes) / k
		s.ExactBytesPerKept = float64(eb) / k
		s.NearBytesPerKept = float64(nb) / k
		s.IDBytesPerKept = float64(idb) / k
	}
	return s
}

// ---- chunked storage: grows without doubling a big slice (no 2× transient, no slack beyond one chunk) ----

const chunkShift = 10 // 1024 rows per chunk: at most 1023 rows of slack
const chunkLen = 1 << chunkShift

type chunked[T any] struct {
	chunks [][]T
	n      int
}

func (c *chunked[T]) append(v T) {
	if c.n>>chunkShift == len(c.chunks) {
		c.chunks = append(c.chunks, make([]T, 0, chunkLen))
	}
	last := &c.chunks[len(c.chunks)-1]
	*last = append(*last, v)
	c.n++
}

func (c *chunked[T]) at(i uint32) *T { return &c.chunks[i>>chunkShift][i&(chunkLen-1)] }

func (c *chunked[T]) elemBytes(size int) int64 { return int64(len(c.chunks)) * chunkLen * int64(size) }

// ---- ids ----

// idStore keeps the id of every kept row for duplicate_of. OpenOrca ids ("<submix>.<decimal>") are packed
// into a uint64 (submix tag in the top byte, number below); anything else is stored in a byte arena and the
// uint64 holds its location.
type idStore struct {
	codes chunked[uint64]
	arena [][]byte
}

const (
	arenaChunk = 1 << 20
	arenaTag   = 0xff
)

var idPrefixes = [...]string{orca.SubmixCoT, orca.SubmixFlan, orca.SubmixNIV, orca.SubmixT0}

func packID(id string) (uint64, bool) {
	dot := strings.IndexByte(id, '.')
	if dot < 0 || dot+1 >= len(id) || len(id)-dot-1 > 16 {
		return 0, false
	}
	tag := -1
	for i, p := range idPrefixes {
		if id[:dot] == p {
			tag = i
		}
	}
	digits := id[dot+1:]
	if tag < 0 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n >= 1<<56 {
		return 0, false
	}
	return uint64(tag+1)<<56 | n, true
}

func (s *idStore) add(id string) {
	if c, ok := packID(id); ok {
		s.codes.append(c)
		return
	}
	// Arena entry: tag | chunk (24 bits) | offset (20 bits) | length (12 bits; 4095 = "the whole chunk").
	n := len(id)
	if n >= 4095 {
		s.arena = append(s.arena, []byte(id))
		s.codes.append(uint64(arenaTag)<<56 | uint64(len(s.arena)-1)<<32 | 4095)
		return
	}
	if len(s.arena) == 0 || len(s.arena[len(s.arena)-1])+n > arenaChunk || cap(s.arena[len(s.arena)-1]) != arenaChunk {
		s.arena = append(s.arena, make([]byte, 0, arenaChunk))
	}
	ci := len(s.arena) - 1
	off := len(s.arena[ci])
	s.arena[ci] = append(s.arena[ci], id...)
	s.codes.append(uint64(arenaTag)<<56 | uint64(ci)<<32 | uint64(off)<<12 | uint64(n))
}

func (s *idStore) get(ord uint32) string {
	c := *s.codes.at(ord)
	tag := c >> 56
	if tag != arenaTag {
		return idPrefixes[tag-1] + "." + strconv.FormatUint(c&(1<<56-1), 10)
	}
	ci := (c >> 32) & (1<<24 - 1)
	n := c & 4095
	if n == 4095 {
		return string(s.arena[ci])
	}
	off := (c >> 12) & (1<<20 - 1)
	return string(s.arena[ci][off : off+n])
}

func (s *idStore) bytes() int64 {
	b := s.codes.elemBytes(8)
	for _, a := range s.arena {
		b += int64(cap(a))
	}
	return b
}

// ---- open addressing over uint32 ordinals ----

// fastrange maps a 64-bit hash onto [0, n) without a division (Lemire); n need not be a power of two,
// which lets tables grow by 1.5× and keep their load between 50% and 75%.
func fastrange(h uint64, n int) int {
	hi, _ := bits.Mul64(h, uint64(n))
	return int(hi)
}

func nextSize(cur, need int) int {
	n := cur
	if n < 1024 {
		n = 1024
	}
	for need*4 > n*3 {
		n = n + n/2
	}
	return n
}

// exactTable maps keys to ordinals: keys live once, in ordinal order; the table holds ordinal+1.
type exactTable struct {
	keys  chunked[Key]
	slots []uint32
	used  int
}

func keyHash(k *Key) uint64 { return binary.LittleEndian.Uint64(k[8:]) }

func (t *exactTable) find(k Key) (uint32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	i := fastrange(keyHash(&k), len(t.slots))
	for {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if *t.keys.at(s - 1) == k {
			return s - 1, true
		}
		if i++; i == len(t.slots) {
			i = 0
		}
	}
}

func (t *exactTable) insert(k Key, ord uint32) {
	t.keys.append(k) // ordinals are dense and assigned in order, so keys[ord] is this key
	if (t.used+1)*4 > len(t.slots)*3 {
		t.grow(nextSize(len(t.slots), t.used+1))
	}
	t.place(keyHash(&k), ord)
	t.used++
}

func (t *exactTable) place(h uint64, ord uint32) {
	i := fastrange(h, len(t.slots))
	for t.slots[i] != 0 {
		if i++; i == len(t.slots) {
			i = 0
		}
	}
	t.slots[i] = ord + 1
}

func (t *exactTable) grow(n int) {
	old := t.slots
	t.slots = make([]uint32, n)
	for _, s := range old {
		if s != 0 {
			t.place(keyHash(t.keys.at(s-1)), s-1)
		}
	}
}

func (t *exactTable) bytes() int64 { return t.keys.elemBytes(16) + int64(cap(t.slots))*4 }

// ---- near-duplicate LSH index ----

// nearIndex stores each kept row's b-bit signature (for confirming candidates) and one shared
// open-addressing table of uint32 ordinals for all bands. A slot is found from the full-precision band
// hash and verified against the stored b-bit values of that band; only the first kept row of each band
// value is inserted, so a query meets at most about one candidate per band.

type nearIndex struct {
	k, bands, rows, b int
	sigLen            int // length of a signature from Signer.Sign
	fpLen             int // band fingerprint bytes (padded to 8)
	codeLen           int // packed code bytes
	rowBytes          int // stored per kept row: fingerprints + packed codes + response codes + counts
	codes             float64
	maxGrowth         float64
	respJ, respC      float64 // response condition (both 0: off)
	tmplC             float64 // template condition (0: off)

	sigChunks [][]byte
	segs      []segment
	used      int // band entries

	// per-query scratch (the index is single-goroutine)
	q       []byte // the query's stored part (fingerprints + codes), pointing into its signature
	bandH   []uint64
	cands   []uint32
	exists  []bool // per band: some kept row already holds the query's band value (found by best)
	emptyAt []int  // per band: the empty slot ending its probe chain in the last segment (-1: none)
}

func newNearIndex(c NearConfig) *nearIndex {
	return &nearIndex{
		k: c.NumPerm, bands: c.Bands, rows: c.Rows, b: c.SigBits, sigLen: SignatureBytes(c),
		fpLen: fpBytes(c), codeLen: packedBytes(c), rowBytes: storedBytes(c), codes: float64(uint(1)<<c.SigBits - 1),
		maxGrowth: c.MaxGrowth, respJ: c.ResponseJaccard, respC: c.ResponseContainment, tmplC: c.TemplateContainment,
		bandH: make([]uint64, c.Bands), exists: make([]bool, c.Bands), emptyAt: make([]int, c.Bands),
	}
}

// rowsPerSigChunk signatures share one allocation.
const rowsPerSigChunk = 1 << 12

func (n *nearIndex) sigOf(ord uint32) []byte {
	c := n.sigChunks[ord/rowsPerSigChunk]
	off := int(ord%rowsPerSigChunk) * n.rowBytes
	return c[off : off+n.rowBytes]
}

// prepare points the query at sig's stored part and decodes its band hashes (both computed by the Signer in
// the parallel workers, so the ordered merge only looks things up).
func (n *nearIndex) prepare(sig []byte) {
	for t := 0; t < n.bands; t++ {
		n.bandH[t] = binary.LittleEndian.Uint64(sig[1+8*t:])
	}
	n.q = sig[1+8*n.bands:]
}

// bandMatches checks a band-table entry against the query's band t by its fingerprint byte, so that entries
// of other band values met while probing are skipped (1 in 256 slip through and only cost an estimate).
func (n *nearIndex) bandMatches(stored []byte, t int) bool { return stored[t] == n.q[t] }

// nonZero returns, for a word of packed b-bit codes, a mask with the lowest bit of every non-zero code set.
func nonZero(x uint64, b int) uint64 {
	switch b {
	case 2:
		return (x | x>>1) & 0x5555555555555555
	case 4:
		x |= x >> 1
		x |= x >> 2
		return x & 0x1111111111111111
	default: // 8
		x |= x >> 1
		x |= x >> 2
		x |= x >> 4
		return x & 0x0101010101010101
	}
}

// estimate is the Jaccard estimate between the query and a stored row from their fine bins.
func (n *nearIndex) estimate(stored []byte) float64 {
	o := n.fpLen
	return estimateCodes(n.q[o:o+n.codeLen], stored[o:o+n.codeLen], n.b, n.codes)
}

// respEstimate is the Jaccard estimate between the query's and a stored row's responses; two empty
// responses are identical.
func (n *nearIndex) respEstimate(stored []byte) float64 {
	o := n.fpLen + n.codeLen
	j := estimateCodes(n.q[o:o+respBytes], stored[o:o+respBytes], respBits, 1<<respBits-1)
	if j < 0 {
		return 1
	}
	return j
}

// estimateCodes is the Jaccard estimate from two rows' packed b-bit bin codes (Li, Owen & Zhang 2012:
// one-permutation hashing without densification): among bins holding an element of either row, the share
// holding the same minimum. Codes of different minima collide with probability 1/codes; that is corrected.
// When the rows have fewer elements than bins, most elements have a bin of their own and the estimate is
// close to the exact Jaccard rather than a sample of it. It returns -1 when both rows are empty.
func estimateCodes(q, s []byte, b int, codes float64) float64 {
	var eq, both, either int
	for i := 0; i < len(q); i += 8 {
		a := binary.LittleEndian.Uint64(q[i:])
		c := binary.LittleEndian.Uint64(s[i:])
		na, nc := nonZero(a, b), nonZero(c, b)
		bt := na & nc
		both += bits.OnesCount64(bt)
		either += bits.OnesCount64(na | nc)
		eq += bits.OnesCount64(bt &^ nonZero(a^c, b))
	}
	if either == 0 {
		return -1
	}
	t := (codes*float64(eq) - float64(both)) / (codes - 1)
	return max(0, min(1, t/float64(either)))
}

// Band entries live in segments: open-addressing tables of uint32 ordinals. The stored signature has only
// b bits per value, so a band hash cannot be recomputed to rehash a full table; instead a full segment is
// frozen (at 75% load) and a new one twice its size takes new entries, and lookups walk every segment.
// Reserve sizes the first segment for the whole input so that a run normally has a single segment.
type segment struct {
	slots []uint32 // ordinal+1 (0 = empty)
	fps   []uint8  // the band fingerprint of each slot's entry, so probing touches a signature only on a match
	used  int
}

func newSegment(size int) segment {
	return segment{slots: make([]uint32, size), fps: make([]uint8, size)}
}

// counts returns a stored row's element count, word count, response element count and template shingle
// count.
func (n *nearIndex) counts(stored []byte) (elems, words, resp, tmpl float64) {
	off := n.fpLen + n.codeLen + 2*respBytes
	u := func(i int) float64 { return float64(binary.LittleEndian.Uint32(stored[off+4*i:])) }
	return u(0), u(1), u(2), u(3)
}

// templatesAgree is the template condition: when both rows have template shingles, the estimated
// containment of the smaller set in the larger reaches template_containment. A row without any agrees with
// every row: an edit can remove every shingle of a short template (one changed word in a 7-word prompt).
func (n *nearIndex) templatesAgree(stored []byte) bool {
	if n.tmplC == 0 {
		return true
	}
	_, _, _, ta := n.counts(n.q)
	_, _, _, tb := n.counts(stored)
	if ta == 0 || tb == 0 {
		return true
	}
	o := n.fpLen + n.codeLen + respBytes
	j := max(0, estimateCodes(n.q[o:o+respBytes], stored[o:o+respBytes], respBits, 1<<respBits-1))
	return j*(ta+tb)/(1+j)/min(ta, tb) >= n.tmplC
}

// responsesAgree is the response condition: the responses' estimated Jaccard reaches response_jaccard, or
// the estimated containment of the smaller reaches response_containment.
func (n *nearIndex) responsesAgree(stored []byte) bool {
	if n.respJ == 0 && n.respC == 0 {
		return true
	}
	j := n.respEstimate(stored)
	if n.respJ > 0 && j >= n.respJ {
		return true
	}
	_, _, ra, _ := n.counts(n.q)
	_, _, rb, _ := n.counts(stored)
	small := min(ra, rb)
	if n.respC == 0 || small == 0 {
		return false
	}
	return j*(ra+rb)/(1+j)/small >= n.respC
}

// containment estimates |A∩B| / min(|A|,|B|) from the Jaccard estimate j and the exact element counts
// (|A∩B| = j(|A|+|B|)/(1+j)), and reports whether the rows' word counts are within maxGrowth of the longer.
func (n *nearIndex) containment(stored []byte, j float64) (float64, bool) {
	ea, wa, _, _ := n.counts(n.q)
	eb, wb, _, _ := n.counts(stored)
	small := min(ea, eb)
	if small == 0 {
		return 0, false
	}
	c := min(1, j*(ea+eb)/(1+j)/small)
	return c, abs(wa-wb) <= n.maxGrowth*max(wa, wb)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// nearMatch is the outcome of a query: the best candidate, whether it confirms, its estimated Jaccard and
// containment, and the number of distinct candidates estimated.
type nearMatch struct {
	ord   uint32
	j, c  float64
	match bool
	n     int
}

// best walks every band's probe chains and returns the best candidate: one that confirms (estimated Jaccard
// >= confirmJ, or estimated containment >= confirmC with word counts within max_growth) before one that does
// not, then the highest estimated Jaccard, then the lowest ordinal.
func (n *nearIndex) best(confirmJ, confirmC float64) nearMatch {
	n.cands = n.cands[:0]
	m := nearMatch{j: -1}
	last := len(n.segs) - 1
	for t := 0; t < n.bands; t++ {
		n.exists[t] = false
		n.emptyAt[t] = -1
	}
	for si := range n.segs {
		slots, fps := n.segs[si].slots, n.segs[si].fps
		for t := 0; t < n.bands; t++ {
			fp := n.q[t]
			i := fastrange(n.bandH[t], len(slots))
			for {
				s := slots[i]
				if s == 0 {
					break
				}
				if fps[i] == fp {
					ord := s - 1
					if st := n.sigOf(ord); n.bandMatches(st, t) {
						n.exists[t] = true
						if !containsU32(n.cands, ord) {
							n.cands = append(n.cands, ord)
							j := max(0, n.estimate(st))
							c, within := n.containment(st, j)
							ok := (j >= confirmJ || within && c >= confirmC) && n.responsesAgree(st) && n.templatesAgree(st)
							if ok && !m.match || ok == m.match && (j > m.j || j == m.j && ord < m.ord) {
								m = nearMatch{ord: ord, j: j, c: c, match: ok}
							}
						}
					}
				}
				if i++; i == len(slots) {
					i = 0
				}
			}
			if si == last {
				n.emptyAt[t] = i // where add inserts band t, unless an earlier band of the row took the slot
			}
		}
	}
	m.n = len(n.cands)
	return m
}

func containsU32(s []uint32, v uint32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// reserve makes the first segment big enough for rows kept rows (a hint; no effect once entries exist).
func (n *nearIndex) reserve(rows int) {
	if n.used > 0 || rows <= 0 {
		return
	}
	size := nextSize(0, rows*n.bands)
	n.segs = []segment{newSegment(size)}
}

// add stores the prepared query as kept row ord; with indexed=false (no words) it stores a zero
// signature and no band entries, so the row can never be a candidate.
func (n *nearIndex) add(ord uint32, indexed bool) {
	if int(ord)/rowsPerSigChunk == len(n.sigChunks) {
		n.sigChunks = append(n.sigChunks, make([]byte, rowsPerSigChunk*n.rowBytes))
	}
	if !indexed {
		return
	}
	copy(n.sigOf(ord), n.q)
	for t := 0; t < n.bands; t++ {
		if n.exists[t] {
			continue // the first kept row of a band value stays its representative
		}
		last := len(n.segs) - 1
		i := -1
		if last < 0 || (n.segs[last].used+1)*4 > len(n.segs[last].slots)*3 {
			size := 1 << 15
			if last >= 0 {
				size = len(n.segs[last].slots) * 3 / 2 // 1.5× keeps the worst case at 8 bytes per entry
			}
			n.segs = append(n.segs, newSegment(size))
			last++
		} else {
			i = n.emptyAt[t] // the end of band t's probe chain, found by best
		}
		seg := &n.segs[last]
		if i < 0 {
			i = fastrange(n.bandH[t], len(seg.slots))
		}
		for seg.slots[i] != 0 {
			if i++; i == len(seg.slots) {
				i = 0
			}
		}
		seg.slots[i] = ord + 1
		seg.fps[i] = n.q[t]
		seg.used++
		n.used++
	}
}

func (n *nearIndex) bytes() int64 {
	b := int64(len(n.sigChunks)) * int64(rowsPerSigChunk*n.rowBytes)
	for _, sg := range n.segs {
		b += int64(cap(sg.slots))*4 + int64(cap(sg.fps))
	}
	return b
}
