package stage

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
)

// Body is what the stages compute; this package only schedules, checks and commits. Each method runs in the
// task's own process (a Slurm array task, a Kubernetes pod, a local subprocess) and must be deterministic: a
// task may run twice (re-runs, scheduler requeues) and both results must be interchangeable.
//
// A method writes its outputs under t.Dir only (an empty attempt directory); when it returns nil, every file
// there is checksummed into the done marker and the directory is committed atomically. When it returns an
// error, the directory is removed and the error (with its exit code) is recorded for the driver. Outputs of
// earlier stages are read through t.Input, which verifies their checksums first.
type Body interface {
	// Plan runs once, in the driver, when the plan is made; it may check the recipe and record what every task
	// needs to agree on in p.Body (e.g. a resolved tokenizer path), and give the optional stages tasks
	// (p.StageTasks). It must not write outputs.
	Plan(ctx context.Context, p *Plan) error
	// DF runs, when the plan gives it tasks, for each of them on the rows of t.MapTask().Ranges (the same
	// ranges as map), before every other stage.
	DF(ctx context.Context, t *Task) error
	// Templates runs, when the plan gives it tasks, after every DF task committed.
	Templates(ctx context.Context, t *Task) error
	// Map runs for each of the plan's Tasks on the rows of t.MapTask().Ranges.
	Map(ctx context.Context, t *Task) error
	// Reduce runs once, after every map task committed.
	Reduce(ctx context.Context, t *Task) error
	// Write runs for each of the plan's Tasks, after reduce committed.
	Write(ctx context.Context, t *Task) error
	// Finalize runs once, after every write task committed; it commits the output directory (Plan.Out), which
	// must be atomic: OUT is replaced whole or left as it was.
	Finalize(ctx context.Context, t *Task) error
}

// Task is one running task, as a Body sees it.
type Task struct {
	Plan  *Plan
	Work  Work
	Stage string
	// Index is this task's number in [0, Count).
	Index, Count int
	// Dir is the empty attempt directory the task writes into.
	Dir string
	// Stdout and Stderr are the task's streams (its log, under an executor).
	Stdout, Stderr io.Writer

	summary  json.RawMessage
	verified map[string]*Marker
}

// MapTask is the slice of the input this map (or df) task reads.
func (t *Task) MapTask() MapTask { return t.Plan.Map[t.Index] }

// SetSummary records v (JSON) in the task's done marker, for later stages and for people.
func (t *Task) SetSummary(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("task summary: %w", err)
	}
	t.summary = b
	return nil
}

// Input returns the committed directory of task i of an earlier stage and its marker, after verifying every
// output's sha256 against the marker (once per process). A task that fails verification is moved aside, so
// re-running the same command recomputes it, and the error (exit code 6) says so.
func (t *Task) Input(stage string, i int) (string, *Marker, error) {
	key := stage + "/" + strconv.Itoa(i)
	if m, ok := t.verified[key]; ok {
		return t.Work.TaskDir(stage, i), m, nil
	}
	if _, err := os.Stat(t.Work.MarkerPath(stage, i)); err != nil {
		return "", nil, exitcode.Errorf(exitcode.Usage, "%s task %d needs %s task %d, which is not done: %w", t.Stage, t.Index, stage, i, err)
	}
	m, err := t.Work.CheckTask(t.Plan, stage, i, Full)
	if err != nil {
		if bad, qerr := t.Work.quarantine(stage, i); qerr == nil {
			err = fmt.Errorf("%w; moved it aside to %s: re-run the same command to recompute it", err, bad)
		}
		return "", nil, exitcode.With(exitcode.Integrity, err)
	}
	if t.verified == nil {
		t.verified = map[string]*Marker{}
	}
	t.verified[key] = m
	return t.Work.TaskDir(stage, i), m, nil
}

// InputFile returns the path of one output file of task i of an earlier stage after checking the task's marker
// (Quick) and that file's sha256 — for a body that reads one file of each of many tasks (a templates task
// reads one slice of every df task's sketch), where Input would hash every file of every task. A file that
// fails verification sends its task aside as Input does.
func (t *Task) InputFile(stage string, i int, name string) (string, error) {
	m, err := t.Work.CheckTask(t.Plan, stage, i, Quick)
	if err != nil {
		return "", exitcode.Errorf(exitcode.Usage, "%s task %d needs %s task %d, which is not done: %w", t.Stage, t.Index, stage, i, err)
	}
	rel := filepath.FromSlash(name)
	path := filepath.Join(t.Work.TaskDir(stage, i), rel)
	for _, f := range m.Files {
		if f.Path != rel {
			continue
		}
		sum, n, herr := hashFile(path, false)
		if herr == nil && sum == f.SHA256 && n == f.Bytes {
			return path, nil
		}
		err := fmt.Errorf("%s task %d: %s does not match its done marker (sha256 or size)", stage, i, name)
		if herr != nil {
			err = fmt.Errorf("%s task %d: %w", stage, i, herr)
		}
		if bad, qerr := t.Work.quarantine(stage, i); qerr == nil {
			err = fmt.Errorf("%w; moved it aside to %s: re-run the same command to recompute it", err, bad)
		}
		return "", exitcode.With(exitcode.Integrity, err)
	}
	return "", exitcode.Errorf(exitcode.Integrity, "%s task %d has no output %s", stage, i, name)
}

