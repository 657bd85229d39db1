package shard

import (
	"github.com/orcaprep/orcaprep/stats"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// orcaLengths generates n OpenOrca-shaped tokenized sample lengths: ChatML overhead, one of a handful of
// system prompts (Orca's system messages are 0–60 tokens), a log-normal question and response (median
// total ≈ 230, p10 ≈ 110, p99 ≈ 1.6k), and a 0.5% tail of long-context samples from 4k up to capacity.
func orcaLengths(n int, capacity int, seed uint64) []int32 {
	r := rand.New(rand.NewPCG(seed, 1))
	system := []int{0, 14, 21, 27, 33, 38, 44, 52, 61}
	out := make([]int32, n)
	for i := range out {
		l := 12 + system[r.IntN(len(system))]
		l += int(math.Exp(math.Log(80) + 1.0*r.NormFloat64()))
		l += int(math.Exp(math.Log(70) + 1.1*r.NormFloat64()))
		if r.IntN(200) == 0 {
			l = 4096 + r.IntN(capacity-4096+1)
		}
		out[i] = int32(min(l, capacity))
	}
	return out
}

// checkPartition fails unless bins hold every index exactly once, no bin is empty or over capacity,
// and each bin lists its samples longest first (equal lengths by index).
func checkPartition(t *testing.T, lengths []int32, bins [][]int32, capacity int) {
	t.Helper()
	seen := make([]bool, len(lengths))
	for b, bin := range bins {
		if len(bin) == 0 {
			t.Fatalf("bin %d is empty", b)
		}
		load := 0
		for k, i := range bin {
			if i < 0 || int(i) >= len(lengths) || seen[i] {
				t.Fatalf("bin %d: index %d out of range or placed twice", b, i)
			}
			seen[i] = true
			load += int(lengths[i])
			if k > 0 {
				p := bin[k-1]
				if lengths[p] < lengths[i] || (lengths[p] == lengths[i] && p > i) {
					t.Fatalf("bin %d: samples %d,%d not longest first", b, p, i)
				}
			}
		}
		if load > capacity {
			t.Fatalf("bin %d holds %d tokens > capacity %d", b, load, capacity)
		}
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("sample %d not placed", i)
		}
	}
}

// naivePack is the textbook O(n·bins) FFD/BFD, the reference for the fast version's plain mode.
func naivePack(lengths []int32, capacity int, algo PackAlgorithm) [][]int32 {
	order := make([]int32, len(lengths))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return int(lengths[b]) - int(lengths[a]) })
	var bins [][]int32
	var room []int
	for _, i := range order {
		l := int(lengths[i])
		pick := -1
		for b, r := range room {
			if r < l {
				continue
			}
			if algo == PackFFD {
				pick = b
				break
			}
			if pick < 0 || r < room[pick] {
				pick = b
			}
		}
		if pick < 0 {
			bins = append(bins, nil)
			room = append(room, capacity)
			pick = len(bins) - 1
		}
		bins[pick] = append(bins[pick], i)
		room[pick] -= l
	}
	return bins
}

func TestPackMatchesTextbookFFDAndBFD(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	differ := 0
	for trial := 0; trial < 300; trial++ {
		capacity := 10 + r.IntN(1000) // < 1024: no fill phase, so Pack must be exactly FFD/BFD
		lengths := make([]int32, r.IntN(400))
		for i := range lengths {
			lengths[i] = int32(1 + r.IntN(capacity))
			if r.IntN(3) == 0 {
				lengths[i] = int32(1 + r.IntN(max(1, capacity/8))) // many short ones, so bins fill up
			}
		}
		var got [2][][]int32
		for k, algo := range []PackAlgorithm{PackFFD, PackBFD} {
			bins, err := Pack(lengths, capacity, algo)
			if err != nil {
				t.Fatal(err)
			}
			checkPartition(t, lengths, bins, capacity)
			want := naivePack(lengths, capacity, algo)
			if len(bins) != len(want) {
				t.Fatalf("trial %d %s: %d bins, textbook %d", trial, algo, len(bins), len(want))
			}
			for b := range want {
				if !slices.Equal(bins[b], want[b]) {
					t.Fatalf("trial %d %s bin %d: %v, textbook %v", trial, algo, b, bins[b], want[b])
				}
			}
			got[k] = bins
		}
		if len(got[0]) != len(got[1]) || !slices.EqualFunc(got[0], got[1], slices.Equal[[]int32]) {
			differ++
		}
	}
	if differ == 0 {
		t.Fatal("FFD and BFD never differed: the algorithm switch is not reaching the packer")
	}
}

