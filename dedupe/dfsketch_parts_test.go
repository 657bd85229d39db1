package dedupe

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDFSketchPartsGiveTheSameTemplates is a staged run's DF pass: per-task sketches, each cut into n parts,
// part j of every sketch added (in a scrambled order) and thresholded on its own, the parts' words
// concatenated — the same template set as one sketch over every row. Counts saturate at 255 on the way (a
// shingle in every row), which must not depend on the grouping either.
func TestDFSketchPartsGiveTheSameTemplates(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const size, tasks = 1 << 16, 5
	common := make([]uint64, 30)
	for i := range common {
		common[i] = rng.Uint64()
	}
	whole := NewDFSketch(size, 7)
	per := make([]*DFSketch, tasks)
	for i := range per {
		per[i] = NewDFSketch(size, 7)
	}
	for r := 0; r < 4000; r++ {
		row := []uint64{common[0]} // in every row: saturates
		for j := 0; j < 20; j++ {
			if j < 5 {
				row = append(row, common[1+rng.IntN(len(common)-1)])
			} else {
				row = append(row, rng.Uint64())
			}
		}
		slices.Sort(row)
		row = slices.Compact(row)
		whole.Add(row)
		per[r*tasks/4000].Add(row)
	}
	for _, maxDF := range []int{1, 8, 254} {
		want := whole.Templates(maxDF)
		for _, n := range []int{1, 3, 7} {
			var words []uint64
			total := 0
			for j := 0; j < n; j++ {
				if got, exp := len(per[0].Part(j, n)), PartBytes(size, j, n); got != exp {
					t.Fatalf("part %d of %d: %d bytes, PartBytes says %d", j, n, got, exp)
				}
				sum := make([]byte, len(per[0].Part(j, n)))
				for _, i := range rng.Perm(tasks) {
					AddCounters(sum, per[i].Part(j, n))
				}
				total += len(sum)
				words = append(words, TemplateWords(sum, maxDF)...)
			}
			got := NewTemplateSet(words, maxDF)
			if total != whole.Bytes() || !slices.Equal(got.words, want.words) || got.bits != want.bits {
				t.Fatalf("max_df %d, %d parts: template set differs from the whole sketch's (%d vs %d bits)", maxDF, n, got.bits, want.bits)
			}
			if !got.Has(common[0]) {
				t.Fatal("a shingle of every row is not a template")
			}
		}
	}
}
