package orca

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// expectation is one entry of testdata/parquet/expected.json, whose counts were computed by DuckDB
// (scripts/gen-fixtures.sh), not by this package.
type expectation struct {
	Error     bool             `json:"error"`
	Rows      int64            `json:"rows"`
	RowGroups int              `json:"row_groups"`
	Nulls     map[string]int64 `json:"nulls"`
	TextBytes map[string]int64 `json:"text_bytes"`
	Writer    string           `json:"writer"`
	Reason    string           `json:"reason"`
}

func loadExpectations(t *testing.T) map[string]expectation {
	t.Helper()
	b, err := os.ReadFile("../testdata/parquet/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]expectation
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) < 10 {
		t.Fatalf("only %d fixtures", len(m))
	}
	return m
}

// readAll streams every row group and returns per-column null counts and text byte sums.
func readAll(path string) (rows int64, nulls, text map[string]int64, err error) {
	f, err := Open(path, 0)
	if err != nil {
		return 0, nil, nil, err
	}
	defer f.Close()
	nulls, text = map[string]int64{}, map[string]int64{}
	for rg := 0; rg < f.NumRowGroups(); rg++ {
		err = f.ReadRowGroup(rg, 37, false, func(recs []Record) error {
			for _, r := range recs {
				rows++
				for i, v := range []string{r.ID, r.SystemPrompt, r.Question, r.Response} {
					text[Columns[i]] += int64(len(v))
					if r.Nulls&(1<<i) != 0 {
						nulls[Columns[i]]++
					}
				}
			}
			return nil
		})
		if err != nil {
			return rows, nulls, text, err
		}
	}
	return rows, nulls, text, nil
}

func TestFixturesFromOtherWriters(t *testing.T) {
	for name, want := range loadExpectations(t) {
		path := filepath.Join("../testdata/parquet", name)
		t.Run(name, func(t *testing.T) {
			rows, nulls, text, err := readAll(path)
			if want.Error && want.Rows != 0 && err == nil && !strings.HasPrefix(name, "bad-") {
				return // file-level fine, row-level problem: checked in the pipeline tests
			}
			if want.Error && strings.HasPrefix(name, "bad-") {
				if err == nil {
					t.Fatalf("bad file read without error (%s)", want.Reason)
				}
				if !strings.Contains(err.Error(), name) {
					t.Fatalf("error does not name the file: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s (%s): %v", name, want.Writer, err)
			}
			if rows != want.Rows {
				t.Fatalf("rows %d, DuckDB says %d", rows, want.Rows)
			}
			if len(want.TextBytes) == 0 {
				return // DuckDB itself refuses this file's strings (invalid UTF-8): only the row count is known
			}
			for _, c := range Columns {
				if nulls[c] != want.Nulls[c] || text[c] != want.TextBytes[c] {
					t.Fatalf("column %s: nulls %d bytes %d, DuckDB says %d / %d", c, nulls[c], text[c], want.Nulls[c], want.TextBytes[c])
				}
			}
		})
	}
}
