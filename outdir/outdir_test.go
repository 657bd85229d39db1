package outdir

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/exitcode"
)

// writeOutput writes a minimal orcaprep output (manifest listing one shard) into dir, tagged with tag.
func writeOutput(t *testing.T, dir, tag string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Join(dir, "data"), 0o755))
	man := map[string]any{"tool": "orcaprep", "shards": []any{map[string]any{"path": "data/train-00000.jsonl"}}}
	b, _ := json.Marshal(man)
	must(t, os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "data", "train-00000.jsonl"), []byte(tag), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "stats.json"), []byte("{}"), 0o644))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	must(t, err)
	return string(b)
}

// hidden lists the orcaprep files beside OUT (lock, staging, .old).
func hidden(t *testing.T, parent string) []string {
	t.Helper()
	ents, err := os.ReadDir(parent)
	must(t, err)
	var out []string
	for _, e := range ents {
		if strings.Contains(e.Name(), ".orcaprep-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// run opens OUT, writes a new output tagged tag into staging, and commits.
func run(t *testing.T, out, tag string, o Options) error {
	t.Helper()
	d, err := Open(out, o)
	if err != nil {
		return err
	}
	defer d.Close()
	writeOutput(t, d.Staging, tag)
	return d.Commit(context.Background())
}

func TestOverwriteReplacesOnlyOrcaprepOutput(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	must(t, run(t, out, "one", Options{}))
	if err := run(t, out, "two", Options{}); exitcode.Code(err) != exitcode.Output || !strings.Contains(err.Error(), "pass --overwrite") {
		t.Fatalf("non-empty OUT without --overwrite: %v", err)
	}
	must(t, run(t, out, "two", Options{Overwrite: true}))
	if got := read(t, filepath.Join(out, "data", "train-00000.jsonl")); got != "two" {
		t.Fatalf("OUT holds %q", got)
	}
	if h := hidden(t, parent); len(h) != 0 {
		t.Fatalf("left beside OUT: %v", h)
	}

	// A user's file inside an orcaprep output: refused, named, nothing touched.
	must(t, os.WriteFile(filepath.Join(out, "data", "notes.txt"), []byte("mine"), 0o644))
	err := run(t, out, "three", Options{Overwrite: true})
	if exitcode.Code(err) != exitcode.Output || !strings.Contains(err.Error(), "data/notes.txt is not part of the orcaprep output") {
		t.Fatalf("foreign file in an orcaprep output: %v", err)
	}
	if read(t, filepath.Join(out, "data", "notes.txt")) != "mine" || read(t, filepath.Join(out, "data", "train-00000.jsonl")) != "two" {
		t.Fatal("refused run changed OUT")
	}

	// A directory orcaprep never wrote.
	foreign := filepath.Join(parent, "mydir")
	must(t, os.MkdirAll(filepath.Join(foreign, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(foreign, "sub", "b.txt"), []byte("b"), 0o644))
	must(t, os.WriteFile(filepath.Join(foreign, "mine.txt"), []byte("m"), 0o644))
	err = run(t, foreign, "x", Options{Overwrite: true})
	if exitcode.Code(err) != exitcode.Output || !strings.Contains(err.Error(), "not written by orcaprep") || !strings.Contains(err.Error(), "holds mine.txt") {
		t.Fatalf("foreign directory: %v", err)
	}
	if read(t, filepath.Join(foreign, "mine.txt")) != "m" || read(t, filepath.Join(foreign, "sub", "b.txt")) != "b" {
		t.Fatal("foreign directory touched")
	}
	// A manifest.json that some other tool wrote does not make a directory ours.
	must(t, os.WriteFile(filepath.Join(foreign, "manifest.json"), []byte(`{"tool":"other"}`), 0o644))
	if err := run(t, foreign, "x", Options{Overwrite: true}); err == nil || !strings.Contains(err.Error(), "not written by orcaprep") {
		t.Fatalf("other tool's manifest: %v", err)
	}

	// An empty directory is replaced, with or without --overwrite.
	empty := filepath.Join(parent, "empty")
	must(t, os.Mkdir(empty, 0o755))
	must(t, run(t, empty, "e", Options{}))
	if h := hidden(t, parent); len(h) != 0 {
		t.Fatalf("left beside OUT: %v", h)
	}
}

func TestOutMayNotBeRootCwdOrHoldAnInput(t *testing.T) {
	parent := t.TempDir()
	t.Chdir(parent)
	must(t, os.MkdirAll("in", 0o755))
	must(t, os.WriteFile("in/x.parquet", []byte("x"), 0o644))
	for _, c := range []struct {
		out   string
		reads []string
		want  string
	}{
		{"/", nil, "filesystem root"},
		{".", nil, "current directory"},
		{"..", nil, "current directory"},
		{"in", []string{"in/x.parquet"}, "contains the input in/x.parquet"},
		{".", []string{"in/*.parquet"}, "current directory"},
		{"in", []string{"in/*.parquet"}, "contains the input in/*.parquet"},
	} {
		_, err := Open(c.out, Options{Overwrite: true, Reads: c.reads})
		if exitcode.Code(err) != exitcode.Output || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--out %s: got %v, want %q", c.out, err, c.want)
		}
	}
	if h := hidden(t, parent); len(h) != 0 {
		t.Fatalf("refusals created %v", h)
	}
	// A symlink to the current directory is the current directory.
	link := filepath.Join(t.TempDir(), "link")
	must(t, os.Symlink(parent, link))
	if _, err := Open(link, Options{Overwrite: true}); err == nil || !strings.Contains(err.Error(), "current directory") {
		t.Errorf("--out symlink to the current directory: %v", err)
	}
}

func TestLockIsExclusiveNamesHolderAndIsReleased(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	a, err := Open(out, Options{})
	must(t, err)
	// Another spelling of the same OUT takes the same lock.
	t.Chdir(parent)
	_, err = Open("./out/../out", Options{})
	if exitcode.Code(err) != exitcode.Output || !strings.Contains(err.Error(), "in use by another orcaprep run (pid "+itoa(os.Getpid())) {
		t.Fatalf("second open: %v", err)
	}
	writeOutput(t, a.Staging, "a")
	must(t, a.Commit(context.Background()))
	a.Close()
	if h := hidden(t, parent); len(h) != 0 {
		t.Fatalf("left beside OUT: %v", h)
	}
	b, err := Open(out, Options{Overwrite: true})
	must(t, err)
	b.Close()
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestStaleLockAndDebrisOfKilledRunsAreReclaimed(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	must(t, run(t, out, "good", Options{}))
	// What a kill -9 leaves: the lock file with a record of a dead process (no flock held), a staging
	// directory with a partial output and a token spill, and a previous output half deleted.
	must(t, os.WriteFile(filepath.Join(parent, ".out.orcaprep-lock"), []byte(`{"pid":999999999,"host":"h","started":"2026-01-01T00:00:00Z"}`), 0o644))
	st := filepath.Join(parent, ".out.orcaprep-tmp-999999999-123")
	must(t, os.MkdirAll(filepath.Join(st, ".spill"), 0o755))
	must(t, os.WriteFile(filepath.Join(st, ".spill", "tokens.bin"), bytes.Repeat([]byte{1}, 2_500_000), 0o644))
	must(t, os.MkdirAll(filepath.Join(parent, ".out.orcaprep-tmp-999999998-456", "data"), 0o755))
	// Another output's debris in the same parent is not ours to touch.
	other := filepath.Join(parent, ".outer.orcaprep-tmp-1-1")
	must(t, os.MkdirAll(other, 0o755))

	var notes bytes.Buffer
	must(t, run(t, out, "new", Options{Overwrite: true, Stderr: &notes}))
	for _, want := range []string{"taking over the lock of pid 999999999 on h", "removed 2.5 MB left beside " + out + " by interrupted runs (.out.orcaprep-tmp-999999998-456, .out.orcaprep-tmp-999999999-123)"} {
		if !strings.Contains(notes.String(), want) {
			t.Fatalf("notice %q missing in:\n%s", want, notes.String())
		}
	}
	if h := hidden(t, parent); len(h) != 1 || h[0] != ".outer.orcaprep-tmp-1-1" {
		t.Fatalf("beside OUT: %v", h)
	}
}

// The two-rename fallback (no RENAME_EXCHANGE): it commits, and a kill between its renames is recovered.
func TestFallbackCommitAndRecovery(t *testing.T) {
	forceFallback = true
	defer func() { forceFallback = false }()
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	must(t, run(t, out, "one", Options{}))
	must(t, run(t, out, "two", Options{Overwrite: true}))
	if read(t, filepath.Join(out, "data", "train-00000.jsonl")) != "two" {
		t.Fatal("fallback commit did not replace OUT")
	}
	if h := hidden(t, parent); len(h) != 0 {
		t.Fatalf("left beside OUT: %v", h)
	}
	// Killed between "OUT → .old" and "staging → OUT": OUT is missing, the previous output complete.
	must(t, os.Rename(out, filepath.Join(parent, ".out.orcaprep-old")))
	writeOutput(t, filepath.Join(parent, ".out.orcaprep-tmp-5-5"), "unfinished")
	var notes bytes.Buffer
	d, err := Open(out, Options{Stderr: &notes})
	if exitcode.Code(err) != exitcode.Output || !strings.Contains(err.Error(), "holds an earlier orcaprep output") {
		t.Fatalf("after recovery OUT must hold the previous output again: %v", err)
	}
	if read(t, filepath.Join(out, "data", "train-00000.jsonl")) != "two" || !strings.Contains(notes.String(), "restored "+out+" from .out.orcaprep-old") {
		t.Fatalf("previous output not restored: %s", notes.String())
	}
	d.Close()
	// Killed after "staging → OUT": OUT is new, the .old is removed.
	writeOutput(t, filepath.Join(parent, ".out.orcaprep-old"), "older")
	must(t, run(t, out, "three", Options{Overwrite: true}))
	if h := hidden(t, parent); len(h) != 0 || read(t, filepath.Join(out, "data", "train-00000.jsonl")) != "three" {
		t.Fatalf("left beside OUT: %v", h)
	}
}

func TestCommitHonoursContextAndUserChanges(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	must(t, os.Mkdir(out, 0o755))
	d, err := Open(out, Options{})
	must(t, err)
	writeOutput(t, d.Staging, "x")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Commit(ctx); err != context.Canceled {
		t.Fatalf("cancelled commit: %v", err)
	}
	// The user drops a file into the (empty) OUT while the run works: it is not replaced.
	must(t, os.WriteFile(filepath.Join(out, "mine.txt"), []byte("m"), 0o644))
	if err := d.Commit(context.Background()); exitcode.Code(err) != exitcode.Output || !strings.Contains(err.Error(), "mine.txt") {
		t.Fatalf("commit over a user's file: %v", err)
	}
	d.Close()
	if read(t, filepath.Join(out, "mine.txt")) != "m" {
		t.Fatal("user's file touched")
	}
	if h := hidden(t, parent); len(h) != 0 {
		t.Fatalf("left beside OUT: %v", h)
	}
}

// OUT as a symlink (say, to a bigger disk): the output lands in the target, the link stays.
func TestSymlinkedOutIsReplacedAtItsTarget(t *testing.T) {
	parent := t.TempDir()
	disk := t.TempDir()
	target := filepath.Join(disk, "real-out")
	must(t, run(t, target, "one", Options{}))
	link := filepath.Join(parent, "out")
	must(t, os.Symlink(target, link))
	must(t, run(t, link, "two", Options{Overwrite: true}))
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the symlink was replaced")
	}
	if read(t, filepath.Join(link, "data", "train-00000.jsonl")) != "two" {
		t.Fatal("target not replaced")
	}
	if h := hidden(t, disk); len(h) != 0 {
		t.Fatalf("left beside the target: %v", h)
	}
}