// InputQuick returns the committed directory of task i of an earlier stage and its marker after a Quick check
// only (marker, plan, file sizes), for a body that verifies what it reads by itself, piece by piece (a write task
// checks each payload it reads from a map task against the checksum its record carries). When a piece turns
// out corrupt, Reject sends the task aside.
func (t *Task) InputQuick(stage string, i int) (string, *Marker, error) {
	m, err := t.Work.CheckTask(t.Plan, stage, i, Quick)
	if err != nil {
		return "", nil, exitcode.Errorf(exitcode.Usage, "%s task %d needs %s task %d, which is not done: %w", t.Stage, t.Index, stage, i, err)
	}
	return t.Work.TaskDir(stage, i), m, nil
}

// Reject moves task i of an earlier stage aside because the body found its output corrupt (err says where), so
// that re-running the same command recomputes it; it returns the error to fail with (exit code 6).
func (t *Task) Reject(stage string, i int, err error) error {
	if bad, qerr := t.Work.quarantine(stage, i); qerr == nil {
		err = fmt.Errorf("%w; moved %s task %d aside to %s: re-run the same command to recompute it", err, stage, i, bad)
	}
	return exitcode.With(exitcode.Integrity, err)
}

// TaskOptions are what RunTask needs: where, which stage and task, and the body.
type TaskOptions struct {
	Work  string
	Stage string
	// Task is the task index from a flag, or -1 to take it from the environment (see TaskIndex).
	Task int
	// TaskOffset is added to an index from the environment (split Slurm arrays; see TaskIndex).
	TaskOffset int
	// Version is this binary's version; it must equal the plan's.
	Version        string
	Body           Body
	Stdout, Stderr io.Writer
	// Getenv reads the environment (os.Getenv when nil).
	Getenv func(string) string
}

// TaskIndex returns the task index: the flag when it is ≥ 0; else SLURM_ARRAY_TASK_ID or, on Kubernetes,
// JOB_COMPLETION_INDEX, plus offset; else 0 for a single-task stage.
//
// The task count always comes from the plan, never from SLURM_ARRAY_TASK_COUNT: a resubmission runs only the
// missing indices (--array=2,5) and an array split under MaxArraySize holds only part of the tasks, so the
// array's own count is not the stage's. For the same reason a split array does not rely on
// SLURM_ARRAY_TASK_MIN: Slurm caps the index itself below MaxArraySize, so the second array of a stage runs
// indices 0… again and its script passes --task-offset.
func TaskIndex(flag, offset, count int, getenv func(string) string) (int, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	i, src := flag, "--task"
	if flag < 0 {
		if count == 1 && offset == 0 {
			return 0, nil
		}
		for _, name := range []string{"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"} {
			if v := getenv(name); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return 0, exitcode.Errorf(exitcode.Usage, "%s=%q is not a task index", name, v)
				}
				i, src = n+offset, fmt.Sprintf("%s=%d + --task-offset %d", name, n, offset)
				break
			}
		}
		if i < 0 {
			return 0, exitcode.Errorf(exitcode.Usage, "this stage has %d tasks: pass --task I, or run it as a Slurm array (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX)", count)
		}
	}
	if i >= count {
		return 0, exitcode.Errorf(exitcode.Usage, "task %d (from %s) out of range: the plan has %d", i, src, count)
	}
	return i, nil
}

func previousStage(stage string) string {
	for i, s := range Stages {
		if s == stage && i > 0 {
			return Stages[i-1]
		}
	}
	return ""
}

func validStage(stage string) bool {
	for _, s := range Stages {
		if s == stage {
			return true
		}
	}
	return false
}

