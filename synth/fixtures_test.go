package synth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/orcaprep/orcaprep/orca"
	"github.com/parquet-go/parquet-go"
)

// expectedFixture is one entry of testdata/parquet/expected.json, written by scripts/node/gen-fixtures.mjs
// from DuckDB's reading of each file.
type expectedFixture struct {
	Error      bool              `json:"error"`
	Rows       *int64            `json:"rows"`
	Nulls      map[string]int64  `json:"nulls"`
	TextBytes  map[string]int64  `json:"text_bytes"`
	RowGroups  *int              `json:"row_groups"`
	Columns    map[string]string `json:"columns"`
	InvalidRow []int64           `json:"invalid_utf8_rows"`
}

// readAll reads a Parquet file's four OpenOrca columns with parquet-go, row group by row group.
func readAll(path string) (rows []fileRow, groups int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, 0, err
	}
	for _, rg := range pf.RowGroups() {
		r := parquet.NewGenericRowGroupReader[fileRow](rg)
		buf := make([]fileRow, 64)
		for {
			n, err := r.Read(buf)
			rows = append(rows, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				r.Close()
				return nil, 0, err
			}
		}
		r.Close()
	}
	return rows, len(pf.RowGroups()), nil
}

// TestFixturesMatchDuckDB checks that parquet-go reads every good fixture from another writer with exactly
// DuckDB's row, NULL and byte counts, so the fixtures and expected.json are fit for the reader's tests.
func TestFixturesMatchDuckDB(t *testing.T) {
	dir := filepath.Join("..", "testdata", "parquet")
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp map[string]expectedFixture
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp) < 15 {
		t.Fatalf("expected.json lists %d fixtures", len(exp))
	}
	for name, e := range exp {
		if e.Error || e.Rows == nil {
			continue
		}
		t.Run(name, func(t *testing.T) {
			rows, groups, err := readAll(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(rows)) != *e.Rows || groups != *e.RowGroups {
				t.Errorf("parquet-go read %d rows in %d row groups; DuckDB %d in %d", len(rows), groups, *e.Rows, *e.RowGroups)
			}
			nulls := map[string]int64{}
			text := map[string]int64{}
			for _, r := range rows {
				for i, p := range []*string{r.ID, r.SystemPrompt, r.Question, r.Response} {
					if p == nil {
						nulls[orca.Columns[i]]++
					} else {
						text[orca.Columns[i]] += int64(len(*p))
					}
				}
			}
			if e.InvalidRow != nil {
				bad := map[int64]bool{}
				for _, i := range e.InvalidRow {
					bad[i] = true
				}
				for i, r := range rows {
					valid := r.Question == nil || utf8.ValidString(*r.Question)
					valid = valid && (r.Response == nil || utf8.ValidString(*r.Response))
					if valid == bad[int64(i)] {
						t.Errorf("row %d: valid UTF-8 = %v, expected.json says invalid = %v", i, valid, bad[int64(i)])
					}
				}
				if len(bad) == 0 {
					t.Error("no invalid rows listed")
				}
			}
			for _, c := range orca.Columns {
				if nulls[c] != e.Nulls[c] {
					t.Errorf("column %s: %d NULLs, DuckDB %d", c, nulls[c], e.Nulls[c])
				}
				if e.TextBytes != nil && text[c] != e.TextBytes[c] {
					t.Errorf("column %s: %d bytes, DuckDB %d", c, text[c], e.TextBytes[c])
				}
			}
		})
	}
}

