package shard

import (
	"cmp"
	"fmt"
	"github.com/orcaprep/orcaprep/stats"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// PackAlgorithm names a bin-packing heuristic for Pack.
type PackAlgorithm string

const (
	// PackFFD is first-fit-decreasing: each sample, longest first, goes into the lowest-numbered bin it fits.
	// It is the rule MultiPack (and Axolotl's sampler in 2023) used.
	PackFFD PackAlgorithm = "ffd"
	// PackBFD is best-fit-decreasing: each sample, longest first, goes into the bin it fills most tightly
	// (the lowest-numbered one among equals). It leaves fewer unusable gaps than FFD on long-tailed lengths.
	PackBFD PackAlgorithm = "bfd"
)

// ParsePackAlgorithm validates an algorithm name ("" means bfd).
func ParsePackAlgorithm(s string) (PackAlgorithm, error) {
	switch s {
	case "", string(PackBFD):
		return PackBFD, nil
	case string(PackFFD):
		return PackFFD, nil
	}
	return "", fmt.Errorf("unknown packing algorithm %q (want ffd or bfd)", s)
}

// maxPackCapacity bounds the bin capacity (2M tokens): Pack keeps per-capacity tables (a count per
// length, a bucket per remaining room), so their size must stay reasonable, and lengths fit in int32.
const maxPackCapacity = 1 << 21

// Pack assigns samples of the given lengths (each 1..capacity tokens) to bins of the given capacity over
// the whole dataset in O(n log n), with first-fit-decreasing or best-fit-decreasing.
//
// Plain FFD/BFD leave most bins a few tokens short (no sample left is that short), and over thousands of
// bins those crumbs add up to whole extra bins. So samples longer than a short-sample limit (256 tokens,
// see smallLimit) are placed by FFD/BFD such that every gap they leave is 0 or long enough to be summed
// up from short samples, and the short samples then fill the gaps exactly, smallest gap first, then new
// bins. With capacity < 1024 (or no short samples) it is plain FFD/BFD.
//
// The result is deterministic: samples are taken longest first, equal lengths in index order; bins are
// returned in creation order and the samples inside a bin longest first, equal lengths by index. Every
// index appears exactly once. The returned slices share one backing array, so 1M samples cost a few
// []int32 of n rather than a million small allocations.
func Pack(lengths []int32, capacity int, algo PackAlgorithm) ([][]int32, error) {
	if capacity <= 0 || capacity > maxPackCapacity {
		return nil, fmt.Errorf("pack: capacity %d out of range 1..%d", capacity, maxPackCapacity)
	}
	if len(lengths) > math.MaxInt32 {
		return nil, fmt.Errorf("pack: %d samples is more than %d", len(lengths), math.MaxInt32)
	}
	for i, l := range lengths {
		if l < 1 || int(l) > capacity {
			// Zero-length samples are refused too: they would be invisible in a packed row's position_ids.
			return nil, fmt.Errorf("pack: sample %d has length %d, want 1..%d", i, l, capacity)
		}
	}
	order := sortDecreasing(lengths, capacity)
	if len(order) == 0 {
		return [][]int32{}, nil
	}
	// Split: order[:nLarge] are packed greedily, order[nLarge:] (length ≤ small) fill the gaps exactly.
	small, reserve := smallLimit(int(lengths[order[len(order)-1]]), capacity), 0
	nLarge := len(order)
	for nLarge > 0 && int(lengths[order[nLarge-1]]) <= small {
		nLarge--
	}
	if nLarge < len(order) {
		// Keep every gap the greedy pass leaves either 0 or at least small/2 tokens, so the fill phase can sum
		// it up exactly from short samples; a 3-token gap beside two long samples is lost for good.
		reserve = small / 2
	}
	// binOf[k] is the bin of the k-th placed sample (order[k]); gaps[b] is bin b's room left.
	binOf := make([]int32, len(order))
	var gaps []int32
	switch algo {
	case PackFFD:
		gaps = firstFit(lengths, order[:nLarge], capacity, reserve, binOf)
	case PackBFD, "":
		gaps = bestFit(lengths, order[:nLarge], capacity, reserve, binOf)
	default:
		return nil, fmt.Errorf("pack: unknown algorithm %q (want ffd or bfd)", algo)
	}
	gaps = fillExact(lengths, order[nLarge:], capacity, small, gaps, binOf[nLarge:])
	return groupBins(order, binOf, len(gaps)), nil
}

// smallLimit is the longest "short" sample: short samples are kept back from the greedy pass to fill gaps
// exactly. With lengths from shortest to 4× shortest, every gap ≥ shortest can be written as a sum of them.
// Returns 0 (no fill phase) when the capacity is too small for that to pay.
func smallLimit(shortest, capacity int) int {
	s := max(4*shortest, 256)
	if s > capacity/4 {
		return 0
	}
	return s
}

// sortDecreasing returns sample indices by decreasing length, equal lengths by increasing index.
// It is a counting sort: lengths are bounded by capacity, so this is O(n + capacity) and stable for free,
// several times faster than a comparison sort on 1M samples.
func sortDecreasing(lengths []int32, capacity int) []int32 {
	// start[c] = first output slot of length capacity-c, so longer lengths come first.
	start := make([]int32, capacity+2)
	for _, l := range lengths {
		start[capacity-int(l)+1]++
	}
	for c := 1; c < len(start); c++ {
		start[c] += start[c-1]
	}
	order := make([]int32, len(lengths))
	for i, l := range lengths {
		c := capacity - int(l)
		order[start[c]] = int32(i)
		start[c]++
	}
	return order
}

// firstFit places samples in order into the lowest-numbered bin with room for the sample plus reserve,
// using a max segment tree over the bins' remaining room so that finding that bin is one O(log bins)
// descent. It returns each bin's room left.
func firstFit(lengths, order []int32, capacity, reserve int, binOf []int32) []int32 {
	size := 1024
	tree := make([]int32, 2*size) // tree[size+b] = room left in bin b; unused leaves hold 0, which fits nothing
	nbins := 0
	for k, idx := range order {
		l := lengths[idx]
		need := l + int32(reserve)
		var b int
		if tree[1] >= need {
			n := 1
			for n < size {
				n <<= 1
				if tree[n] < need {
					n++
				}
			}
			b = n - size
		} else {
			if nbins == size {
				tree = growTree(tree, size)
				size *= 2
			}
			b = nbins
			nbins++
			tree[size+b] = int32(capacity)
		}
		n := size + b
		tree[n] -= l
		for n > 1 {
			n >>= 1
			m := max(tree[2*n], tree[2*n+1])
			if tree[n] == m {
				break // ancestors already hold the right maximum
			}
			tree[n] = m
		}
		binOf[k] = int32(b)
	}
	return append([]int32(nil), tree[size:size+nbins]...)
}

// growTree doubles a max segment tree with size leaves and rebuilds its inner nodes.
func growTree(tree []int32, size int) []int32 {
	nt := make([]int32, 4*size)
	copy(nt[2*size:], tree[size:2*size])
	for n := 2*size - 1; n >= 1; n-- {
		nt[n] = max(nt[2*n], nt[2*n+1])
	}
	return nt
}

// bestFit places samples in order into the bin the sample fills exactly, else the bin with the least
// room that still leaves reserve; else a new bin. Open bins are kept in buckets by remaining room (a
// min-heap of bin numbers each, so ties go to the oldest bin), and a two-level bitset over the rooms
// finds the smallest non-empty bucket ≥ a length in a few word operations. It returns each bin's room left.
func bestFit(lengths, order []int32, capacity, reserve int, binOf []int32) []int32 {
	buckets := make([][]int32, capacity) // buckets[r]: open bins with exactly r tokens of room, 0 < r < capacity
	set := newBitset(capacity)
	var gaps []int32
	for k, idx := range order {
		l := int(lengths[idx])
		var b int32
		r := -1
		if l < capacity {
			if len(buckets[l]) > 0 {
				r = l
			} else if l+reserve < capacity {
				r = set.next(l + reserve)
			}
		}
		if r >= 0 {
			b = heapPop(&buckets[r])
			if len(buckets[r]) == 0 {
				set.clear(r)
			}
		} else {
			b = int32(len(gaps))
			gaps = append(gaps, int32(capacity))
			r = capacity
		}
		left := r - l
		if left > 0 {
			heapPush(&buckets[left], b)
			set.set(left)
		}
		gaps[b] = int32(left)
		binOf[k] = b
	}
	return gaps
}

// fillExact places the short samples (order is longest first, all ≤ small) into the gaps the greedy pass
// left, bin by bin, choosing samples whose lengths add up to each gap exactly where it can, then into new
// bins filled the same way. It returns the room left in every bin, old and new.
func fillExact(lengths, order []int32, capacity, small int, gaps []int32, binOf []int32) []int32 {
	if len(order) == 0 {
		return gaps
	}
	// Samples of one length are contiguous in order; next[l]..end[l] are the ones still unplaced.
	next := make([]int, small+1)
	end := make([]int, small+1)
	for k := len(order) - 1; k >= 0; k-- {
		l := lengths[order[k]]
		if end[l] == 0 {
			end[l] = k + 1
		}
		next[l] = k
	}
	left := len(order)
	shortest := int(lengths[order[len(order)-1]])
	have := func(l int) int {
		if l < 1 || l > small {
			return 0
		}
		return end[l] - next[l]
	}
	// largest returns the longest unplaced length ≤ v, or 0.
	top := int(lengths[order[0]])
	largest := func(v int) int {
		for l := min(v, top); l >= shortest; l-- {
			if have(l) > 0 {
				return l
			}
			if l == top {
				top-- // nothing left this long: later scans start lower
			}
		}
		return 0
	}
	put := func(l int, b int) {
		binOf[next[l]] = int32(b)
		next[l]++
		left--
	}
	fill := func(b int) {
		g := int(gaps[b])
		for g > 0 && left > 0 {
			if have(g) > 0 {
				put(g, b)
				g = 0
				break
			}
			if g <= 2*small {
				found := false
				for y1 := largest(min(small, g-shortest)); y1 > 0 && 2*y1 >= g; y1 = largest(y1 - 1) {
					y2 := g - y1
					if n := have(y2); n > 1 || (n == 1 && y2 != y1) {
						put(y1, b)
						put(y2, b)
						g = 0
						found = true
						break
					}
				}
				if found {
					break
				}
			}
			// No exact finish in one or two samples: take the longest that still leaves room for one more.
			y := largest(min(small, g-shortest))
			if y == 0 {
				y = largest(g) // the gap is shorter than two samples: fill what we can, the rest is lost
				if y == 0 {
					break
				}
			}
			put(y, b)
			g -= y
		}
		gaps[b] = int32(g)
	}
	// Smallest gaps first: they can only take the few shortest samples, while long gaps have many ways to
	// be summed up from mid-length ones.
	open := make([]int32, 0, len(gaps))
	for b, g := range gaps {
		if g > 0 {
			open = append(open, int32(b))
		}
	}
	slices.SortStableFunc(open, func(a, b int32) int { return cmp.Compare(gaps[a], gaps[b]) })
	for _, b := range open {
		if left == 0 {
			break
		}
		fill(int(b))
	}
	for left > 0 {
		gaps = append(gaps, int32(capacity))
		fill(len(gaps) - 1)
	}
	return gaps
}

// groupBins turns the per-sample bin numbers into per-bin sample lists (in order, that is longest first),
// all slices of one backing array.
func groupBins(order, binOf []int32, nbins int) [][]int32 {
	starts := make([]int32, nbins+1)
	for _, b := range binOf {
		starts[b+1]++
	}
	for b := 1; b <= nbins; b++ {
		starts[b] += starts[b-1]
	}
	flat := make([]int32, len(order))
	fill := make([]int32, nbins)
	copy(fill, starts[:nbins])
	for k, b := range binOf {
		flat[fill[b]] = order[k]
		fill[b]++
	}
	out := make([][]int32, nbins)
	for b := range out {
		out[b] = flat[starts[b]:starts[b+1]:starts[b+1]]
	}
	return out
}

// heapPush and heapPop keep a min-heap of bin numbers.
func heapPush(h *[]int32, v int32) {
	s := append(*h, v)
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p] <= v {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = v
	*h = s
}

func heapPop(h *[]int32) int32 {
	s := *h
	top := s[0]
	last := s[len(s)-1]
	s = s[:len(s)-1]
	i := 0
	for {
		c := 2*i + 1
		if c >= len(s) {
			break
		}
		if c+1 < len(s) && s[c+1] < s[c] {
			c++
		}
		if last <= s[c] {
			break
		}
		s[i] = s[c]
		i = c
	}
	if len(s) > 0 {
		s[i] = last
	}
	*h = s
	return top
}

// bitset is a two-level bitset: a summary bit per 64-bit word says whether the word is non-zero,
// so next() scans at most a few summary words instead of capacity/64 words.
type bitset struct {
	words   []uint64
	summary []uint64
}

func newBitset(n int) *bitset {
	nw := (n + 63) / 64
	return &bitset{words: make([]uint64, nw), summary: make([]uint64, (nw+63)/64)}
}

func (s *bitset) set(i int) {
	w := i >> 6
	s.words[w] |= 1 << (i & 63)
	s.summary[w>>6] |= 1 << (w & 63)
}

func (s *bitset) clear(i int) {
	w := i >> 6
	s.words[w] &^= 1 << (i & 63)
	if s.words[w] == 0 {
		s.summary[w>>6] &^= 1 << (w & 63)
	}
}

// next returns the smallest set index ≥ i, or -1.
func (s *bitset) next(i int) int {
	w := i >> 6
	if w >= len(s.words) {
		return -1
	}
	if m := s.words[w] >> (i & 63); m != 0 {
		return i + bits.TrailingZeros64(m)
	}
	// Find the next non-empty word after w through the summary.
	w++
	sw := w >> 6
	if sw >= len(s.summary) {
		return -1
	}
	m := s.summary[sw] >> (w & 63) << (w & 63)
	for m == 0 {
		sw++
		if sw >= len(s.summary) {
			return -1
		}
		m = s.summary[sw]
	}
	w = sw<<6 + bits.TrailingZeros64(m)
	return w<<6 + bits.TrailingZeros64(s.words[w])
}

// ComputePackStats measures bins (as returned by Pack) of samples with the given lengths: the "packing"
// object of stats.json, whose derived figures (efficiency, lower bound) stats.NewPackingStat computes.
func ComputePackStats(lengths []int32, bins [][]int32, capacity int) *stats.PackingStat {
	var samples, tokens int64
	for _, bin := range bins {
		samples += int64(len(bin))
		for _, i := range bin {
			tokens += int64(lengths[i])
		}
	}
	return stats.NewPackingStat(capacity, samples, tokens, int64(len(bins)))
}

// ShuffleBins puts bins in a random order determined by seed alone (Fisher–Yates over a PCG stream), so
// that training does not see the longest samples first while output stays reproducible. The bounded
// draw is done here rather than with rand.Shuffle so the order cannot change with a Go release.
func ShuffleBins(bins [][]int32, seed uint64) {
	src := rand.NewPCG(seed, 0x6f726361707265) // "orcapre": a fixed stream so seeds mean the same everywhere
	for i := len(bins) - 1; i > 0; i-- {
		j := boundedUint64(src, uint64(i)+1)
		bins[i], bins[j] = bins[j], bins[i]
	}
}

// boundedUint64 returns a uniform value in [0, n) by Lemire's multiply-and-reject method.
func boundedUint64(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}