// RunTask runs one task of a stage: it loads the plan, skips the task when it is already committed, checks that
// the previous stage is complete and (map) that its inputs are unchanged, runs the body in a fresh attempt
// directory and commits it with its done marker. On failure it records WORK/<stage>/<task>.failed.json.
func RunTask(ctx context.Context, o TaskOptions) error {
	if !validStage(o.Stage) {
		return exitcode.Errorf(exitcode.Usage, "unknown stage %q (want one of %s)", o.Stage, strings.Join(Stages, ", "))
	}
	if o.Work == "" {
		return exitcode.Errorf(exitcode.Usage, "--work is required")
	}
	stderr := o.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	w := Work{Dir: o.Work}
	p, err := LoadPlan(w)
	if err != nil {
		return err
	}
	if p.Version != o.Version {
		return exitcode.Errorf(exitcode.Usage, "work directory %s was planned by orcaprep %s; this is %s (run every stage with the same binary)", w.Dir, p.Version, o.Version)
	}
	count := p.TaskCount(o.Stage)
	if count == 0 {
		// An optional stage this plan does not run: a scheduler that starts it anyway (a Kubernetes Job
		// applied for every stage) gets a success, not an error.
		fmt.Fprintf(stderr, "orcaprep %s: this plan has no %s tasks (the recipe does not need the stage); nothing to do\n", o.Stage, o.Stage)
		return nil
	}
	idx, err := TaskIndex(o.Task, o.TaskOffset, count, o.Getenv)
	if err != nil {
		return err
	}
	if _, err := w.CheckTask(p, o.Stage, idx, Quick); err == nil {
		fmt.Fprintf(stderr, "orcaprep %s: task %d of %d is already done\n", o.Stage, idx, count)
		os.Remove(w.FailurePath(o.Stage, idx))
		return nil
	}
	err = runTask(ctx, w, p, o, idx, count, stderr)
	if err != nil {
		code, msg := exitcode.Code(err), err.Error()
		if ctx.Err() != nil {
			code, msg = exitcode.Canceled, "interrupted by a signal (scancel, a time limit, preemption or Ctrl-C)"
		}
		if ferr := w.writeFailure(Failure{Stage: o.Stage, Task: idx, ExitCode: code, Error: msg, Host: hostname(), Time: time.Now().UTC()}); ferr != nil {
			fmt.Fprintf(stderr, "orcaprep %s: could not record the failure: %v\n", o.Stage, ferr)
		}
		return err
	}
	os.Remove(w.FailurePath(o.Stage, idx))
	return nil
}

func runTask(ctx context.Context, w Work, p *Plan, o TaskOptions, idx, count int, stderr io.Writer) error {
	if prev := previousStage(o.Stage); prev != "" {
		if missing := w.Missing(p, prev); len(missing) > 0 {
			return exitcode.Errorf(exitcode.Usage, "%s task %d needs every %s task done; not done: %s", o.Stage, idx, prev, FormatIndices(missing))
		}
	}
	if o.Stage == Map || o.Stage == DF {
		seen := map[int]bool{}
		for _, r := range p.Map[idx].Ranges {
			if !seen[r.File] {
				seen[r.File] = true
				if err := p.CheckInput(r.File); err != nil {
					return err
				}
			}
		}
	}
	if err := os.MkdirAll(w.StageDir(o.Stage), 0o755); err != nil {
		return exitcode.Errorf(exitcode.Output, "create %s: %w", w.StageDir(o.Stage), err)
	}
	attempt, err := os.MkdirTemp(w.StageDir(o.Stage), "."+taskName(idx)+".attempt-")
	if err != nil {
		return exitcode.Errorf(exitcode.Output, "create attempt directory: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			os.RemoveAll(attempt)
		}
	}()
	t := &Task{Plan: p, Work: w, Stage: o.Stage, Index: idx, Count: count, Dir: attempt, Stdout: o.Stdout, Stderr: stderr}
	if t.Stdout == nil {
		t.Stdout = io.Discard
	}
	start := time.Now()
	switch o.Stage {
	case DF:
		err = o.Body.DF(ctx, t)
	case Templates:
		err = o.Body.Templates(ctx, t)
	case Map:
		err = o.Body.Map(ctx, t)
	case Reduce:
		err = o.Body.Reduce(ctx, t)
	case Write:
		err = o.Body.Write(ctx, t)
	case Finalize:
		err = o.Body.Finalize(ctx, t)
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return err
	}
	m := &Marker{Format: MarkerFormat, Stage: o.Stage, Task: idx, Tasks: count, PlanSHA256: p.SHA256(),
		Summary: t.summary, Host: hostname(), Seconds: float64(time.Since(start).Milliseconds()) / 1000}
	if err := w.commit(p, m, attempt); err != nil {
		return exitcode.Errorf(exitcode.Output, "%s task %d: %w", o.Stage, idx, err)
	}
	committed = true
	fmt.Fprintf(stderr, "orcaprep %s: task %d of %d done in %.1fs\n", o.Stage, idx, count, m.Seconds)
	return nil
}

// FormatIndices writes sorted task indices compactly, as Slurm's --array does: 0-3,7,9-10.
func FormatIndices(idx []int) string {
	var b strings.Builder
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if j > i {
			fmt.Fprintf(&b, "%d-%d", idx[i], idx[j])
		} else {
			fmt.Fprintf(&b, "%d", idx[i])
		}
		i = j + 1
	}
	return b.String()
}
