package orca

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

type extraRow struct {
	Index        int64   `parquet:"__index_level_0__"`
	ID           *string `parquet:"id,optional"`
	SystemPrompt *string `parquet:"system_prompt,optional"`
	Question     *string `parquet:"question,optional"`
	Response     *string `parquet:"response,optional"`
}

func sp(s string) *string { return &s }

func writeExtra(t *testing.T, n, rg int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.parquet")
	rows := make([]extraRow, n)
	for i := range rows {
		rows[i] = extraRow{Index: int64(i), ID: sp(fmt.Sprintf("%s.%d", Submixes[i%4], i)), SystemPrompt: sp("s"), Question: sp(fmt.Sprint("q", i)), Response: sp("r")}
		if i%10 == 3 {
			rows[i].SystemPrompt = nil
		}
	}
	if err := parquet.WriteFile(path, rows, parquet.MaxRowsPerRowGroup(int64(rg))); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadAllRowGroupsWithNullsAndExtraColumn(t *testing.T) {
	path := writeExtra(t, 1000, 300)
	f, err := Open(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.NumRowGroups() != 4 || f.NumRows() != 1000 {
		t.Fatalf("layout: %d groups %d rows", f.NumRowGroups(), f.NumRows())
	}
	var n, nulls int64
	for rg := 0; rg < f.NumRowGroups(); rg++ {
		err := f.ReadRowGroup(rg, 64, false, func(recs []Record) error {
			for _, r := range recs {
				if r.Row != n || r.File != 2 || r.Question != fmt.Sprint("q", n) {
					return fmt.Errorf("row %d out of order: %+v", n, r)
				}
				if r.Nulls&NullSystemPrompt != 0 {
					if r.SystemPrompt != "" {
						return fmt.Errorf("null not read as empty")
					}
					nulls++
				}
				n++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n != 1000 || nulls != 100 {
		t.Fatalf("read %d rows, %d nulls", n, nulls)
	}
}

func TestInspect(t *testing.T) {
	path := writeExtra(t, 400, 100)
	in, err := Inspect(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if in.Rows != 400 || len(in.RowGroups) != 4 || in.Submixes["flan"] != 100 || in.Submixes["t0"] != 100 {
		t.Fatalf("%+v", in)
	}
	var buf bytes.Buffer
	in.WriteText(&buf)
	for _, want := range []string{"rows:        400", "row groups:  4", "flan   100", "question"} {
		if !strings.Contains(buf.String(), want) {
			t.Fatalf("missing %q in:\n%s", want, buf.String())
		}
	}
}

func TestSubmixOf(t *testing.T) {
	for id, want := range map[string]string{"flan.1": "flan", "cot.x.y": "cot", "niv": "niv", "t0.": "t0", "": "other", "FLAN.1": "other", "gpt.2": "other"} {
		if got := SubmixOf(id); got != want {
			t.Errorf("%q: %s, want %s", id, got, want)
		}
	}
}

// A row group with no rows (and, as some writers leave it, no chunk offsets) is skipped.
func TestEmptyRowGroupSkipped(t *testing.T) {
	data, err := os.ReadFile("../testdata/parquet/duckdb-rowgroups.parquet")
	if err != nil {
		t.Fatal(err)
	}
	f, err := openBytes("e.parquet", data)
	if err != nil {
		t.Fatal(err)
	}
	want, err := scanAll(f, ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.groups = append(f.groups[:1], append([]groupMeta{{}}, f.groups[1:]...)...)
	got, err := scanAll(f, ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	compareDigests(t, got, want)
}
