package orca

import (
	"context"
	"path/filepath"
	"testing"
)

// TestScanFieldsProjection reads other writers' files with ScanOptions.Fields = [question] and checks every
// row against a full read: same id and question, the other fields empty and not marked NULL (columns that
// were not read are not NULL), and the question's NULL bit kept.
func TestScanFieldsProjection(t *testing.T) {
	for _, name := range []string{"duckdb-snappy.parquet", "duckdb-reordered-columns.parquet", "arrowrs-dict-snappy.parquet", "arrowrs-largeutf8-zstd-rowgroups.parquet", "duckdb-extra-column.parquet"} {
		f, err := Open(filepath.Join("..", "testdata", "parquet", name), 0)
		if err != nil {
			t.Fatal(err)
		}
		var full, proj []Record
		if err := f.Each(context.Background(), ScanOptions{BatchRows: 37}, func(rs []Record) error { full = append(full, rs...); return nil }); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := f.Each(context.Background(), ScanOptions{BatchRows: 37, Fields: []string{ColQuestion}}, func(rs []Record) error { proj = append(proj, rs...); return nil }); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f.Close()
		if len(full) != len(proj) || len(full) == 0 {
			t.Fatalf("%s: %d rows projected, %d full", name, len(proj), len(full))
		}
		for i := range full {
			a, b := full[i], proj[i]
			if b.ID != a.ID || b.Question != a.Question || b.SystemPrompt != "" || b.Response != "" || b.Row != a.Row ||
				b.Nulls != a.Nulls&(NullID|NullQuestion) {
				t.Fatalf("%s row %d: projected %+v, full %+v", name, i, b, a)
			}
		}
	}
}
