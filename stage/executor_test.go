package stage

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
)

type fixture struct {
	dir   string
	paths []string
	ids   []string // every input id, in input order
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir()}
	for i, shape := range [][2]int{{1000, 300}, {500, 500}, {700, 100}} {
		p, ids := writeSynth(t, f.dir, shape[0], shape[1], uint64(i+1))
		f.paths = append(f.paths, p)
		f.ids = append(f.ids, ids...)
	}
	return f
}

func (f *fixture) checkOut(t *testing.T, out string) {
	t.Helper()
	got, err := readLines(filepath.Join(out, "ids.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, f.ids) {
		t.Fatalf("OUT/ids.txt has %d ids, not the %d input ids in order", len(got), len(f.ids))
	}
}

func calls(t *testing.T, work string) []string {
	t.Helper()
	lines, err := readLines(filepath.Join(work, "calls.log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	slices.Sort(lines)
	return lines
}

// allCalls lists the calls of a whole run of tasks map/write tasks (and templates tasks, when the optional
// stages run).
func allCalls(tasks int, templates ...int) []string {
	var out []string
	for _, s := range Stages {
		n := 1
		switch {
		case s == Map || s == Write:
			n = tasks
		case s == DF && len(templates) > 0:
			n = tasks
		case s == Templates && len(templates) > 0:
			n = templates[0]
		case s == DF || s == Templates:
			n = 0
		}
		for i := 0; i < n; i++ {
			out = append(out, s+" "+string(rune('0'+i)))
		}
	}
	slices.Sort(out)
	return out
}

func runInProcess(t *testing.T, work, stage string, task int) error {
	t.Helper()
	return RunTask(context.Background(), TaskOptions{Work: work, Stage: stage, Task: task, Version: testVersion, Body: idsBody{}})
}

func TestRunTaskCommitsSkipsAndQuarantinesCorruptOutput(t *testing.T) {
	f := newFixture(t)
	w := Work{Dir: filepath.Join(f.dir, "work")}
	p, err := MakePlan(context.Background(), testSpec(t, 3, filepath.Join(f.dir, "out"), f.paths...))
	if err != nil {
		t.Fatal(err)
	}
	if err := SavePlan(w, p); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := runInProcess(t, w.Dir, Map, i); err != nil {
			t.Fatal(err)
		}
	}
	// Reduce refuses to start before every map task is done.
	err = runInProcess(t, w.Dir, Reduce, -1)
	if exitcode.Code(err) != exitcode.Usage || !strings.Contains(err.Error(), "not done: 2") {
		t.Fatalf("reduce before map 2: %v", err)
	}
	if fl := w.ReadFailure(Reduce, 0); fl == nil || fl.ExitCode != exitcode.Usage {
		t.Fatalf("failure record %+v", fl)
	}
	if err := runInProcess(t, w.Dir, Map, 2); err != nil {
		t.Fatal(err)
	}
	// A committed task is skipped.
	if err := runInProcess(t, w.Dir, Map, 1); err != nil {
		t.Fatal(err)
	}
	if got := calls(t, w.Dir); !slices.Equal(got, []string{"map 0", "map 1", "map 2"}) {
		t.Fatalf("calls %v", got)
	}
	m, err := w.CheckTask(p, Map, 1, Full)
	if err != nil {
		t.Fatal(err)
	}
	var sum struct{ Rows int64 }
	json.Unmarshal(m.Summary, &sum)
	if len(m.Files) != 1 || m.Files[0].Path != "ids.txt" || sum.Rows != p.Map[1].Rows || sum.Rows == 0 || m.PlanSHA256 != p.SHA256() {
		t.Fatalf("marker %+v", m)
	}
	// Silent corruption of map 1's output (same size): reduce detects it, moves the task aside and fails with 6.
	path := filepath.Join(w.TaskDir(Map, 1), "ids.txt")
	b, _ := os.ReadFile(path)
	b[10] ^= 1
	os.WriteFile(path, b, 0o644)
	if _, err := w.CheckTask(p, Map, 1, Quick); err != nil {
		t.Fatalf("a quick check reads sizes only: %v", err)
	}
	err = runInProcess(t, w.Dir, Reduce, -1)
	if exitcode.Code(err) != exitcode.Integrity || !strings.Contains(err.Error(), "sha256") || !strings.Contains(err.Error(), "re-run") {
		t.Fatalf("reduce on corrupt map output: %v", err)
	}
	if _, err := os.Stat(w.TaskDir(Map, 1)); !os.IsNotExist(err) {
		t.Fatal("the corrupt task was not moved aside")
	}
	if err := Outcome(w, p); exitcode.Code(err) == exitcode.OK || !strings.Contains(err.Error(), "map tasks 1 did not finish") {
		t.Fatalf("outcome: %v", err)
	}
	if err := runInProcess(t, w.Dir, Map, 1); err != nil {
		t.Fatal(err)
	}
	if err := runInProcess(t, w.Dir, Reduce, -1); err != nil {
		t.Fatal(err)
	}
	if w.ReadFailure(Reduce, 0) != nil {
		t.Fatal("a successful task kept its failure record")
	}
	// Markers of another plan are not done.
	q, _ := MakePlan(context.Background(), testSpec(t, 3, filepath.Join(f.dir, "out"), f.paths[:2]...))
	SavePlan(w, q)
	if _, err := w.CheckTask(q, Map, 0, Quick); err == nil || !strings.Contains(err.Error(), "another plan") {
		t.Fatalf("marker of the old plan: %v", err)
	}
	if err := RunTask(context.Background(), TaskOptions{Work: w.Dir, Stage: Map, Task: 0, Version: "other", Body: idsBody{}}); exitcode.Code(err) != exitcode.Usage {
		t.Fatalf("another version: %v", err)
	}
}

func helperCommand(t *testing.T) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return []string{exe}
}

func TestLocalExecutorRunsStagesAndResumesOnlyFailedTasks(t *testing.T) {
	f := newFixture(t)
	local := &Local{Command: helperCommand(t), Parallel: 2, Env: []string{"ORCAPREP_STAGE_TEST_HELPER=1", "GORACE=atexit_sleep_ms=0"}}
	for _, n := range []int{1, 4, 7} {
		work, out := filepath.Join(f.dir, "work", string(rune('0'+n))), filepath.Join(f.dir, "out", string(rune('0'+n)))
		t0 := time.Now()
		if _, err := Drive(context.Background(), DriveOptions{Work: work, Spec: testSpec(t, n, out, f.paths...), Body: idsBody{}, Executor: local, Poll: 50 * time.Millisecond}); err != nil {
			t.Fatalf("N=%d: %v", n, err)
		}
		t.Logf("N=%d %v", n, time.Since(t0))
		f.checkOut(t, out)
		if got := calls(t, work); !slices.Equal(got, allCalls(n)) {
			t.Fatalf("N=%d: calls %v", n, got)
		}
	}

	// A failing map task: the run stops after the map stage with the task's exit code and message.
	work, out := filepath.Join(f.dir, "work", "f"), filepath.Join(f.dir, "out", "f")
	os.MkdirAll(work, 0o755)
	os.WriteFile(filepath.Join(work, "fail-map-2"), []byte("3"), 0o644)
	var log strings.Builder
	opts := DriveOptions{Work: work, Spec: testSpec(t, 4, out, f.paths...), Body: idsBody{}, Executor: local, Stderr: &log, Poll: 50 * time.Millisecond}
	_, err := Drive(context.Background(), opts)
	if exitcode.Code(err) != exitcode.Input || !strings.Contains(err.Error(), "map task 2 failed") || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("failed run: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("a failed run created OUT")
	}
	// Map 3 may or may not have started before map 2 failed (no new task starts after a failure; two run at
	// once): either way nothing after the map stage ran.
	if got := calls(t, work); !slices.Equal(got, []string{"map 0", "map 1", "map 2", "map 3"}) && !slices.Equal(got, []string{"map 0", "map 1", "map 2"}) {
		t.Fatalf("calls after the failure: %v", got)
	}
	if !strings.Contains(log.String(), "/4") {
		t.Fatalf("no progress line: %s", log.String())
	}
	// Re-running the same command runs map 2 and the later stages only.
	os.Remove(filepath.Join(work, "fail-map-2"))
	if _, err := Drive(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	f.checkOut(t, out)
	want := append(allCalls(4), "map 2")
	slices.Sort(want)
	if got := calls(t, work); !slices.Equal(got, want) {
		t.Fatalf("calls after the re-run: %v\nwant %v", got, want)
	}
	// Once finalize is done, the command does nothing.
	if _, err := Drive(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if got := calls(t, work); len(got) != len(want) {
		t.Fatalf("a complete run ran tasks again: %v", got)
	}
	// Another recipe or task count is refused in this work directory.
	other := opts
	other.Spec.RecipeSHA256 = "r2"
	if _, err := Drive(context.Background(), other); exitcode.Code(err) != exitcode.Usage || !strings.Contains(err.Error(), "another recipe") {
		t.Fatalf("other recipe: %v", err)
	}
	other = opts
	other.Spec.Tasks = 5
	if _, err := Drive(context.Background(), other); exitcode.Code(err) != exitcode.Usage || !strings.Contains(err.Error(), "4 tasks, not 5") {
		t.Fatalf("other task count: %v", err)
	}
}

// TestSlurmDryRunScriptSubmitsTheChain runs the printed dry-run script with a stand-in sbatch that records its
// arguments: arrays split under MaxArraySize with --task-offset, chained with afterok on every array of the
// previous stage, --kill-on-invalid-dep=yes, and --sbatch-arg lines (per stage with STAGE:ARG).
func TestSlurmDryRunScriptSubmitsTheChain(t *testing.T) {
	f := newFixture(t)
	bin := t.TempDir()
	sbatch := `#!/bin/sh
n=$(cat "$0.count" 2>/dev/null || echo 100); n=$((n+1)); echo $n > "$0.count"
echo "$n $*" >> "$0.log"; echo "$n"
`
	os.WriteFile(filepath.Join(bin, "sbatch"), []byte(sbatch), 0o755)
	s := &Slurm{Command: []string{"/opt/orcaprep"}, MaxArraySize: 3, MaxRunning: 2, SbatchArgs: []string{"--time=10", "reduce:--mem=1G"}, Scontrol: "/nonexistent"}
	var out strings.Builder
	work := filepath.Join(f.dir, "work")
	_, err := Drive(context.Background(), DriveOptions{Work: work, Spec: testSpec(t, 7, filepath.Join(f.dir, "out"), f.paths...), Body: idsBody{}, Executor: s, DryRun: true, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	script := out.String()
	for _, want := range []string{
		"#SBATCH --array=0-2%2", "#SBATCH --array=0%2", "--task-offset 3", "--task-offset 6",
		"exec /opt/orcaprep map --work " + work + " --task-offset 0",
		"exec /opt/orcaprep reduce --work " + work + "\n",
		"#SBATCH --job-name=" + JobName(Work{Dir: work}, Map),
		"reduce=$(sbatch --parsable --dependency=afterok:$map_0:$map_3:$map_6 --kill-on-invalid-dep=yes",
		"write_0=$(sbatch --parsable --dependency=afterok:$reduce --kill-on-invalid-dep=yes",
		"finalize=$(sbatch --parsable --dependency=afterok:$write_0:$write_3:$write_6 --kill-on-invalid-dep=yes",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("dry run lacks %q", want)
		}
	}
	if strings.Count(script, "#SBATCH --mem=1G") != 1 || strings.Count(script, "#SBATCH --time=10") != 8 {
		t.Errorf("--sbatch-arg lines: %d mem, %d time", strings.Count(script, "#SBATCH --mem=1G"), strings.Count(script, "#SBATCH --time=10"))
	}
	if _, err := os.Stat(filepath.Join(work, "slurm")); !os.IsNotExist(err) {
		t.Error("a dry run wrote scripts")
	}
	c := exec.Command("sh", "-c", script)
	c.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	if b, err := c.CombinedOutput(); err != nil {
		t.Fatalf("dry-run script: %v\n%s", err, b)
	}
	log, _ := os.ReadFile(filepath.Join(bin, "sbatch.log"))
	lines := strings.Split(strings.TrimSpace(string(log)), "\n")
	if len(lines) != 8 {
		t.Fatalf("%d submissions:\n%s", len(lines), log)
	}
	if !strings.HasPrefix(lines[3], "104 --parsable --dependency=afterok:101:102:103 --kill-on-invalid-dep=yes "+filepath.Join(work, "slurm", "reduce.sbatch")) {
		t.Errorf("reduce submission: %s", lines[3])
	}
	sb, err := os.ReadFile(filepath.Join(work, "slurm", "map-00006.sbatch"))
	if err != nil || !strings.Contains(string(sb), "#SBATCH --array=0%2\n") {
		t.Errorf("map-00006.sbatch: %v\n%s", err, sb)
	}
}

// TestOptionalStagesRunFirstAndVerifyOneFile runs a plan that gives the optional stages tasks (df ×3,
// templates ×2) with the local executor: they run before map, in order, and map sees their result. Then, task by
// task: a templates task reads only its slice of each df task (InputFile), so a corrupt slice fails the one
// templates task that reads it (exit 6, df task moved aside) and not the other; a plan without optional stages
// skips them, and their commands exit 0 with nothing to do.
func TestOptionalStagesRunFirstAndVerifyOneFile(t *testing.T) {
	f := newFixture(t)
	local := &Local{Command: helperCommand(t), Parallel: 2, Env: []string{"ORCAPREP_STAGE_TEST_HELPER=1", "GORACE=atexit_sleep_ms=0"}}
	spec := testSpec(t, 3, filepath.Join(f.dir, "out"), f.paths...)
	spec.Recipe = json.RawMessage(`{"templates":2}`)
	work := filepath.Join(f.dir, "work")
	var log strings.Builder
	if _, err := Drive(context.Background(), DriveOptions{Work: work, Spec: spec, Body: idsBody{}, Executor: local, Stderr: &log, Poll: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	f.checkOut(t, filepath.Join(f.dir, "out"))
	if got := calls(t, work); !slices.Equal(got, allCalls(3, 2)) {
		t.Fatalf("calls %v\nwant %v", got, allCalls(3, 2))
	}
	if !strings.Contains(log.String(), "df 3/3, templates 2/2, map 3/3") {
		t.Fatalf("progress:\n%s", log.String())
	}

	w := Work{Dir: filepath.Join(f.dir, "work2")}
	spec.Out = filepath.Join(f.dir, "out2")
	p, err := PlanWork(context.Background(), w, spec, idsBody{})
	if err != nil {
		t.Fatal(err)
	}
	if p.TaskCount(DF) != 3 || p.TaskCount(Templates) != 2 {
		t.Fatalf("stage tasks %v", p.StageTasks)
	}
	if err := runInProcess(t, w.Dir, Templates, 0); exitcode.Code(err) != exitcode.Usage {
		t.Fatalf("templates before df: %v", err)
	}
	for i := 0; i < 3; i++ {
		if err := runInProcess(t, w.Dir, DF, i); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(w.TaskDir(DF, 1), "part-1.txt")
	b, _ := os.ReadFile(path)
	b[0] ^= 1
	os.WriteFile(path, b, 0o644)
	if err := runInProcess(t, w.Dir, Templates, 0); err != nil {
		t.Fatalf("templates 0 reads df 1's part-0 only: %v", err)
	}
	err = runInProcess(t, w.Dir, Templates, 1)
	if exitcode.Code(err) != exitcode.Integrity || !strings.Contains(err.Error(), "part-1.txt does not match") {
		t.Fatalf("templates 1 on a corrupt slice: %v", err)
	}
	if _, err := os.Stat(w.TaskDir(DF, 1)); !os.IsNotExist(err) {
		t.Fatal("the corrupt df task was not moved aside")
	}
	if err := runInProcess(t, w.Dir, DF, 1); err != nil {
		t.Fatal(err)
	}
	if err := runInProcess(t, w.Dir, Templates, 1); err != nil {
		t.Fatal(err)
	}

	// Without optional stages: no tasks, and their commands succeed doing nothing.
	w3 := Work{Dir: filepath.Join(f.dir, "work3")}
	if _, err := PlanWork(context.Background(), w3, testSpec(t, 3, filepath.Join(f.dir, "out3"), f.paths...), idsBody{}); err != nil {
		t.Fatal(err)
	}
	if err := runInProcess(t, w3.Dir, DF, 0); err != nil {
		t.Fatalf("df of a plan without it: %v", err)
	}
	if err := runInProcess(t, w3.Dir, Map, 0); err != nil {
		t.Fatal(err)
	}
	if got := calls(t, w3.Dir); !slices.Equal(got, []string{"map 0"}) {
		t.Fatalf("calls %v", got)
	}
}
