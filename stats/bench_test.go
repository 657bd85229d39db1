package stats

import "testing"

// BenchmarkObserve measures the per-row cost the ordered merge goroutine pays for statistics.
func BenchmarkObserve(b *testing.B) {
	obs := synthObs(4096, 1, false)
	c := NewCollector()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Observe(&obs[i&4095])
	}
}

// BenchmarkMerge measures folding one worker's collector into another.
func BenchmarkMerge(b *testing.B) {
	obs := synthObs(4096, 1, false)
	parts := make([]*Collector, 2)
	for p := range parts {
		parts[p] = NewCollector()
		for i := range obs {
			parts[p].Observe(&obs[i])
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := NewCollector()
		c.Merge(parts[0])
	}
}
