package stage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/synth"
)

func inputsOf(groups ...[]int64) []InputFile {
	var out []InputFile
	for i, g := range groups {
		var rows int64
		for _, n := range g {
			rows += n
		}
		out = append(out, InputFile{Name: string(rune('a' + i)), Rows: rows, RowGroups: g})
	}
	return out
}

// checkSplit asserts the split's contract: contiguous, complete, in order, on row-group boundaries, and each cut
// at the row-group boundary nearest to its target k·total/n (as far as the cuts stay in order).
func checkSplit(t *testing.T, in []InputFile, n int, tasks []MapTask) {
	t.Helper()
	if len(tasks) != n {
		t.Fatalf("%d tasks, want %d", len(tasks), n)
	}
	p := &Plan{Inputs: in}
	var total int64
	var boundaries []int64 // global row index of each row-group boundary
	boundaries = append(boundaries, 0)
	for _, f := range in {
		for _, g := range f.RowGroups {
			total += g
			boundaries = append(boundaries, total)
		}
	}
	file, row := 0, int64(0)
	var done, prevCut int64
	for k, task := range tasks {
		if task.Task != k {
			t.Fatalf("task %d has index %d", k, task.Task)
		}
		var rows int64
		for _, r := range task.Ranges {
			for file < len(in) && row == in[file].Rows && !(r.File == file && r.RowStart == row) {
				file, row = file+1, 0
			}
			if r.File != file || r.RowStart != row {
				t.Fatalf("task %d range %+v does not continue at file %d row %d", k, r, file, row)
			}
			if _, _, err := p.RowGroups(r); err != nil {
				t.Fatalf("task %d: %v", k, err)
			}
			rows += r.RowEnd - r.RowStart
			row = r.RowEnd
		}
		if rows != task.Rows {
			t.Fatalf("task %d: ranges hold %d rows, Rows says %d", k, rows, task.Rows)
		}
		done += rows
		if k < n-1 {
			// done is cut k: the boundary nearest to k·total/n (the earlier on a tie), or the previous cut when
			// that boundary lies before it.
			target := total * int64(k+1) / int64(n)
			best := boundaries[0]
			for _, b := range boundaries {
				if abs(b-target) < abs(best-target) {
					best = b
				}
			}
			if done != max(best, prevCut) {
				t.Fatalf("cut %d at row %d; nearest boundary to %d is %d (previous cut %d)", k, done, target, best, prevCut)
			}
			prevCut = done
		}
	}
	if done != total {
		t.Fatalf("tasks cover %d rows of %d", done, total)
	}
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestSplitBalancedContiguous(t *testing.T) {
	cases := []struct {
		name string
		in   []InputFile
		n    int
		want []int64 // rows per task
	}{
		{"even", inputsOf([]int64{100, 100, 100, 100}), 4, []int64{100, 100, 100, 100}},
		{"one task", inputsOf([]int64{5, 7}, []int64{3}), 1, []int64{15}},
		{"more tasks than groups", inputsOf([]int64{10, 10}), 5, []int64{0, 10, 0, 10, 0}},
		{"single huge group", inputsOf([]int64{2000}), 3, []int64{0, 2000, 0}},
		{"across files", inputsOf([]int64{50, 50}, []int64{50}, []int64{25, 25}), 2, []int64{100, 100}},
		{"empty file and group", inputsOf([]int64{}, []int64{0, 30, 30}), 2, []int64{30, 30}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tasks := Split(c.in, c.n)
			checkSplit(t, c.in, c.n, tasks)
			var got []int64
			for _, task := range tasks {
				got = append(got, task.Rows)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("rows per task %v, want %v", got, c.want)
			}
		})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 300; trial++ {
		var groups [][]int64
		for f := rng.IntN(4) + 1; f > 0; f-- {
			var g []int64
			for k := rng.IntN(8); k > 0; k-- {
				g = append(g, int64(rng.IntN(1000)))
			}
			groups = append(groups, g)
		}
		in := inputsOf(groups...)
		n := rng.IntN(12) + 1
		a, b := Split(in, n), Split(in, n)
		checkSplit(t, in, n, a)
		if ja, jb := mustJSON(t, a), mustJSON(t, b); !bytes.Equal(ja, jb) {
			t.Fatal("split is not deterministic")
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRowGroupsRefusesUnalignedRange(t *testing.T) {
	p := &Plan{Inputs: inputsOf([]int64{10, 20, 30})}
	if f, l, err := p.RowGroups(Range{File: 0, RowStart: 10, RowEnd: 60}); err != nil || f != 1 || l != 3 {
		t.Fatalf("groups %d..%d, %v; want 1..3", f, l, err)
	}
	if _, _, err := p.RowGroups(Range{File: 0, RowStart: 5, RowEnd: 30}); err == nil {
		t.Fatal("a range starting inside a row group was accepted")
	}
	if _, _, err := p.RowGroups(Range{File: 0, RowStart: 0, RowEnd: 25}); err == nil {
		t.Fatal("a range ending inside a row group was accepted")
	}
}

// writeSynth writes a synth Parquet file of rows rows in groups of rg and returns its path and ids in order.
func writeSynth(t *testing.T, dir string, rows, rg int, seed uint64) (string, []string) {
	t.Helper()
	path := filepath.Join(dir, filepathName(seed))
	if err := synth.WriteParquetWith(context.Background(), synth.DefaultConfig(rows, seed), synth.WriteOptions{RowGroupSize: int64(rg)}, path, ""); err != nil {
		t.Fatal(err)
	}
	f, err := orca.Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ids []string
	for g := 0; g < f.NumRowGroups(); g++ {
		f.ReadRowGroup(g, 100, true, func(recs []orca.Record) error {
			for _, r := range recs {
				ids = append(ids, r.ID)
			}
			return nil
		})
	}
	return path, ids
}

func filepathName(seed uint64) string { return "in-" + string(rune('a'+seed)) + ".parquet" }

func testSpec(t *testing.T, tasks int, out string, paths ...string) Spec {
	t.Helper()
	var src []Source
	for _, p := range paths {
		src = append(src, Source{Source: p, Path: p, Name: filepath.Base(p)})
	}
	return Spec{Version: testVersion, Tasks: tasks, Out: out, Recipe: json.RawMessage(`{"r":1}`), RecipeSHA256: "r1", Inputs: src}
}

func TestPlanFromFootersAndInputChecks(t *testing.T) {
	dir := t.TempDir()
	a, _ := writeSynth(t, dir, 1000, 300, 1)
	b, _ := writeSynth(t, dir, 500, 500, 2)
	p, err := MakePlan(context.Background(), testSpec(t, 3, filepath.Join(dir, "out"), a, b))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Inputs[0].RowGroups; !slices.Equal(got, []int64{300, 300, 300, 100}) {
		t.Fatalf("row groups %v", got)
	}
	if p.Inputs[1].Rows != 500 || p.Inputs[0].FooterSHA256 == "" || p.Inputs[0].FooterSHA256 == p.Inputs[1].FooterSHA256 {
		t.Fatalf("inputs %+v", p.Inputs)
	}
	checkSplit(t, p.Inputs, 3, p.Map)
	w := Work{Dir: filepath.Join(dir, "work")}
	if err := SavePlan(w, p); err != nil {
		t.Fatal(err)
	}
	q, err := LoadPlan(w)
	if err != nil {
		t.Fatal(err)
	}
	if q.SHA256() != p.SHA256() || q.Same(p) != "" {
		t.Fatalf("reloaded plan differs: %q", q.Same(p))
	}
	other, _ := MakePlan(context.Background(), testSpec(t, 4, filepath.Join(dir, "out"), a, b))
	if why := q.Same(other); !strings.Contains(why, "4") {
		t.Fatalf("a plan for 4 tasks reused one for 3: %q", why)
	}
	if err := q.CheckInput(0); err != nil {
		t.Fatal(err)
	}
	// Rewrite input a with other content of the same row count: the fingerprint must notice.
	writeSynth(t, dir, 1000, 250, 1)
	err = q.CheckInput(0)
	if exitcode.Code(err) != exitcode.Input || !strings.Contains(err.Error(), "changed since the plan") {
		t.Fatalf("changed input: %v", err)
	}
	if _, err := LoadPlan(Work{Dir: filepath.Join(dir, "nowhere")}); !errors.Is(err, ErrNoPlan) {
		t.Fatalf("missing plan: %v", err)
	}
}

func TestTaskIndexSources(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	cases := []struct {
		flag, off, count int
		env              func(string) string
		want             int
		err              string
	}{
		{2, 0, 4, env("SLURM_ARRAY_TASK_ID", "1"), 2, ""},
		{-1, 0, 4, env("SLURM_ARRAY_TASK_ID", "3"), 3, ""},
		{-1, 1000, 1500, env("SLURM_ARRAY_TASK_ID", "7", "SLURM_ARRAY_TASK_COUNT", "9"), 1007, ""},
		{-1, 0, 4, env("JOB_COMPLETION_INDEX", "1"), 1, ""},
		{-1, 0, 1, env("SLURM_ARRAY_TASK_ID", "5"), 0, ""},
		{-1, 0, 4, env(), 0, "pass --task"},
		{-1, 0, 4, env("SLURM_ARRAY_TASK_ID", "4"), 0, "out of range"},
		{-1, 0, 4, env("SLURM_ARRAY_TASK_ID", "x"), 0, "not a task index"},
		{9, 0, 4, env(), 0, "out of range"},
	}
	for _, c := range cases {
		got, err := TaskIndex(c.flag, c.off, c.count, c.env)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || exitcode.Code(err) != exitcode.Usage {
				t.Errorf("%+v: error %v, want %q", c, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%+v: %d, %v; want %d", c, got, err, c.want)
		}
	}
}

func TestFormatIndices(t *testing.T) {
	if got := FormatIndices([]int{0, 1, 2, 3, 7, 9, 10}); got != "0-3,7,9-10" {
		t.Fatal(got)
	}
	if got := FormatIndices([]int{4}); got != "4" {
		t.Fatal(got)
	}
}

func TestParseMaxArraySize(t *testing.T) {
	cfg := "MailProg                = /bin/mail\nMaxArraySize            = 5\nMaxJobCount             = 10000\n"
	if n, ok := parseMaxArraySize(cfg); !ok || n != 5 {
		t.Fatalf("%d %v", n, ok)
	}
	if _, ok := parseMaxArraySize("Other = 1\n"); ok {
		t.Fatal("found MaxArraySize in a config without it")
	}
}
