package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/chatml"
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/progress"
	"github.com/orcaprep/orcaprep/synth"
	"github.com/parquet-go/parquet-go"
)

type pqRow struct {
	ID           *string `parquet:"id,optional"`
	SystemPrompt *string `parquet:"system_prompt,optional"`
	Question     *string `parquet:"question,optional"`
	Response     *string `parquet:"response,optional"`
}

func sp(s string) *string { return &s }

// writeParquet writes rows with parquet-go in row groups of rg rows. Other-writer files are in testdata/parquet.
func writeParquet(t testing.TB, path string, rows []pqRow, rg int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[pqRow](f, parquet.Compression(&parquet.Zstd))
	for i := 0; i < len(rows); i += rg {
		end := min(i+rg, len(rows))
		if _, err := w.Write(rows[i:end]); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func genRows(n int) []pqRow {
	subs := []string{"flan", "t0", "cot", "niv", "weird"}
	rows := make([]pqRow, n)
	for i := range rows {
		rows[i] = pqRow{
			ID:           sp(fmt.Sprintf("%s.%d", subs[i%len(subs)], i)),
			SystemPrompt: sp([]string{"", "You are an AI assistant.", "You are a teacher."}[i%3]),
			Question:     sp(fmt.Sprintf("Question %d <b>&</b> \"quoted\"\nline two", i)),
			Response:     sp(fmt.Sprintf("Answer %d — done.", i)),
		}
	}
	return rows
}

func runOnce(t *testing.T, cfg Config) (*Result, error) {
	t.Helper()
	return Run(context.Background(), Options{Config: cfg, Progress: progress.Never, Version: "test"})
}

func readShardLines(t *testing.T, out string, m *Manifest) []map[string]any {
	t.Helper()
	var rows []map[string]any
	for _, s := range m.Shards {
		f, err := os.Open(filepath.Join(out, s.Path))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<26)
		for sc.Scan() {
			var v map[string]any
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				t.Fatalf("%s: invalid JSON line: %v", s.Path, err)
			}
			rows = append(rows, v)
		}
		f.Close()
	}
	return rows
}

