package pipeline

import (
	"os"
	"runtime"
	"runtime/debug"
)

// gcPercent is the GC target of a command-line run. A run streams: its live heap is the dedupe index,
// the statistics and a bounded window of batches and Parquet pages, while it allocates its whole input
// again as short-lived buffers (decompressed pieces, batch arenas). Most of that memory is pointer-free,
// so a collection costs little (2% of CPU at the default GOGC=100 on the benchmark files), and the
// default's price is memory: the heap grows to twice the live set before each collection. At 50 it grows
// by half: ~3% more CPU for a peak ~25% lower (1M DuckDB-written rows in one row group, --format text:
// 284 → 216 MB). A memory limit (GOMEMLIMIT) is left to the user: below what a run legitimately keeps
// (the dedupe index grows with the rows kept) it would make the collector run back to back.
const gcPercent = 50

// tuneRuntime applies the process-wide settings of a command-line run and returns a func restoring
// them. GOGC in the environment wins over gcPercent. --workers N (N > 0) also caps GOMAXPROCS at N:
// reading, merging and writing run on goroutines of their own, so without the cap --workers 1 would
// still use every core, and the flag would not say how many cores the run may take.
func tuneRuntime(workers int) (restore func()) {
	prevGC := -1
	if _, set := os.LookupEnv("GOGC"); !set {
		prevGC = debug.SetGCPercent(gcPercent)
	}
	prevProcs := 0
	if workers > 0 && workers < runtime.GOMAXPROCS(0) {
		prevProcs = runtime.GOMAXPROCS(workers)
	}
	return func() {
		if prevGC >= 0 {
			debug.SetGCPercent(prevGC)
		}
		if prevProcs > 0 {
			runtime.GOMAXPROCS(prevProcs)
		}
	}
}
