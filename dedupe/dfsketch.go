package dedupe

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"

	"github.com/orcaprep/orcaprep/orca"
)

// DFSketch counts, for every shingle hash, how many rows contain it (its document frequency). It is a
// count-min sketch laid out for one cache miss per shingle: a hash picks one 64-byte block and two distinct
// 8-bit saturating counters inside it; both are incremented, and the estimate is the smaller of the two. It
// never under-counts. Adding is commutative and two sketches of the same size and seed merge by adding their
// counters (saturating at 255), so per-worker or per-task sketches summed in any order give the same bytes
// as one sketch over the whole input — the property a distributed run needs (map tasks write sketches with
// WriteTo, a reduce step merges them).
//
// Expected over-count: with N (row, distinct shingle) pairs added to C counters, each counter receives about
// λ = 2N/C increments from other shingles; the estimate exceeds the true count by k or more with probability
// about P(Poisson(λ) ≥ k)². The pipeline sizes the sketch at 64 bytes per input row, which keeps λ near 4–9
// for OpenOrca-sized rows (see README.md).
type DFSketch struct {
	seed     uint64
	counters []uint8 // len is a multiple of 64
}

// dfBlock is the number of counters per block: one cache line.
const dfBlock = 64

// NewDFSketch returns an empty sketch of about bytes bytes (rounded up to a power of two, at least 4 KiB).
// Seed must be the near-dedupe seed (shingle hashes depend on it; Merge checks that both sides agree).
func NewDFSketch(bytes int, seed uint64) *DFSketch {
	return &DFSketch{seed: seed, counters: make([]uint8, NewDFSketchSize(bytes))}
}

// NewDFSketchSize is the size of NewDFSketch(bytes, …).
func NewDFSketchSize(bytes int) int {
	n := 4096
	for n < bytes && n < 1<<40 {
		n <<= 1
	}
	return n
}

// Bytes is the sketch's size.
func (s *DFSketch) Bytes() int { return len(s.counters) }

// dfSlots returns the block start and the two counter offsets inside it for shingle hash h. Shingle hashes are
// already fmix64 outputs, so their high bits (block, via fastrange) and low bits (counters) are independent.
func dfSlots(h uint64, nblocks int) (block int, p1, p2 uint) {
	block = fastrange(h, nblocks) * dfBlock
	p1 = uint(h & 63)
	p2 = (p1 + 1 + uint((h>>6)%63)) & 63 // never equal to p1
	return
}

// Add counts one row: hashes must be the row's distinct shingle hashes (see DFCounter).
func (s *DFSketch) Add(hashes []uint64) {
	c := s.counters
	nb := len(c) / dfBlock
	for _, h := range hashes {
		b, p1, p2 := dfSlots(h, nb)
		blk := c[b : b+dfBlock : b+dfBlock]
		if blk[p1] < 255 {
			blk[p1]++
		}
		if blk[p2] < 255 {
			blk[p2]++
		}
	}
}

// Estimate is the estimated number of rows holding shingle hash h (never below the true count; 255 means
// "255 or more").
func (s *DFSketch) Estimate(h uint64) int {
	b, p1, p2 := dfSlots(h, len(s.counters)/dfBlock)
	return int(min(s.counters[b+int(p1)], s.counters[b+int(p2)]))
}

// Merge adds o's counts into s (saturating). Both must have the same size and seed.
func (s *DFSketch) Merge(o *DFSketch) error {
	if len(o.counters) != len(s.counters) || o.seed != s.seed {
		return fmt.Errorf("merge document-frequency sketches: size/seed %d/%d vs %d/%d", len(s.counters), s.seed, len(o.counters), o.seed)
	}
	AddCounters(s.counters, o.counters)
	return nil
}

// AddCounters adds src's counters into dst, saturating at 255 (saturating addition is associative, so parts
// added in any order and grouping give the same counters).
func AddCounters(dst, src []byte) {
	for i, v := range src[:len(dst)] {
		sum := uint16(dst[i]) + uint16(v)
		dst[i] = uint8(min(sum, 255))
	}
}

// Part returns the counters of part j of n: blocks [j·B/n, (j+1)·B/n) of the sketch's B blocks. A staged run's
// df task writes its sketch in n parts so that templates task j reads only part j of every df task's sketch.
func (s *DFSketch) Part(j, n int) []byte {
	nb := len(s.counters) / dfBlock
	return s.counters[j*nb/n*dfBlock : (j+1)*nb/n*dfBlock]
}

// PartBytes is the length of Part(j, n) of a sketch of NewDFSketch(bytes, …).
func PartBytes(bytes, j, n int) int {
	nb := NewDFSketchSize(bytes) / dfBlock
	return ((j+1)*nb/n - j*nb/n) * dfBlock
}

// dfMagic starts the serialized form: magic, then seed and counter count as little-endian uint64, then the
// counters as bytes. Nothing else, so a reduce step in any language can add two files byte by byte.
const dfMagic = "ORCADF1\n"

// WriteTo writes the sketch in its serialized form.
func (s *DFSketch) WriteTo(w io.Writer) (int64, error) {
	var hdr [24]byte
	copy(hdr[:8], dfMagic)
	binary.LittleEndian.PutUint64(hdr[8:], s.seed)
	binary.LittleEndian.PutUint64(hdr[16:], uint64(len(s.counters)))
	n, err := w.Write(hdr[:])
	if err != nil {
		return int64(n), err
	}
	m, err := w.Write(s.counters)
	return int64(n + m), err
}

