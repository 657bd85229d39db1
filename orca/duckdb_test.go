package orca

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The reader is checked row by row against DuckDB's reading of files written by DuckDB and arrow-rs:
// scripts/node/reader-fixtures.mjs writes them (big pages, one-row row groups, big values, NULL-heavy
// columns, every codec and string encoding) with a digest of each row as DuckDB reads it.

var (
	fixturesOnce sync.Once
	fixturesDir  string
	fixturesErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixturesDir != "" {
		os.RemoveAll(fixturesDir)
	}
	os.Exit(code)
}

// readerFixtures runs the node script once per test binary; it skips (or fails under
// ORCAPREP_REQUIRE_TOOLS=1) when node or the npm packages are missing.
func readerFixtures(t *testing.T) string {
	t.Helper()
	script, _ := filepath.Abs("../scripts/node/reader-fixtures.mjs")
	_, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(filepath.Dir(script), "node_modules", "parquet-wasm"))
	if nodeErr != nil || modErr != nil {
		if os.Getenv("ORCAPREP_REQUIRE_TOOLS") == "1" {
			t.Fatalf("node or scripts/node/node_modules missing (run scripts/install-test-deps.sh): %v %v", nodeErr, modErr)
		}
		t.Skip("node or scripts/node/node_modules missing; run scripts/install-test-deps.sh (set ORCAPREP_REQUIRE_TOOLS=1 to fail instead)")
	}
	fixturesOnce.Do(func() {
		fixturesDir, fixturesErr = os.MkdirTemp("", "orca-reader-fixtures-")
		if fixturesErr != nil {
			return
		}
		args := []string{script, "--out", fixturesDir}
		for name, e := range loadExpectations(t) {
			if !e.Error && len(e.TextBytes) > 0 {
				abs, _ := filepath.Abs(filepath.Join("../testdata/parquet", name))
				args = append(args, abs)
			}
		}
		cmd := exec.Command("node", args...)
		cmd.Dir = filepath.Dir(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			fixturesErr = fmt.Errorf("reader-fixtures.mjs: %v\n%s", err, out)
		}
	})
	if fixturesErr != nil {
		t.Fatal(fixturesErr)
	}
	return fixturesDir
}

