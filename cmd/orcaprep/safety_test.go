package main

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/orcaprep/orcaprep/pipeline"
)

// These tests run the real binary as a user would and deliver signals inside a given phase with the hidden
// pause hook (pipeline.PauseEnv), instead of guessing with timers.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func orcaprepBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the orcaprep binary; skipped with -short")
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "orcaprep-safety-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "orcaprep")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	if binErr != nil {
		t.Fatalf("building orcaprep: %v", binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	// Executor subprocesses of the staged-run tests run this test binary as orcaprep (see stagedEnv).
	if os.Getenv("ORCAPREP_TEST_MAIN") == "1" {
		os.Exit(execute(os.Args[1:]))
	}
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type child struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{}
	code           int
}

// startRun starts `orcaprep run` with the sample as input, in packed format with the tiny tokenizer so that
// every phase exists, and env added to the environment.
func startRun(t *testing.T, out string, env []string, extra ...string) *child {
	t.Helper()
	args := append([]string{"run", "--input", "../../testdata/sample/openorca-sample.parquet", "--format", "packed",
		"--tokenizer", "../../testdata/tokenizer/tiny.model", "--sequence-len", "2048", "--workers", "2", "--out", out}, extra...)
	c := &child{cmd: exec.Command(orcaprepBinary(t), args...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.Stdout, c.cmd.Stderr = c.stdout, c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := c.cmd.Wait()
		c.code = c.cmd.ProcessState.ExitCode()
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ProcessState.Sys().(syscall.WaitStatus).Signaled() {
			c.code = -int(ee.ProcessState.Sys().(syscall.WaitStatus).Signal())
		}
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// waitStderr waits until the child's stderr contains s.
func (c *child) waitStderr(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(c.stderr.String(), s) {
		select {
		case <-c.done:
			t.Fatalf("exited %d before %q; stderr:\n%s", c.code, s, c.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within a minute; stderr:\n%s", s, c.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (c *child) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-c.done:
		return c.code
	case <-time.After(within):
		t.Fatalf("still running after %s; stderr:\n%s", within, c.stderr.String())
	}
	return 0
}

func pauseMarker(phase string) string { return "paused in phase " + phase + " " }

// tree maps every file under dir to its content (nil map when dir does not exist).
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		m[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// reproducible drops the files that legitimately differ between two identical runs (timing).
func reproducible(m map[string]string) map[string]string {
	m = maps.Clone(m)
	delete(m, "stats.json")
	delete(m, "report.html")
	return m
}

func debris(t *testing.T, parent string) []string {
	t.Helper()
	ents, _ := os.ReadDir(parent)
	var out []string
	for _, e := range ents {
		if strings.Contains(e.Name(), ".orcaprep-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// cleanOutput makes OUT hold a finished run's output and returns its files.
func cleanOutput(t *testing.T, out string) map[string]string {
	t.Helper()
	c := startRun(t, out, nil, "-q", "--overwrite")
	if code := c.wait(t, 2*time.Minute); code != 0 {
		t.Fatalf("clean run exited %d: %s", code, c.stderr.String())
	}
	return tree(t, out)
}

// SIGINT or SIGTERM in any phase: exit 130, OUT exactly as before, nothing left beside it, and the message
// on a line of its own.
func TestInterruptInEveryPhaseLeavesOutUnchanged(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	before := cleanOutput(t, out)
	for i, phase := range pipeline.Phases {
		// Later phases are hook points too: reaching one would mean the run went on after the interrupt.
		later := append(slices.Clone(pipeline.Phases[i+1:]), pipeline.PhaseSwapped)
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			t.Run(phase+"/"+sig.String(), func(t *testing.T) {
				c := startRun(t, out, []string{pipeline.PauseEnv + "=" + strings.Join(append([]string{phase}, later...), ",")}, "--overwrite")
				c.waitStderr(t, pauseMarker(phase))
				c.cmd.Process.Signal(sig)
				if code := c.wait(t, 30*time.Second); code != 130 {
					t.Fatalf("exit %d, want 130; stderr:\n%s", code, c.stderr.String())
				}
				for _, p := range later {
					if strings.Contains(c.stderr.String(), pauseMarker(p)) {
						t.Fatalf("the run went on into phase %s after the interrupt:\n%s", p, c.stderr.String())
					}
				}
				if !strings.Contains(c.stderr.String(), "\norcaprep: interrupted; partial output was removed") {
					t.Fatalf("interrupt message missing or glued to a line:\n%s", c.stderr.String())
				}
				if c.stdout.String() != "" {
					t.Fatalf("an interrupted run printed its report:\n%s", c.stdout.String())
				}
				if got := tree(t, out); !maps.Equal(got, before) {
					t.Fatal("OUT changed")
				}
				if d := debris(t, parent); len(d) > 0 {
					t.Fatalf("left beside OUT: %v", d)
				}
			})
		}
	}
}

// A run stuck where an interrupt cannot reach it: the first signal is not enough, the second exits at once;
// the next run removes what it left and reports the space freed.
func TestSecondSignalExitsAtOnceAndNextRunReclaims(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	before := cleanOutput(t, out)
	c := startRun(t, out, []string{pipeline.PauseEnv + "=" + pipeline.PhaseFinish + ":stuck"}, "--overwrite", "-q")
	c.waitStderr(t, pauseMarker(pipeline.PhaseFinish))
	c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
		t.Fatalf("a stuck run exited on the first signal (%d)", c.code)
	case <-time.After(300 * time.Millisecond):
	}
	c.cmd.Process.Signal(syscall.SIGINT)
	if code := c.wait(t, 30*time.Second); code != 130 {
		t.Fatalf("second signal: exit %d, want 130", code)
	}
	if !strings.Contains(c.stderr.String(), "interrupted again; exiting now") {
		t.Fatalf("stderr:\n%s", c.stderr.String())
	}
	if got := tree(t, out); !maps.Equal(got, before) {
		t.Fatal("OUT changed")
	}
	if d := debris(t, parent); len(d) != 2 { // the staging directory and the lock file
		t.Fatalf("expected the staging directory and the lock file beside OUT, found %v", d)
	}
	next := startRun(t, out, nil, "--overwrite", "-q")
	if code := next.wait(t, 2*time.Minute); code != 0 {
		t.Fatalf("next run exited %d: %s", code, next.stderr.String())
	}
	if !strings.Contains(next.stderr.String(), "MB left beside "+out+" by interrupted runs (.out.orcaprep-tmp-"+strconv.Itoa(c.cmd.Process.Pid)+"-") {
		t.Fatalf("no reclaim notice:\n%s", next.stderr.String())
	}
	if d := debris(t, parent); len(d) > 0 {
		t.Fatalf("left beside OUT: %v", d)
	}
	if got := reproducible(tree(t, out)); !maps.Equal(got, reproducible(before)) {
		t.Fatal("output after the reclaiming run differs from a clean run")
	}
}

// Two runs on one OUT: the second fails at once naming the first, which finishes normally.
func TestConcurrentRunsOnOneOut(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	resume := filepath.Join(parent, "resume")
	a := startRun(t, out, []string{pipeline.PauseEnv + "=" + pipeline.PhaseStream, pipeline.ResumeEnv + "=" + resume}, "-q")
	a.waitStderr(t, pauseMarker(pipeline.PhaseStream))
	b := startRun(t, out, nil, "-q", "--overwrite")
	if code := b.wait(t, time.Minute); code != 4 {
		t.Fatalf("second run exited %d, want 4: %s", code, b.stderr.String())
	}
	want := fmt.Sprintf("orcaprep: output %s is in use by another orcaprep run (pid %d on ", out, a.cmd.Process.Pid)
	if !strings.HasPrefix(b.stderr.String(), want) {
		t.Fatalf("second run's message:\n%s\nwant prefix:\n%s", b.stderr.String(), want)
	}
	os.WriteFile(resume, nil, 0o644)
	if code := a.wait(t, 2*time.Minute); code != 0 {
		t.Fatalf("first run exited %d: %s", code, a.stderr.String())
	}
	var stdout, stderr bytes.Buffer
	if code := executeWith([]string{"validate", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("validate: %d %s", code, stderr.String())
	}
	os.Remove(resume)
	if d := debris(t, parent); len(d) > 0 {
		t.Fatalf("left beside OUT: %v", d)
	}
}

// kill -9 anywhere, then a run: the output is byte-identical to a clean run and nothing is left behind.
// (scripts/drill.sh does the same at random moments, many times per format.)
func TestKillDashNineThenRunIsCleanAndIdentical(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	want := reproducible(cleanOutput(t, out))
	for _, phase := range []string{pipeline.PhaseStream, pipeline.PhasePack, pipeline.PhaseFinish, pipeline.PhaseCommit, pipeline.PhaseSwapped} {
		t.Run(phase, func(t *testing.T) {
			c := startRun(t, out, []string{pipeline.PauseEnv + "=" + phase}, "--overwrite", "-q")
			c.waitStderr(t, pauseMarker(phase))
			c.cmd.Process.Kill()
			c.wait(t, 10*time.Second)
			if got := reproducible(tree(t, out)); !maps.Equal(got, want) {
				t.Fatal("OUT is not a complete output right after the kill")
			}
			next := startRun(t, out, nil, "--overwrite", "-q")
			if code := next.wait(t, 2*time.Minute); code != 0 {
				t.Fatalf("run after kill exited %d: %s", code, next.stderr.String())
			}
			if got := reproducible(tree(t, out)); !maps.Equal(got, want) {
				t.Fatal("output differs from a clean run")
			}
			if d := debris(t, parent); len(d) > 0 {
				t.Fatalf("left beside OUT: %v", d)
			}
		})
	}
}
