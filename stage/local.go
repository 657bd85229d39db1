package stage

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
)

// Local runs each task as a subprocess of this machine (`orcaprep <stage> --work W --task I`), at most Parallel
// at a time, stage after stage. It is the executor for tests and for users without a scheduler, and it runs
// exactly the commands a Slurm script or a Kubernetes pod runs.
type Local struct {
	// Command is the argv prefix that runs orcaprep (default: this executable).
	Command []string
	// Parallel is the number of tasks running at once (default: the number of CPUs).
	Parallel int
	// Args are added to every task's command line (e.g. --workers 1).
	Args []string
	// Env is added to the tasks' environment.
	Env []string
}

// Name implements Executor.
func (l *Local) Name() string { return "local" }

func (l *Local) command() ([]string, error) {
	if len(l.Command) > 0 {
		return l.Command, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, exitcode.Errorf(exitcode.Failure, "find the orcaprep executable: %w", err)
	}
	return []string{exe}, nil
}

func (l *Local) parallel() int {
	if l.Parallel > 0 {
		return l.Parallel
	}
	return runtime.NumCPU()
}

func (l *Local) argv(cmd []string, r *Run, stage string, task int) []string {
	a := append(append([]string(nil), cmd...), stage, "--work", r.Work.Dir, "--task", strconv.Itoa(task))
	return append(a, l.Args...)
}

// DryRun implements Executor: the commands, one per line, stage by stage.
func (l *Local) DryRun(_ context.Context, r *Run, pending []Pending, w io.Writer) error {
	cmd, err := l.command()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "# %s: run each stage's lines (up to %d at a time) after the previous stage finished\n", r.Work.Dir, l.parallel())
	for _, ps := range pending {
		fmt.Fprintf(w, "# %s: %d task(s)\n", ps.Stage, len(ps.Tasks))
		for _, t := range ps.Tasks {
			fmt.Fprintln(w, shellJoin(l.argv(cmd, r, ps.Stage, t)))
		}
	}
	return nil
}

// Execute implements Executor. After a task fails, no new task starts; the running ones finish.
func (l *Local) Execute(ctx context.Context, r *Run, pending []Pending) error {
	cmd, err := l.command()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(r.Work.LogDir(), 0o755); err != nil {
		return exitcode.Errorf(exitcode.Output, "create %s: %w", r.Work.LogDir(), err)
	}
	for _, ps := range pending {
		// A stage's list was computed before the earlier stages ran; recompute it now.
		tasks := r.Work.Missing(r.Plan, ps.Stage)
		failed, err := l.runStage(ctx, r, cmd, ps.Stage, tasks)
		if err != nil {
			return err
		}
		if failed {
			return nil
		}
	}
	return nil
}

func (l *Local) runStage(ctx context.Context, r *Run, cmd []string, stage string, tasks []int) (failed bool, err error) {
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		startErr error
	)
	sem := make(chan struct{}, l.parallel())
	stopped := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return failed || startErr != nil || ctx.Err() != nil
	}
	for _, t := range tasks {
		sem <- struct{}{}
		if stopped() {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ok, err := l.runTask(ctx, r, cmd, stage, t)
			mu.Lock()
			if err != nil && startErr == nil {
				startErr = err
			}
			if !ok {
				failed = true
			}
			mu.Unlock()
			r.Progress()
		}()
	}
	wg.Wait()
	if startErr != nil {
		return failed, startErr
	}
	if err := ctx.Err(); err != nil {
		return failed, err
	}
	return failed, nil
}

// runTask runs one task's process with its output in WORK/logs/<stage>-<task>.log. Cancelling ctx sends it
// SIGTERM (as Slurm's scancel does), so it removes its attempt and records the interruption.
func (l *Local) runTask(ctx context.Context, r *Run, cmd []string, stage string, task int) (bool, error) {
	logPath := filepath.Join(r.Work.LogDir(), fmt.Sprintf("%s-%s.log", stage, taskName(task)))
	log, err := os.Create(logPath)
	if err != nil {
		return false, exitcode.Errorf(exitcode.Output, "create %s: %w", logPath, err)
	}
	defer log.Close()
	argv := l.argv(cmd, r, stage, task)
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Stdout, c.Stderr = log, log
	c.Env = append(os.Environ(), l.Env...)
	c.Cancel = func() error { return c.Process.Signal(syscall.SIGTERM) }
	c.WaitDelay = 30 * time.Second
	if err := c.Start(); err != nil {
		return false, exitcode.Errorf(exitcode.Failure, "start %s task %d (%s): %w", stage, task, argv[0], err)
	}
	err = c.Wait()
	if err == nil {
		return true, nil
	}
	if _, ok := err.(*exec.ExitError); !ok {
		return false, exitcode.Errorf(exitcode.Failure, "%s task %d: %w", stage, task, err)
	}
	r.Printf("%s task %d failed (%v); its log: %s", stage, task, err, logPath)
	return false, nil
}

// shellJoin quotes argv for a POSIX shell.
func shellJoin(argv []string) string {
	out := ""
	for i, a := range argv {
		if i > 0 {
			out += " "
		}
		out += shellQuote(a)
	}
	return out
}

func shellQuote(s string) string {
	safe := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '/' || c == ',' || c == ':' || c == '=' || c == '+' || c == '%' || c == '@') {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	out := "'"
	for _, c := range s {
		if c == '\'' {
			out += `'\''`
		} else {
			out += string(c)
		}
	}
	return out + "'"
}