func TestRunTextEndToEnd(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.parquet")
	rows := genRows(1000)
	rows[7].Response = nil // NULL response → counted, rendered as ""
	rows[8].Question = sp("bad \xff utf8")
	writeParquet(t, in, rows, 128)
	cfg := DefaultConfig()
	cfg.Inputs = []string{in}
	cfg.Out = filepath.Join(dir, "out")
	cfg.Output.MaxRows = 300
	cfg.Dedupe.Near.Enabled = false // genRows are templated near-copies of each other
	res, err := runOnce(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	l := res.Stats.Ledger
	if l.RowsRead != 1000 || l.Dropped["not_selected"] != 200 || l.Dropped["invalid_utf8"] != 1 || l.Nulls["response"] != 1 || l.Dropped["empty_response"] != 1 {
		t.Fatalf("ledger: read %d dropped %v nulls %v", l.RowsRead, l.Dropped, l.Nulls)
	}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
	lines := readShardLines(t, cfg.Out, res.Manifest)
	if int64(len(lines)) != l.RowsKept || len(res.Manifest.Shards) != 3 {
		t.Fatalf("%d lines in %d shards, kept %d", len(lines), len(res.Manifest.Shards), l.RowsKept)
	}
	// Each kept row's text equals the ChatML rendering of its input row, in input order.
	j := 0
	for i, r := range rows {
		if strings.HasPrefix(*r.ID, "weird") || i == 8 || i == 7 {
			continue // not selected, invalid UTF-8, NULL response (empty_response)
		}
		rec := orca.Record{ID: *r.ID, SystemPrompt: *r.SystemPrompt, Question: *r.Question}
		if r.Response != nil {
			rec.Response = *r.Response
		}
		want := chatml.Text(&rec, chatml.Options{Style: chatml.StyleChatML})
		if lines[j]["id"] != rec.ID || lines[j]["text"] != want {
			t.Fatalf("row %d: got %v want id %s text %q", i, lines[j], rec.ID, want)
		}
		j++
	}
	raw, _ := os.ReadFile(filepath.Join(cfg.Out, res.Manifest.Shards[0].Path))
	if !strings.Contains(string(raw), "<|im_start|>") || strings.Contains(string(raw), `\u003c`) {
		t.Fatal("ChatML markers must not be HTML-escaped")
	}
}

func TestRunDeterministicAcrossWorkers(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.parquet")
	writeParquet(t, in, genRows(5000), 333)
	var first map[string][]byte
	for _, w := range []int{1, 4, 3} {
		for _, format := range []string{FormatText} {
			cfg := DefaultConfig()
			cfg.Inputs, cfg.Workers, cfg.Format, cfg.BatchSize = []string{in}, w, format, 64
			cfg.Out = filepath.Join(dir, fmt.Sprintf("out-%d", w))
			cfg.Output.Compression = "zstd"
			if _, err := runOnce(t, cfg); err != nil {
				t.Fatal(err)
			}
			got := map[string][]byte{}
			for _, rel := range []string{"manifest.json", "data/train-00000.jsonl.zst", "rejected/rejected-00000.jsonl.zst", "stats.json"} {
				b, err := os.ReadFile(filepath.Join(cfg.Out, rel))
				if err != nil {
					t.Fatal(err)
				}
				if rel == "stats.json" { // identical but for the wall-clock timing
					var m map[string]any
					if err := json.Unmarshal(b, &m); err != nil {
						t.Fatal(err)
					}
					if m["distributions"] == nil {
						t.Fatal("stats.json has no distributions")
					}
					delete(m, "timing")
					b, _ = json.Marshal(m)
				}
				got[rel] = b
			}
			if first == nil {
				first = got
				continue
			}
			for k, v := range got {
				if string(v) != string(first[k]) {
					t.Fatalf("workers=%d: %s differs from workers=1", w, k)
				}
			}
		}
	}
}

func TestRunRefusesNonEmptyOutAndKeepsItOnFailure(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.parquet")
	writeParquet(t, in, genRows(10), 10)
	out := filepath.Join(dir, "out")
	cfg := DefaultConfig()
	cfg.Inputs, cfg.Out = []string{in}, out
	if _, err := runOnce(t, cfg); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, out)
	_, err := runOnce(t, cfg)
	if exitcode.Code(err) != exitcode.Output || !strings.Contains(err.Error(), "holds an earlier orcaprep output; pass --overwrite") {
		t.Fatalf("want output error, got %v", err)
	}
	// A failing input with --overwrite must leave the old OUT untouched and no staging dirs behind.
	bad := filepath.Join(dir, "bad.parquet")
	os.WriteFile(bad, []byte("PAR1 this is not parquet at all PAR1"), 0o644)
	cfg.Inputs = []string{in, bad}
	_, err = Run(context.Background(), Options{Config: cfg, Overwrite: true, Progress: progress.Never, Version: "test"})
	if exitcode.Code(err) != exitcode.Input || !strings.Contains(err.Error(), "bad.parquet") {
		t.Fatalf("want input error naming bad.parquet, got %v", err)
	}
	if got := snapshot(t, out); !maps.Equal(got, before) {
		t.Fatal("old output was touched by a failed run")
	}
	assertNoDebris(t, dir)
	cfg.Inputs = []string{in}
	cfg.Output.Prefix = "part" // a different file set: --overwrite must replace OUT, not mix old and new files
	if _, err := Run(context.Background(), Options{Config: cfg, Overwrite: true, Progress: progress.Never, Version: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "data", "train-00000.jsonl")); !os.IsNotExist(err) {
		t.Fatal("--overwrite must replace OUT, not mix old and new files")
	}
	assertNoDebris(t, dir)
}