// TestSampleMatchesGenerator checks that the committed DuckDB-written sample holds exactly the rows Generate
// makes for its config, in order, and that its labels file is Generate's: if the generator changes, rerun
// scripts/gen-fixtures.sh.
func TestSampleMatchesGenerator(t *testing.T) {
	dir := filepath.Join("..", "testdata", "sample")
	rows, _, err := readAll(filepath.Join(dir, "openorca-sample.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := collect(DefaultConfig(2000, 2026))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want) {
		t.Fatalf("sample has %d rows, generator %d", len(rows), len(want))
	}
	labels, err := os.ReadFile(filepath.Join(dir, "openorca-sample.labels.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(labels), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d label lines, want %d", len(lines), len(want))
	}
	for i, r := range rows {
		w := want[i].rec
		got := []*string{r.ID, r.SystemPrompt, r.Question, r.Response}
		for c, s := range []string{w.ID, w.SystemPrompt, w.Question, w.Response} {
			isNull := w.Nulls&(1<<c) != 0
			if (got[c] == nil) != isNull || (got[c] != nil && *got[c] != s) {
				t.Fatalf("row %d column %s differs from the generator: rerun scripts/gen-fixtures.sh", i, orca.Columns[c])
			}
		}
		wl, _ := json.Marshal(want[i].lab)
		if lines[i] != string(wl) {
			t.Fatalf("label line %d = %s, generator %s", i+1, lines[i], wl)
		}
	}
}

// TestBadFixturesFailInParquetGo records which broken fixtures parquet-go itself rejects (as an error, never a
// panic); schema problems (missing column, INT64 question, zero rows) are the reader's job to report.
func TestBadFixturesFailInParquetGo(t *testing.T) {
	dir := filepath.Join("..", "testdata", "parquet")
	for _, name := range []string{"bad-truncated.parquet", "bad-truncated-footer.parquet", "bad-not-parquet.parquet", "bad-empty-0-bytes.parquet", "bad-corrupt-page.parquet"} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("parquet-go panicked: %v", p)
				}
			}()
			if _, _, err := readAll(filepath.Join(dir, name)); err == nil {
				t.Error("read without error")
			}
		})
	}
}

// TestDuckDBRewrite runs scripts/node/duckdb-rewrite.mjs (needs `scripts/install-test-deps.sh`; skipped without it
// unless ORCAPREP_REQUIRE_TOOLS is set) and checks the DuckDB-written copy holds the same rows in the same order.
func TestDuckDBRewrite(t *testing.T) {
	script, _ := filepath.Abs(filepath.Join("..", "scripts", "node", "duckdb-rewrite.mjs"))
	_, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(filepath.Dir(script), "node_modules", "@duckdb", "node-api"))
	if nodeErr != nil || modErr != nil {
		if os.Getenv("ORCAPREP_REQUIRE_TOOLS") != "" {
			t.Fatalf("node or scripts/node/node_modules missing (run scripts/install-test-deps.sh): %v %v", nodeErr, modErr)
		}
		t.Skip("node or scripts/node/node_modules missing; run scripts/install-test-deps.sh (set ORCAPREP_REQUIRE_TOOLS=1 to fail instead)")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.parquet"), filepath.Join(dir, "out.parquet")
	cfg := DefaultConfig(3000, 99)
	if err := WriteParquetWith(context.Background(), cfg, WriteOptions{RowGroupSize: 700}, in, ""); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", script, in, out, "--compression", "snappy")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("duckdb-rewrite: %v\n%s", err, msg)
	}
	a, _, err := readAll(in)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := readAll(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("rewrite has %d rows, want %d", len(b), len(a))
	}
	eq := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	for i := range a {
		if !eq(a[i].ID, b[i].ID) || !eq(a[i].SystemPrompt, b[i].SystemPrompt) || !eq(a[i].Question, b[i].Question) || !eq(a[i].Response, b[i].Response) {
			t.Fatalf("row %d differs after the DuckDB rewrite", i)
		}
	}
	// A missing input is an error with a non-zero exit and no output file.
	bad := exec.Command("node", script, filepath.Join(dir, "missing.parquet"), filepath.Join(dir, "x.parquet"))
	var ee *exec.ExitError
	if err := bad.Run(); !errors.As(err, &ee) {
		t.Errorf("missing input: %v, want a non-zero exit", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.parquet")); !os.IsNotExist(err) {
		t.Error("failed rewrite left an output file")
	}
}
