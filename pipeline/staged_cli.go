package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/report"
	"github.com/orcaprep/orcaprep/stage"
	"github.com/orcaprep/orcaprep/stats"
)

// StagedOptions are the `run` flags that spread the run over stage tasks (stage package).
type StagedOptions struct {
	// Executor is local or slurm; empty runs in this process.
	Executor string
	// Tasks is the size of the map and write arrays.
	Tasks int
	// Work is the shared work directory.
	Work string
	// SbatchArgs become #SBATCH lines ("STAGE:ARG" for one stage).
	SbatchArgs []string
	// DryRun plans, then prints the commands or sbatch scripts instead of running them.
	DryRun bool
	// Parallel is how many local tasks run at once (0: the number of CPUs).
	Parallel int
	// MaxRunning caps the running tasks of each Slurm array (0: no cap).
	MaxRunning int
	// Poll is how often progress and the Slurm queue are checked (0: 2 s).
	Poll time.Duration
}

func (s StagedOptions) requested() bool {
	return s.Executor != "" || s.Work != "" || s.Tasks != 0 || len(s.SbatchArgs) > 0 || s.DryRun
}

// Executors lists the values of --executor.
var Executors = []string{"local", "slurm"}

func (s StagedOptions) check(needExecutor bool) error {
	bad := func(format string, a ...any) error { return exitcode.Errorf(exitcode.Usage, format, a...) }
	if needExecutor && s.Executor != "local" && s.Executor != "slurm" {
		if s.Executor == "" {
			return bad("--tasks, --work, --sbatch-arg and --dry-run need --executor local or slurm")
		}
		return bad("--executor %q: want local or slurm", s.Executor)
	}
	if s.Tasks < 1 {
		return bad("--tasks N (≥ 1) is required with --executor and by plan")
	}
	if s.Work == "" {
		return bad("--work DIR (a directory every task can reach) is required with --executor and by plan")
	}
	if len(s.SbatchArgs) > 0 && s.Executor != "slurm" {
		return bad("--sbatch-arg needs --executor slurm")
	}
	return nil
}

// stagedSetup validates the config, expands the inputs and returns the plan spec and the stage body.
func stagedSetup(ctx context.Context, cfg Config, o CLIOverrides, env CLIEnv) (stage.Spec, *stagedBody, error) {
	if err := cfg.Validate(); err != nil {
		return stage.Spec{}, nil, err
	}
	inputs, err := expandInputs(ctx, cfg.Inputs, env.Resolve)
	if err != nil {
		return stage.Spec{}, nil, err
	}
	spec := stagedSpec(&cfg, inputs, o.Staged.Tasks, o.Overwrite, env.Version)
	return spec, &stagedBody{resolve: env.Resolve, version: env.Version}, nil
}

// planBodyHook wraps the body so the plan records the config's batch_size, which the canonical recipe leaves
// out (it cannot change the output); recipe() reads it back.
type planBodyHook struct {
	*stagedBody
	batchSize int
}

func (h planBodyHook) Plan(ctx context.Context, p *stage.Plan) error {
	if err := h.stagedBody.Plan(ctx, p); err != nil {
		return err
	}
	b, err := json.Marshal(planBody{BatchSize: h.batchSize})
	p.Body = b
	return err
}

// runStaged is `run --executor …`: plan (or resume) in the work directory, run the missing tasks on the executor,
// wait, and print the run's summary like `run` does.
func runStaged(ctx context.Context, cfg Config, o CLIOverrides, env CLIEnv) error {
	if err := o.Staged.check(true); err != nil {
		return err
	}
	spec, body, err := stagedSetup(ctx, cfg, o, env)
	if err != nil {
		return err
	}
	var ex stage.Executor
	if o.Staged.Executor == "slurm" {
		ex = &stage.Slurm{SbatchArgs: o.Staged.SbatchArgs, MaxRunning: o.Staged.MaxRunning}
	} else {
		ex = &stage.Local{Parallel: o.Staged.Parallel}
	}
	var stderr io.Writer = env.Stderr
	if o.Quiet {
		stderr = nil
	}
	p, err := stage.Drive(ctx, stage.DriveOptions{Work: o.Staged.Work, Spec: spec, Body: planBodyHook{body, cfg.BatchSize},
		Executor: ex, DryRun: o.Staged.DryRun, Stdout: env.Stdout, Stderr: stderr, Poll: o.Staged.Poll})
	if err != nil || o.Staged.DryRun || o.Quiet || env.Stdout == nil {
		return err
	}
	doc, err := stats.ReadDocument(filepath.Join(p.Out, "stats.json"))
	if err != nil {
		return exitcode.With(exitcode.Integrity, err)
	}
	if err := report.WriteText(env.Stdout, doc); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "\nwrote %s (report.html, stats.json, manifest.json, axolotl.yaml) with %d %s tasks in %s\n", p.Out, p.Tasks, o.Staged.Executor, o.Staged.Work)
	return nil
}

// PlanCLI is `orcaprep plan`: the plan of `run --executor … --tasks N --work DIR` without running anything, for
// schedulers driven by hand (a Kubernetes Indexed Job, a handwritten sbatch chain).
func PlanCLI(ctx context.Context, configPath string, o CLIOverrides, env CLIEnv) error {
	cfg, err := configFromCLI(configPath, o)
	if err != nil {
		return err
	}
	if err := o.Staged.check(false); err != nil {
		return err
	}
	spec, body, err := stagedSetup(ctx, cfg, o, env)
	if err != nil {
		return err
	}
	w := stage.Work{Dir: o.Staged.Work}
	if abs, err := filepath.Abs(w.Dir); err == nil {
		w.Dir = abs
	}
	p, err := stage.PlanWork(ctx, w, spec, planBodyHook{body, cfg.BatchSize})
	if err != nil {
		return err
	}
	if o.Quiet || env.Stdout == nil {
		return nil
	}
	fmt.Fprintf(env.Stdout, "plan %s: %d input file(s), %d map/write tasks, output %s\n", w.PlanPath(), len(p.Inputs), p.Tasks, p.Out)
	for _, m := range p.Map {
		fmt.Fprintf(env.Stdout, "  map %5d: %10d rows", m.Task, m.Rows)
		for _, r := range m.Ranges {
			fmt.Fprintf(env.Stdout, "  %s[%d:%d]", p.Inputs[r.File].Name, r.RowStart, r.RowEnd)
		}
		fmt.Fprintln(env.Stdout)
	}
	return nil
}

// StageCLI are the flags of the stage commands (map, reduce, write, finalize).
type StageCLI struct {
	Stage string
	Work  string
	// Task is --task, or -1 to read SLURM_ARRAY_TASK_ID / JOB_COMPLETION_INDEX.
	Task       int
	TaskOffset int
	Workers    int
}

// RunStageCLI runs one task of a stage in the work directory (see stage.RunTask).
func RunStageCLI(ctx context.Context, o StageCLI, env CLIEnv) error {
	body := &stagedBody{resolve: env.Resolve, version: env.Version, workers: o.Workers}
	defer tuneRuntime(o.Workers, gcPercent)() // reduce, which holds the dedupe index, lowers it (Reduce)
	return stage.RunTask(ctx, stage.TaskOptions{Work: o.Work, Stage: o.Stage, Task: o.Task, TaskOffset: o.TaskOffset,
		Version: env.Version, Body: body, Stdout: env.Stdout, Stderr: env.Stderr})
}