// digestFile reads DuckDB's per-row digests: per row, the md5 of each column ("" for NULL).
func digestFile(t *testing.T, path string) [][4]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][4]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct {
			D [4]*string `json:"d"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		var d [4]string
		for i, p := range line.D {
			if p != nil {
				d[i] = *p
			}
		}
		out = append(out, d)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func rowDigest(r *Record) [4]string {
	var d [4]string
	for i, v := range []string{r.ID, r.SystemPrompt, r.Question, r.Response} {
		if r.Nulls&(1<<i) == 0 {
			h := md5.Sum([]byte(v))
			d[i] = hex.EncodeToString(h[:])
		}
	}
	return d
}

// scanAll reads f with o and returns the row digests (and the scanner's counters, when st is not nil).
func scanAll(f *File, o ScanOptions, st ...*scanCounts) ([][4]string, error) {
	s, err := f.Scan(context.Background(), o)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if len(st) > 0 {
		defer func() {
			x := s.Stats()
			*st[0] = scanCounts{x.Pages.Load(), x.Streamed.Load(), x.SnappyPieces.Load(), x.WholeFallback.Load()}
		}()
	}
	var out [][4]string
	want := int64(-1)
	for {
		recs, err := s.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if len(recs) == 0 {
			return out, errors.New("empty batch")
		}
		for i := range recs {
			if want >= 0 && recs[i].Row != want {
				return out, fmt.Errorf("row %d after row %d", recs[i].Row, want-1)
			}
			want = recs[i].Row + 1
			out = append(out, rowDigest(&recs[i]))
		}
	}
}

type scanCounts struct{ pages, streamed, pieces, whole int64 }

type scanConfig struct {
	name      string
	o         ScanOptions
	bigPage   int
	pieceSize int
	parallel  bool // big Snappy pages cut into pieces for the workers, as with many cores
}

var scanConfigs = []scanConfig{
	{name: "default"},
	// Everything admitted only when the assembler needs it; tiny batches.
	{name: "serial", o: ScanOptions{Workers: 1, ReadAhead: 1, BatchRows: 7, BatchBytes: 1}},
	// Most pages streamed, in many small pieces.
	{name: "streamed", o: ScanOptions{Workers: 3, BatchRows: 1000, ReadAhead: 3 << 20}, bigPage: 32 << 10, pieceSize: 8 << 10},
	// Big Snappy pages cut into pieces decoded by the workers; the default pieces, and small ones.
	{name: "pieces", parallel: true},
	{name: "small-pieces", o: ScanOptions{Workers: 3, BatchRows: 1000, ReadAhead: 3 << 20}, bigPage: 32 << 10, pieceSize: 8 << 10, parallel: true},
}

func TestScanMatchesDuckDB(t *testing.T) {
	dir := readerFixtures(t)
	var manifest []struct {
		File   string `json:"file"`
		Layout string `json:"layout"`
		RowsAs string `json:"rows_as"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		t.Fatal(err)
	}
	type fixture struct{ path, digest string }
	var fixtures []fixture
	for _, m := range manifest {
		ref := m.File
		if m.RowsAs != "" {
			ref = m.RowsAs
		}
		fixtures = append(fixtures, fixture{filepath.Join(dir, m.File), filepath.Join(dir, strings.TrimSuffix(ref, ".parquet")+".digest.jsonl")})
	}
	for name, e := range loadExpectations(t) {
		if !e.Error && len(e.TextBytes) > 0 {
			fixtures = append(fixtures, fixture{filepath.Join("../testdata/parquet", name), filepath.Join(dir, strings.TrimSuffix(name, ".parquet")+".digest.jsonl")})
		}
	}
	if len(fixtures) < 20 {
		t.Fatalf("only %d fixtures", len(fixtures))
	}
	for _, fx := range fixtures {
		want := digestFile(t, fx.digest)
		f, err := Open(fx.path, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range scanConfigs {
			t.Run(filepath.Base(fx.path)+"/"+c.name, func(t *testing.T) {
				defer setStreaming(c.bigPage, c.pieceSize)()
				if c.parallel {
					defer func(n int) { snappyParallelAbove = n }(snappyParallelAbove)
					snappyParallelAbove = 0
				}
				var st scanCounts
				got, err := scanAll(f, c.o, &st)
				if err != nil {
					t.Fatal(err)
				}
				compareDigests(t, got, want)
				// The paths these files are here for were taken: DuckDB's and arrow-rs's big Snappy pages
				// stream (in parallel pieces when asked), without falling back to whole-page decoding.
				base := filepath.Base(fx.path)
				if (c.name == "default" || c.name == "pieces") && strings.Contains(base, "bigpages") || strings.HasPrefix(base, "duckdb-1rg") {
					if st.streamed == 0 {
						t.Errorf("no page was streamed: %+v", st)
					}
				}
				if base == "duckdb-1rg-snappy.parquet" || base == "arrowrs-plain-snappy-bigpages.parquet" {
					workers := c.o.Workers
					if workers == 0 {
						workers = runtime.GOMAXPROCS(0)
					}
					cut := c.parallel || workers > snappyParallelAbove && runtime.GOMAXPROCS(0) > snappyParallelAbove
					switch {
					case (c.name == "default" || c.name == "pieces") && cut && st.pieces < 2*st.streamed:
						t.Errorf("Snappy pages not cut into pieces: %+v", st)
					case !cut && st.pieces != 0:
						t.Errorf("Snappy pages cut into pieces with %d workers: %+v", runtime.GOMAXPROCS(0), st)
					}
				}
				if st.whole != 0 && !strings.Contains(base, "parquetgo") {
					t.Errorf("%d pages decoded whole after all", st.whole)
				}
			})
		}
		if n := f.NumRowGroups(); n > 1 {
			// Row-group ranges (what staged map tasks read) concatenate to the whole file.
			t.Run(filepath.Base(fx.path)+"/ranges", func(t *testing.T) {
				var got [][4]string
				step := max(1, n/3)
				for from := 0; from < n; from += step {
					part, err := scanAll(f, ScanOptions{From: from, To: min(n, from+step), Workers: 2})
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, part...)
				}
				compareDigests(t, got, want)
			})
		}
		f.Close()
	}
}

func compareDigests(t *testing.T, got, want [][4]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d rows, DuckDB reads %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("row %d differs from DuckDB's reading: got %v, want %v", i, got[i], want[i])
		}
	}
}

// setStreaming lowers the streaming thresholds (0 keeps the default) and returns the restore func.
func setStreaming(big, piece int) func() {
	ob, op := bigPage, pieceBytes
	if big > 0 {
		bigPage = big
	}
	if piece > 0 {
		pieceBytes = piece
	}
	return func() { bigPage, pieceBytes = ob, op }
}