// ReadDFSketch reads a sketch written by WriteTo.
func ReadDFSketch(r io.Reader) (*DFSketch, error) {
	br := bufio.NewReader(r)
	var hdr [24]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, fmt.Errorf("read document-frequency sketch header: %w", err)
	}
	if string(hdr[:8]) != dfMagic {
		return nil, errors.New("read document-frequency sketch: bad magic (not an orcaprep DF sketch)")
	}
	n := binary.LittleEndian.Uint64(hdr[16:])
	if n < dfBlock || n&(n-1) != 0 || n > 1<<40 {
		return nil, fmt.Errorf("read document-frequency sketch: counter count %d is not a power of two >= 64", n)
	}
	s := &DFSketch{seed: binary.LittleEndian.Uint64(hdr[8:]), counters: make([]uint8, n)}
	if _, err := io.ReadFull(br, s.counters); err != nil {
		return nil, fmt.Errorf("read document-frequency sketch counters: %w", err)
	}
	return s, nil
}

// Templates returns the set of shingle hashes whose estimated document frequency exceeds maxDF, as one bit
// per counter (an eighth of the sketch's size), so the sketch itself can be freed before the second pass.
func (s *DFSketch) Templates(maxDF int) *TemplateSet {
	return NewTemplateSet(TemplateWords(s.counters, maxDF), maxDF)
}

// TemplateWords thresholds whole blocks of counters (a Part, or the whole sketch) into template-set words: bit
// i of word b is set when counter i of block b exceeds maxDF.
func TemplateWords(counters []byte, maxDF int) []uint64 {
	nb := len(counters) / dfBlock
	words := make([]uint64, nb)
	for b := 0; b < nb; b++ {
		var w uint64
		for i, c := range counters[b*dfBlock : (b+1)*dfBlock] {
			if int(c) > maxDF {
				w |= 1 << i
			}
		}
		words[b] = w
	}
	return words
}

// NewTemplateSet is the template set of the words of every part of a sketch, in order (TemplateWords).
func NewTemplateSet(words []uint64, maxDF int) *TemplateSet {
	t := &TemplateSet{words: words, maxDF: maxDF}
	for _, w := range words {
		t.bits += bits.OnesCount64(w)
	}
	return t
}

// TemplateSet answers "is this shingle in more than max_shingle_df rows?" from a thresholded DFSketch. It is
// read-only and safe for concurrent use.
type TemplateSet struct {
	words []uint64
	maxDF int
	bits  int
}

// Has reports whether shingle hash h's estimated document frequency exceeds the threshold.
func (t *TemplateSet) Has(h uint64) bool {
	b, p1, p2 := dfSlots(h, len(t.words))
	m := uint64(1)<<p1 | uint64(1)<<p2
	return t.words[b/dfBlock]&m == m
}

// Bytes is the set's size in memory.
func (t *TemplateSet) Bytes() int { return 8 * len(t.words) }

// FillRatio is the share of counters above the threshold (a sanity figure for stats.json: near 1 means the
// sketch was far too small for the input).
func (t *TemplateSet) FillRatio() float64 { return float64(t.bits) / float64(64*len(t.words)) }

// DFCounter lists the distinct shingle hashes of a row's DFFields for the document-frequency pass: the same
// DFNGram-word shingle hashes the signer checks against the template set, computed per field (no shingle spans two fields). It holds scratch
// buffers: use one per goroutine.
type DFCounter struct {
	cfg  NearConfig
	out  []uint64
	set  []uint64
	sh   shingler
	rows int64
}

// NewDFCounter returns a counter for cfg.
func NewDFCounter(cfg NearConfig) *DFCounter {
	c := &DFCounter{cfg: cfg}
	c.sh = newShingler(dfNGram(cfg), cfg.Seed)
	return c
}

// Row returns r's distinct shingle hashes over cfg.DFFields (the slice is reused by the next call).
func (c *DFCounter) Row(r *orca.Record) []uint64 {
	if cap(c.out) > retainWords { // the previous row was long: do not keep its buffers
		c.out, c.set = nil, nil
	}
	c.out = c.out[:0]
	for _, f := range c.cfg.DFFields {
		c.sh.reset()
		c.sh.text(fieldValue(r, f))
		c.sh.finish()
		c.out = append(c.out, c.sh.hashes...)
	}
	c.sh.release()
	if len(c.out) < 2 {
		return c.out
	}
	// Deduplicate with a small open-addressing set (0 marks an empty slot; a zero hash is kept as is).
	size := 64
	for size < 2*len(c.out) {
		size <<= 1
	}
	if cap(c.set) < size {
		c.set = make([]uint64, size)
	}
	set := c.set[:size]
	clear(set)
	n := 0
	for _, h := range c.out {
		if h == 0 {
			c.out[n] = h
			n++
			continue
		}
		i := int(h>>32) & (size - 1)
		for set[i] != 0 && set[i] != h {
			i = (i + 1) & (size - 1)
		}
		if set[i] == 0 {
			set[i] = h
			c.out[n] = h
			n++
		}
	}
	c.out = c.out[:n]
	return c.out
}
