package stage

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/internal/slurmtest"
)

// TestSlurmArraysKillOneTaskAndResubmitOnlyIt runs the staged test double on a real one-node Slurm with
// MaxArraySize 4 and 6 tasks (so each array stage is split in two), cancels one map task with scancel while it
// runs, checks that the run fails naming it and that the later stages were cancelled, then re-runs the same
// command and checks that only that index was resubmitted and the output is complete.
func TestSlurmArraysKillOneTaskAndResubmitOnlyIt(t *testing.T) {
	slurmtest.Start(t, slurmtest.Options{MaxArraySize: 4})
	t.Setenv("ORCAPREP_STAGE_TEST_HELPER", "1") // sbatch exports the environment to the jobs
	t.Setenv("GORACE", "atexit_sleep_ms=0")
	f := newFixture(t)
	work, out := filepath.Join(f.dir, "work"), filepath.Join(f.dir, "out")
	os.MkdirAll(work, 0o755)
	os.WriteFile(filepath.Join(work, "block-map-5"), nil, 0o644)
	var log lockedBuilder
	opts := DriveOptions{Work: work, Spec: testSpec(t, 6, out, f.paths...), Body: idsBody{},
		Executor: &Slurm{Command: helperCommand(t)}, Stderr: &log, Poll: 200 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := Drive(ctx, opts)
		errc <- err
	}()
	w := Work{Dir: work}
	deadline := time.Now().Add(90 * time.Second)
	for {
		_, err := os.Stat(filepath.Join(work, "started-map-5"))
		done := 0
		for i := 0; i < 5; i++ {
			if _, err := os.Stat(w.MarkerPath(Map, i)); err == nil {
				done++
			}
		}
		if err == nil && done == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("map 5 not started or map 0-4 not done after 90 s (%d done)", done)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Interrupt the driver: the jobs keep running. A second driver on the same command finds them queued,
	// waits for them, submits nothing, and reports their outcome.
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("interrupted driver: %v", err)
	}
	if !strings.Contains(log.String(), "the jobs keep running") {
		t.Fatalf("no detach message:\n%s", log.String())
	}
	log.Reset()
	go func() {
		_, err := Drive(context.Background(), opts)
		errc <- err
	}()
	for !strings.Contains(logString(&log), "still queued") {
		time.Sleep(50 * time.Millisecond)
	}
	subs := submissions(t, work)
	if len(subs) != 6 || !strings.Contains(subs[1], "stage=map offset=4 array=0-1 ") {
		t.Fatalf("first submission:\n%s", strings.Join(subs, "\n"))
	}
	job := strings.TrimPrefix(strings.Fields(subs[1])[1], "job=")
	if b, err := exec.Command("scancel", job+"_1").CombinedOutput(); err != nil {
		t.Fatalf("scancel %s_1: %v %s", job, err, b)
	}
	var err error
	select {
	case err = <-errc:
	case <-time.After(90 * time.Second):
		t.Fatal("the run did not end after its map task was cancelled")
	}
	if exitcode.Code(err) != exitcode.Canceled || !strings.Contains(err.Error(), "map task 5 failed") || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("run after scancel: %v", err)
	}
	if subs2 := submissions(t, work); len(subs2) != len(subs) {
		t.Fatalf("the second driver submitted jobs while the first submission was queued:\n%s", strings.Join(subs2, "\n"))
	}
	if _, serr := os.Stat(out); !os.IsNotExist(serr) {
		t.Fatal("a failed run created OUT")
	}
	if got := calls(t, work); slices.Contains(got, "reduce 0") {
		t.Fatalf("reduce ran after a failed map task: %v", got)
	}

	os.Remove(filepath.Join(work, "block-map-5"))
	log.Reset()
	if _, err := Drive(context.Background(), opts); err != nil {
		t.Fatalf("re-run: %v\n%s", err, log.String())
	}
	f.checkOut(t, out)
	resub := submissions(t, work)[len(subs):]
	var stages []string
	for _, l := range resub {
		stages = append(stages, strings.Join(strings.Fields(l)[2:5], " "))
	}
	want := []string{"stage=map offset=4 array=1", "stage=reduce offset=0 array=-", "stage=write offset=0 array=0-3", "stage=write offset=4 array=0-1", "stage=finalize offset=0 array=-"}
	if !slices.Equal(stages, want) {
		t.Fatalf("re-run submitted %q, want %q", stages, want)
	}
	wantCalls := append(allCalls(6), "map 5")
	slices.Sort(wantCalls)
	if got := calls(t, work); !slices.Equal(got, wantCalls) {
		t.Fatalf("calls %v\nwant %v", got, wantCalls)
	}
	if !strings.Contains(log.String(), "finalize 1/1") {
		t.Fatalf("progress:\n%s", log.String())
	}
}

func submissions(t *testing.T, work string) []string {
	t.Helper()
	lines, err := readLines(filepath.Join(work, "slurm", "submissions.log"))
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// lockedBuilder is a strings.Builder safe for a driver writing while the test reads.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuilder) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Reset()
}

func logString(l *lockedBuilder) string { return l.String() }
