package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/orcaprep/orcaprep/progress"
	"github.com/orcaprep/orcaprep/synth"
)

// BenchmarkRun measures whole runs on 20k synth rows per format, in rows/s (the tiny test tokenizer stands in for Llama-2;
// scripts/bench.sh measures the binary against DuckDB at 100k and 1M rows).
func BenchmarkRun(b *testing.B) {
	dir := b.TempDir()
	in := filepath.Join(dir, "in.parquet")
	if err := synth.WriteParquet(context.Background(), synth.DefaultConfig(20000, 1), in, ""); err != nil {
		b.Fatal(err)
	}
	for _, format := range []string{FormatText, FormatMessages, FormatTokenized, FormatPacked} {
		b.Run(format, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Inputs, cfg.Format = []string{in}, format
			if format == FormatTokenized || format == FormatPacked {
				cfg.Tokenizer.Path = tinyModel
			}
			n := 0
			for b.Loop() {
				cfg.Out = filepath.Join(dir, fmt.Sprint("out-", format, n))
				n++
				if _, err := Run(context.Background(), Options{Config: cfg, Progress: progress.Never}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(20000*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