func TestPackTiesAndEdges(t *testing.T) {
	bins, err := Pack([]int32{5, 5, 5, 5, 7}, 10, PackFFD)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int32{{4}, {0, 1}, {2, 3}}
	if !slices.EqualFunc(bins, want, slices.Equal[[]int32]) {
		t.Fatalf("got %v want %v", bins, want)
	}
	if bins, err := Pack(nil, 16384, PackBFD); err != nil || len(bins) != 0 {
		t.Fatalf("empty input: %v %v", bins, err)
	}
	for _, c := range []struct {
		lengths  []int32
		capacity int
		algo     PackAlgorithm
		want     string
	}{
		{[]int32{3, 0}, 10, PackBFD, "sample 1 has length 0"},
		{[]int32{11}, 10, PackFFD, "sample 0 has length 11"},
		{[]int32{1}, 0, PackFFD, "capacity 0"},
		{[]int32{1}, 10, "wffd", "unknown algorithm"},
	} {
		if _, err := Pack(c.lengths, c.capacity, c.algo); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Pack(%v, %d, %q): error %v, want %q", c.lengths, c.capacity, c.algo, err, c.want)
		}
	}
	if a, err := ParsePackAlgorithm(""); err != nil || a != PackBFD {
		t.Fatal(a, err)
	}
	if _, err := ParsePackAlgorithm("first-fit"); err == nil {
		t.Fatal("bad name accepted")
	}
}

// TestPackOrcaEfficiency is the target: on 100k OpenOrca-shaped samples at 16,384 tokens, packing
// efficiency ≥ 99.95% and at most 0.01% more bins than ⌈tokens/16384⌉ (at this size: exactly the bound).
func TestPackOrcaEfficiency(t *testing.T) {
	const capacity = 16384
	for seed := uint64(1); seed <= 4; seed++ {
		lengths := orcaLengths(100_000, capacity, seed)
		for _, algo := range []PackAlgorithm{PackFFD, PackBFD} {
			bins, err := Pack(lengths, capacity, algo)
			if err != nil {
				t.Fatal(err)
			}
			checkPartition(t, lengths, bins, capacity)
			st := ComputePackStats(lengths, bins, capacity)
			over := float64(st.Bins)/float64(st.LowerBoundBins) - 1
			t.Logf("seed %d %s: %d bins, lower bound %d, efficiency %.4f%%", seed, algo, st.Bins, st.LowerBoundBins, 100*st.Efficiency)
			if st.Efficiency < 0.9995 || over > 0.0001 {
				t.Errorf("seed %d %s: efficiency %.4f%%, %d bins vs lower bound %d (+%.4f%%)", seed, algo, 100*st.Efficiency, st.Bins, st.LowerBoundBins, 100*over)
			}
			again, _ := Pack(lengths, capacity, algo)
			if !slices.EqualFunc(bins, again, slices.Equal[[]int32]) {
				t.Fatalf("seed %d %s: not deterministic", seed, algo)
			}
		}
	}
}

func TestComputePackStats(t *testing.T) {
	lengths := []int32{10, 6, 4, 3}
	st := ComputePackStats(lengths, [][]int32{{0}, {1, 2}, {3}}, 10)
	want := stats.PackingStat{SequenceLen: 10, Samples: 4, Tokens: 23, Bins: 3, Efficiency: 23.0 / 30, LowerBoundBins: 3}
	if *st != want {
		t.Fatalf("got %+v want %+v", st, want)
	}
	if st := ComputePackStats(nil, nil, 10); st.Efficiency != 0 || st.LowerBoundBins != 0 {
		t.Fatalf("empty: %+v", st)
	}
}

func TestShuffleBins(t *testing.T) {
	mk := func() [][]int32 {
		bins := make([][]int32, 50)
		for i := range bins {
			bins[i] = []int32{int32(i)}
		}
		return bins
	}
	a, b, c := mk(), mk(), mk()
	ShuffleBins(a, 42)
	ShuffleBins(b, 42)
	ShuffleBins(c, 43)
	if !slices.EqualFunc(a, b, slices.Equal[[]int32]) {
		t.Fatal("same seed, different order")
	}
	if slices.EqualFunc(a, c, slices.Equal[[]int32]) || slices.EqualFunc(a, mk(), slices.Equal[[]int32]) {
		t.Fatal("shuffle did not depend on the seed")
	}
	seen := map[int32]bool{}
	for _, bin := range a {
		seen[bin[0]] = true
	}
	if len(seen) != 50 {
		t.Fatal("not a permutation")
	}
}

// TestPackFillPhaseEdges drives the exact-fill phase alone (every sample short) and with few short samples.
func TestPackFillPhaseEdges(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	cases := map[string][]int32{"one": {7}, "same length": slices.Repeat([]int32{100}, 1000)}
	short := make([]int32, 50_000)
	for i := range short {
		short[i] = int32(1 + r.IntN(256))
	}
	cases["all short"] = short
	mixed := []int32{16000, 16000, 16000, 300, 5}
	cases["few short"] = mixed
	for name, lengths := range cases {
		for _, algo := range []PackAlgorithm{PackFFD, PackBFD} {
			bins, err := Pack(lengths, 16384, algo)
			if err != nil {
				t.Fatal(err)
			}
			checkPartition(t, lengths, bins, 16384)
			st := ComputePackStats(lengths, bins, 16384)
			if st.Bins > st.LowerBoundBins+1 {
				t.Errorf("%s %s: %d bins, lower bound %d", name, algo, st.Bins, st.LowerBoundBins)
			}
		}
	}
}
