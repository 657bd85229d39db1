package stats

import (
	"math"
	"math/bits"
)

// Histogram layout. Lengths are counted in fixed buckets, so memory does not grow with the number of rows:
// values below exactLimit have a bucket each (exact), larger values fall in buckets 1/subBuckets of an
// octave wide, so any value read back from the histogram is within 0.1% of the true one. Octave arrays are
// allocated on first use: a histogram of ordinary OpenOrca lengths (< 100k chars) costs about 80 KiB.
const (
	exactBits  = 11
	exactLimit = 1 << exactBits // 2048: every length below this is counted exactly
	subBits    = 10
	subBuckets = 1 << subBits // 1024 buckets per octave above exactLimit → ≤ 0.1% relative error
	maxOctave  = 62           // highest bit position of an int64
	// DisplayBinsPerOctave is the resolution of the log-spaced bins written to stats.json and drawn in reports.
	DisplayBinsPerOctave = 4
)

// histogram counts non-negative integers; its zero value is ready to use.
type histogram struct {
	n        int64
	sum      int64
	min, max int64
	low      []int64                            // exactLimit buckets, allocated on first Add
	oct      [maxOctave - exactBits + 1][]int64 // oct[e-exactBits][sub]: values in [2^e, 2^(e+1))
}

func (h *histogram) add(v int64) {
	if v < 0 {
		v = 0 // lengths are never negative; a negative value is a caller bug, count it as 0 rather than panic
	}
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += v
	if v < exactLimit {
		if h.low == nil {
			h.low = make([]int64, exactLimit)
		}
		h.low[v]++
		return
	}
	e := bits.Len64(uint64(v)) - 1
	o := &h.oct[e-exactBits]
	if *o == nil {
		*o = make([]int64, subBuckets)
	}
	(*o)[(v>>(e-subBits))&(subBuckets-1)]++
}

func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
	if o.low != nil {
		if h.low == nil {
			h.low = make([]int64, exactLimit)
		}
		for i, c := range o.low {
			h.low[i] += c
		}
	}
	for k, ob := range o.oct {
		if ob == nil {
			continue
		}
		if h.oct[k] == nil {
			h.oct[k] = make([]int64, subBuckets)
		}
		for i, c := range ob {
			h.oct[k][i] += c
		}
	}
}

// each calls fn for every non-empty bucket in increasing order with the bucket's smallest value.
func (h *histogram) each(fn func(lo, count int64)) {
	for v, c := range h.low {
		if c != 0 {
			fn(int64(v), c)
		}
	}
	for k, ob := range h.oct {
		e := k + exactBits
		for sub, c := range ob {
			if c != 0 {
				fn(int64(1)<<e|int64(sub)<<(e-subBits), c)
			}
		}
	}
}

// quantiles returns, for each q in qs (ascending, in (0,1]), the nearest-rank quantile: the smallest
// value v such that at least ceil(q·n) values are ≤ v. Exact below 2048; above, the lower bound of the
// 0.1%-wide bucket holding that rank (so never more than 0.1% below the true value), clamped to [min, max].
func (h *histogram) quantiles(qs ...float64) []int64 {
	out := make([]int64, len(qs))
	if h.n == 0 {
		return out
	}
	ranks := make([]int64, len(qs))
	for i, q := range qs {
		r := int64(math.Ceil(q * float64(h.n)))
		ranks[i] = min(max(r, 1), h.n)
	}
	var seen int64
	j := 0
	h.each(func(lo, c int64) {
		seen += c
		for j < len(ranks) && seen >= ranks[j] {
			out[j] = min(max(lo, h.min), h.max)
			j++
		}
	})
	return out
}

// Bin is one log-spaced histogram bin: Count values v with Lo ≤ v < Hi.
type Bin struct {
	Lo    int64 `json:"lo"`
	Hi    int64 `json:"hi"`
	Count int64 `json:"count"`
}

// displayEdge is the lower edge of display bin k ≥ 1: ceil(2^((k-1)/DisplayBinsPerOctave)); bin 0 holds 0.
// Edges that round to the same integer collapse, so small values get one bin per integer.
func displayEdge(k int) int64 {
	if k == 0 {
		return 0
	}
	return int64(math.Ceil(math.Exp2(float64(k-1)/DisplayBinsPerOctave) - 1e-9))
}

// displayBin returns the index k of the display bin holding v (displayEdge(k) ≤ v < displayEdge(k+1)).
func displayBin(v int64) int {
	if v <= 0 {
		return 0
	}
	k := int(math.Floor(math.Log2(float64(v))*DisplayBinsPerOctave)) + 1
	// Correct float rounding at the edges.
	for k > 1 && displayEdge(k) > v {
		k--
	}
	for displayEdge(k+1) <= v {
		k++
	}
	return k
}

// bins folds the fine buckets into log-spaced display bins, from the first non-empty bin to the last,
// empty bins in between included so that charts keep a true x axis. Collapsed edges (the same integer for
// several k) are skipped. Above 2048 a fine bucket is assigned by its lower bound, so a bin edge is exact to 0.1%.
func (h *histogram) bins() []Bin {
	if h.n == 0 {
		return []Bin{}
	}
	counts := map[int]int64{}
	first, last := -1, -1
	h.each(func(lo, c int64) {
		k := displayBin(lo)
		counts[k] += c
		if first < 0 || k < first {
			first = k
		}
		if k > last {
			last = k
		}
	})
	var out []Bin
	for k := first; k <= last; k++ {
		lo, hi := displayEdge(k), displayEdge(k+1)
		if hi <= lo {
			continue // collapsed edge: no integer falls in this bin
		}
		out = append(out, Bin{Lo: lo, Hi: hi, Count: counts[k]})
	}
	return out
}
