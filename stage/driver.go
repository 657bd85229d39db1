package stage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
)

// Pending is the tasks of one stage that still have to run.
type Pending struct {
	Stage string
	Tasks []int
}

// Executor runs stage tasks somewhere: local subprocesses, Slurm job arrays.
type Executor interface {
	// Name is what --executor calls it.
	Name() string
	// Execute runs the pending tasks, stage after stage, and returns when none of them is running any more.
	// It returns an error only when the executor itself fails (cannot start a process, sbatch refuses); the
	// tasks' own failures are read from the work directory by Drive.
	Execute(ctx context.Context, r *Run, pending []Pending) error
	// DryRun writes what Execute would do (commands, scripts) to w without running anything.
	DryRun(ctx context.Context, r *Run, pending []Pending, w io.Writer) error
}

// Run is a staged run in progress, as an executor sees it.
type Run struct {
	Work Work
	Plan *Plan
	// Stderr receives progress lines (nil: none).
	Stderr io.Writer
	// Poll is how often progress and the scheduler's queue are checked.
	Poll time.Duration

	mu       sync.Mutex
	lastLine string
	start    time.Time
}

// Pending recomputes which tasks are not done, stage by stage (nothing once finalize is done).
func (r *Run) Pending() []Pending {
	if len(r.Work.Missing(r.Plan, Finalize)) == 0 {
		return nil
	}
	var out []Pending
	for _, s := range Stages {
		if m := r.Work.Missing(r.Plan, s); len(m) > 0 {
			out = append(out, Pending{Stage: s, Tasks: m})
		}
	}
	return out
}

// Progress prints one line with the done markers per stage, when it changed since the last call.
func (r *Run) Progress() {
	if r.Stderr == nil {
		return
	}
	var parts []string
	for _, s := range Stages {
		n, done := r.Plan.TaskCount(s), 0
		if n == 0 {
			continue // an optional stage this plan does not run
		}
		for i := 0; i < n; i++ {
			if _, err := os.Stat(r.Work.MarkerPath(s, i)); err == nil {
				done++
			}
		}
		parts = append(parts, fmt.Sprintf("%s %d/%d", s, done, n))
	}
	line := strings.Join(parts, ", ")
	r.mu.Lock()
	defer r.mu.Unlock()
	if line == r.lastLine {
		return
	}
	r.lastLine = line
	fmt.Fprintf(r.Stderr, "orcaprep: %s (%s)\n", line, time.Since(r.start).Round(time.Second))
}

// Printf writes a message line to Stderr, if any.
func (r *Run) Printf(format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Stderr != nil {
		fmt.Fprintf(r.Stderr, "orcaprep: "+format+"\n", a...)
	}
}

// DriveOptions configure Drive.
type DriveOptions struct {
	// Work is the work directory (created if needed).
	Work string
	// Spec is the recipe and inputs to plan; a saved plan must match it.
	Spec Spec
	// Body's Plan hook runs when a new plan is made.
	Body     Body
	Executor Executor
	// DryRun writes the plan but, instead of running tasks, prints what the executor would run to Stdout.
	DryRun bool
	Stdout io.Writer
	// Stderr receives progress (nil: quiet).
	Stderr io.Writer
	Poll   time.Duration
}

// Drive runs a whole staged run: it makes the plan (or reuses WORK/plan.json when it matches the spec, refusing
// one that does not), hands every task without a valid done marker to the executor, waits, and returns nil when
// finalize is done, or else the error, with its exit code, of the first stage that did not complete. Running it
// again after a failure runs only the missing tasks.
func Drive(ctx context.Context, o DriveOptions) (*Plan, error) {
	if o.Work == "" {
		return nil, exitcode.Errorf(exitcode.Usage, "--work is required with --executor")
	}
	dir, err := filepath.Abs(o.Work)
	if err != nil {
		return nil, exitcode.Errorf(exitcode.Usage, "work %s: %w", o.Work, err)
	}
	w := Work{Dir: dir}
	p, err := PlanWork(ctx, w, o.Spec, o.Body)
	if err != nil {
		return nil, err
	}
	poll := o.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	r := &Run{Work: w, Plan: p, Stderr: o.Stderr, Poll: poll, start: time.Now()}
	pending := r.Pending()
	if o.DryRun {
		if len(pending) == 0 {
			fmt.Fprintf(o.Stdout, "# nothing to run: every task in %s is done\n", w.Dir)
			return p, nil
		}
		return p, o.Executor.DryRun(ctx, r, pending, o.Stdout)
	}
	if len(pending) == 0 {
		r.Printf("every task in %s is already done; output is %s", w.Dir, p.Out)
		return p, nil
	}
	r.Progress()
	if err := o.Executor.Execute(ctx, r, pending); err != nil {
		return p, err
	}
	r.Progress()
	return p, Outcome(w, p)
}

// PlanWork makes the plan of spec and saves it as WORK/plan.json, running body's Plan hook first; when the work
// directory already has a plan, it returns that one if it matches spec (same version, tasks, output, recipe and
// input fingerprints) and refuses it otherwise (exit code 2).
func PlanWork(ctx context.Context, w Work, spec Spec, body Body) (*Plan, error) {
	q, err := MakePlan(ctx, spec)
	if err != nil {
		return nil, err
	}
	saved, err := LoadPlan(w)
	switch {
	case err == nil:
		if why := saved.Same(q); why != "" {
			return nil, exitcode.Errorf(exitcode.Usage, "work directory %s does not fit this run: %s; use another --work (or remove this one)", w.Dir, why)
		}
		return saved, nil
	case errors.Is(err, ErrNoPlan):
		if body != nil {
			if err := body.Plan(ctx, q); err != nil {
				return nil, err
			}
		}
		if err := q.checkStageTasks(); err != nil {
			return nil, exitcode.Errorf(exitcode.Failure, "internal error: plan: %w", err)
		}
		if err := SavePlan(w, q); err != nil {
			return nil, err
		}
		return q, nil
	default:
		return nil, err
	}
}

// Outcome is the result of a staged run from its work directory: nil when finalize is done, else an error for
// the first stage with missing tasks, carrying the exit code of its first recorded failure (1 when the tasks
// left no record: killed by the scheduler, a time or memory limit).
func Outcome(w Work, p *Plan) error {
	if len(w.Missing(p, Finalize)) == 0 {
		return nil
	}
	for _, s := range Stages {
		missing := w.Missing(p, s)
		if len(missing) == 0 {
			continue
		}
		var first *Failure
		failed := 0
		for _, i := range missing {
			if f := w.ReadFailure(s, i); f != nil {
				failed++
				if first == nil {
					first = f
				}
			}
		}
		more := ""
		if len(missing) > 1 {
			more = fmt.Sprintf(" (%s tasks not done: %s)", s, FormatIndices(missing))
		}
		if first != nil {
			code := first.ExitCode
			if code == exitcode.OK {
				code = exitcode.Failure
			}
			return exitcode.Errorf(code, "%s task %d failed on %s: %s%s; fix the cause and re-run the same command: only tasks not done run again",
				s, first.Task, first.Host, first.Error, more)
		}
		return exitcode.Errorf(exitcode.Failure, "%s tasks %s did not finish and left no error record (killed: scancel, a time or memory limit, a lost node?); their logs are in %s; re-run the same command to run them again",
			s, FormatIndices(missing), w.LogDir())
	}
	return nil
}