// snapshot maps every file under dir to its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		m[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// assertNoDebris fails when anything but the inputs, outputs and test files is left in dir: staging
// directories, a .old directory, a lock file.
func assertNoDebris(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".orcaprep-") {
			t.Fatalf("left behind: %s", e.Name())
		}
	}
}

func TestRunBadInputs(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.parquet")
	writeParquet(t, good, genRows(100), 50)
	b, _ := os.ReadFile(good)
	trunc := filepath.Join(dir, "trunc.parquet")
	os.WriteFile(trunc, b[:len(b)/2], 0o644)
	empty := filepath.Join(dir, "empty.parquet")
	os.WriteFile(empty, nil, 0o644)
	type noResp struct {
		ID       string `parquet:"id"`
		Question string `parquet:"question"`
	}
	missing := filepath.Join(dir, "missing.parquet")
	if err := parquet.WriteFile(missing, []noResp{{"a.1", "q"}}); err != nil {
		t.Fatal(err)
	}
	type intQ struct {
		ID           string `parquet:"id"`
		SystemPrompt string `parquet:"system_prompt"`
		Question     int64  `parquet:"question"`
		Response     string `parquet:"response"`
	}
	wrongType := filepath.Join(dir, "int.parquet")
	if err := parquet.WriteFile(wrongType, []intQ{{"a.1", "", 5, "r"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ file, want string }{
		{filepath.Join(dir, "nope.parquet"), "no such file"},
		{trunc, "trunc.parquet"},
		{empty, "empty file"},
		{missing, `missing column "system_prompt"`},
		{wrongType, `column "question" has type`},
	} {
		cfg := DefaultConfig()
		cfg.Inputs, cfg.Out = []string{c.file}, filepath.Join(dir, "out")
		_, err := runOnce(t, cfg)
		if err == nil || exitcode.Code(err) != exitcode.Input || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want input error containing %q, got %v", filepath.Base(c.file), c.want, err)
		}
		if _, serr := os.Stat(cfg.Out); !errors.Is(serr, os.ErrNotExist) {
			t.Errorf("%s: output directory created by a failed run", filepath.Base(c.file))
		}
	}
}

func TestRunOtherWriterFixtures(t *testing.T) {
	dir := t.TempDir()
	// Invalid UTF-8 rows (written by parquet-go; DuckDB refuses them) are dropped one by one with a named reason.
	cfg := DefaultConfig()
	cfg.Inputs, cfg.Out = []string{"../testdata/parquet/parquetgo-invalid-utf8.parquet"}, filepath.Join(dir, "u")
	res, err := runOnce(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Dropped["invalid_utf8"] != 6 || res.Stats.RowsRead != 120 {
		t.Fatalf("invalid_utf8: %v of %d", res.Stats.Dropped, res.Stats.RowsRead)
	}
	rej := readJSONL[map[string]any](t, filepath.Join(cfg.Out, res.Manifest.Rejected[0].Path))
	var rows []float64
	for _, r := range rej {
		if r["reason"] == "invalid_utf8" {
			rows = append(rows, r["row"].(float64))
			if !strings.Contains(r["detail"].(string), "invalid UTF-8 at byte") {
				t.Fatalf("detail: %v", r)
			}
		}
	}
	if fmt.Sprint(rows) != "[0 18 36 86 91 109]" {
		t.Fatalf("rejected rows %v", rows)
	}
	// A Parquet file with zero rows is refused: an empty input is almost always a mistake upstream.
	cfg.Inputs, cfg.Out = []string{"../testdata/parquet/duckdb-zero-rows.parquet"}, filepath.Join(dir, "z")
	if _, err := runOnce(t, cfg); exitcode.Code(err) != exitcode.Input || !strings.Contains(err.Error(), "no rows") {
		t.Fatalf("zero-row input: %v", err)
	}
	// All DuckDB and arrow-rs layouts together, in one run.
	files, _ := filepath.Glob("../testdata/parquet/duckdb-*.parquet")
	more, _ := filepath.Glob("../testdata/parquet/arrowrs-*.parquet")
	var inputs []string
	for _, f := range append(files, more...) {
		if !strings.Contains(f, "zero-rows") {
			inputs = append(inputs, f)
		}
	}
	cfg.Inputs, cfg.Out = inputs, filepath.Join(dir, "all")
	res, err = runOnce(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, in := range res.Manifest.Inputs {
		want += in.Rows
	}
	if res.Stats.RowsRead != want || want < 4300 {
		t.Fatalf("read %d rows, footers say %d", res.Stats.RowsRead, want)
	}
}

func TestRunInterruptedLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.parquet")
	writeParquet(t, in, genRows(5000), 100)
	cfg := DefaultConfig()
	cfg.Inputs, cfg.Out = []string{in}, filepath.Join(dir, "out")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // as if Ctrl-C arrived at once
	_, err := Run(ctx, Options{Config: cfg, Progress: progress.Never})
	if exitcode.Code(err) != exitcode.Canceled {
		t.Fatalf("want the interrupted exit code, got %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("interrupted run left %v", ents)
	}
}

// TestRunDeterministicWithTemplates runs synth rows — templated niv/t0/flan questions, near and exact
// duplicates, refusals — through the default recipe with the template-aware near dedupe on (a first read
// counting shingle document frequencies, then the second read) with 1 and 4 workers and small batches, and
// checks that every output byte is the same. It also checks that the DF pass ran and that near duplicates
// were dropped, so the comparison covers the template rule.
func TestRunDeterministicWithTemplates(t *testing.T) {
	n := 6000
	if testing.Short() {
		n = 2000
	}
	var rows []pqRow
	err := synth.Generate(synth.DefaultConfig(n, 15), func(r orca.Record, _ synth.Label) error {
		rows = append(rows, pqRow{ID: sp(r.ID), SystemPrompt: sp(r.SystemPrompt), Question: sp(r.Question), Response: sp(r.Response)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.parquet")
	writeParquet(t, in, rows, 700)
	var first map[string][]byte
	for _, w := range []int{1, 4} {
		cfg := DefaultConfig()
		cfg.Inputs, cfg.Workers, cfg.Format, cfg.BatchSize = []string{in}, w, FormatText, 50
		cfg.Out = filepath.Join(dir, fmt.Sprintf("out-%d", w))
		if cfg.Dedupe.Near.MaxShingleDF == 0 {
			t.Fatal("the default recipe has the template-aware near dedupe off")
		}
		res, err := runOnce(t, cfg)
		if err != nil {
			t.Fatal(err)
		}
		df := false
		for _, s := range res.Stats.Timing.Stages {
			df = df || s.Name == StageShingleDF && s.Rows == int64(n)
		}
		if !df {
			t.Fatalf("workers=%d: no %s stage over %d rows in stats.json timing: %+v", w, StageShingleDF, n, res.Stats.Timing.Stages)
		}
		if res.Stats.Dropped["near_duplicate"] == 0 {
			t.Fatalf("workers=%d: no near duplicates dropped: %v", w, res.Stats.Dropped)
		}
		got := map[string][]byte{}
		for _, rel := range []string{"manifest.json", "data/train-00000.jsonl", "rejected/rejected-00000.jsonl", "stats.json"} {
			b, err := os.ReadFile(filepath.Join(cfg.Out, rel))
			if err != nil {
				t.Fatal(err)
			}
			if rel == "stats.json" { // identical but for the wall-clock timing
				var m map[string]any
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
				delete(m, "timing")
				b, _ = json.Marshal(m)
			}
			got[rel] = b
		}
		if first == nil {
			first = got
			t.Logf("workers=1: dropped %v", res.Stats.Dropped)
			continue
		}
		for k, v := range got {
			if string(v) != string(first[k]) {
				t.Fatalf("workers=%d: %s differs from workers=1", w, k)
			}
		}
	}
}
