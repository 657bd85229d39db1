package shard

import (
	"testing"

	"github.com/orcaprep/orcaprep/stats"
)

// BenchmarkPack1M packs 1M OpenOrca-shaped samples at 16,384 tokens (target: ≤ 2 s per op) and reports
// the efficiency and the bins above the lower bound.
func BenchmarkPack1M(b *testing.B) {
	const capacity = 16384
	lengths := orcaLengths(1_000_000, capacity, 1)
	for _, algo := range []PackAlgorithm{PackFFD, PackBFD} {
		b.Run(string(algo), func(b *testing.B) {
			var st *stats.PackingStat
			b.ReportAllocs()
			for b.Loop() {
				bins, err := Pack(lengths, capacity, algo)
				if err != nil {
					b.Fatal(err)
				}
				st = ComputePackStats(lengths, bins, capacity)
			}
			b.ReportMetric(100*st.Efficiency, "eff%")
			b.ReportMetric(1e6*(1-st.Efficiency), "waste-ppm")
			b.ReportMetric(float64(st.Bins-st.LowerBoundBins), "bins>lb")
		})
	}
}
