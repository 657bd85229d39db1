package synth

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/orcaprep/orcaprep/orca"
)

// BenchmarkGenerate measures row generation alone (b.N rows); SetBytes reports text MB/s.
func BenchmarkGenerate(b *testing.B) {
	cfg := DefaultConfig(b.N, 1)
	var n int64
	b.ResetTimer()
	err := Generate(cfg, func(r orca.Record, _ Label) error {
		n += int64(len(r.SystemPrompt) + len(r.Question) + len(r.Response))
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(n / int64(max(1, b.N)))
}

// BenchmarkWriteParquet measures generation plus the zstd Parquet write (b.N rows).
func BenchmarkWriteParquet(b *testing.B) {
	path := filepath.Join(b.TempDir(), "b.parquet")
	if err := WriteParquet(context.Background(), DefaultConfig(b.N, 1), path, ""); err != nil {
		b.Fatal(err)
	}
}
