package stage

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
)

// DefaultMaxArraySize is Slurm's default MaxArraySize, used when scontrol cannot be asked (dry runs).
const DefaultMaxArraySize = 1001

// Slurm submits each stage as sbatch job arrays chained with --dependency=afterok and --kill-on-invalid-dep=yes,
// so a failed task cancels the later stages instead of leaving them pending forever. A stage with more tasks
// than MaxArraySize is split into several arrays (each script passes --task-offset). It then shows progress from
// the done markers and waits until none of its jobs is queued. Jobs are named orcaprep-<stage>-<tag>, tag being
// a hash of the work directory, so a re-run finds (and waits for) jobs of an earlier submission instead of
// submitting twice.
type Slurm struct {
	// Command is the argv prefix that runs orcaprep on the compute nodes (default: this executable, which must
	// then be at the same path there, e.g. on a shared file system).
	Command []string
	// SbatchArgs become #SBATCH lines of every script; "STAGE:ARG" (e.g. "reduce:--mem=64G") applies to one stage.
	SbatchArgs []string
	// MaxRunning limits the running tasks of each array (--array=…%N); 0 means no limit.
	MaxRunning int
	// Args are added to every task's command line.
	Args []string
	// MaxArraySize overrides the value read from `scontrol show config` (0: ask).
	MaxArraySize int
	// Sbatch, Squeue, Scontrol and Scancel are the commands to use (default: found in PATH).
	Sbatch, Squeue, Scontrol, Scancel string
}

// Name implements Executor.
func (s *Slurm) Name() string { return "slurm" }

func (s *Slurm) tool(name, set string) string {
	if set != "" {
		return set
	}
	return name
}

func (s *Slurm) run(ctx context.Context, name, set string, args ...string) (string, error) {
	c := exec.CommandContext(ctx, s.tool(name, set), args...)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return stdout.String(), fmt.Errorf("%s %s: %s", name, strings.Join(args, " "), msg)
	}
	return stdout.String(), nil
}

func (s *Slurm) command() ([]string, error) {
	if len(s.Command) > 0 {
		return s.Command, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, exitcode.Errorf(exitcode.Failure, "find the orcaprep executable: %w", err)
	}
	return []string{exe}, nil
}

// maxArraySize reads MaxArraySize from `scontrol show config`.
func (s *Slurm) maxArraySize(ctx context.Context) (int, error) {
	if s.MaxArraySize > 0 {
		return s.MaxArraySize, nil
	}
	out, err := s.run(ctx, "scontrol", s.Scontrol, "show", "config")
	if err != nil {
		return 0, exitcode.Errorf(exitcode.Usage, "--executor slurm: %w", err)
	}
	n, ok := parseMaxArraySize(out)
	if !ok {
		return DefaultMaxArraySize, nil
	}
	return n, nil
}

func parseMaxArraySize(config string) (int, bool) {
	sc := bufio.NewScanner(strings.NewReader(config))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && strings.TrimSpace(k) == "MaxArraySize" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			return n, err == nil && n > 0
		}
	}
	return 0, false
}

// JobTag is the suffix of the job names of a work directory: the first 8 hex digits of the sha256 of its path.
func JobTag(w Work) string {
	sum := sha256.Sum256([]byte(w.Dir))
	return hex.EncodeToString(sum[:4])
}

// JobName is the Slurm job name of stage's jobs for work directory w.
func JobName(w Work, stage string) string { return "orcaprep-" + stage + "-" + JobTag(w) }

func (s *Slurm) jobNames(w Work) string {
	var names []string
	for _, st := range Stages {
		names = append(names, JobName(w, st))
	}
	return strings.Join(names, ",")
}

// queued returns the job ids of this work directory still known to squeue (pending, running, completing).
func (s *Slurm) queued(ctx context.Context, w Work) ([]string, error) {
	out, err := s.run(ctx, "squeue", s.Squeue, "--me", "--noheader", "--format=%i", "--name="+s.jobNames(w))
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// arrayChunk is one sbatch submission: tasks [Offset, Offset+MaxArraySize) of a stage that are to run.
type arrayChunk struct {
	Stage   string
	Offset  int
	Indices []int // array indices (task - Offset)
	Array   bool
}

// chunks splits a stage's pending tasks into submissions whose array indices stay below maxArray.
func chunks(p *Plan, ps Pending, maxArray int) []arrayChunk {
	if p.TaskCount(ps.Stage) == 1 {
		return []arrayChunk{{Stage: ps.Stage}}
	}
	var out []arrayChunk
	for _, t := range ps.Tasks {
		off := t / maxArray * maxArray
		if len(out) == 0 || out[len(out)-1].Offset != off {
			out = append(out, arrayChunk{Stage: ps.Stage, Offset: off, Array: true})
		}
		c := &out[len(out)-1]
		c.Indices = append(c.Indices, t-off)
	}
	return out
}

func (c arrayChunk) scriptName() string {
	if !c.Array {
		return c.Stage + ".sbatch"
	}
	return fmt.Sprintf("%s-%s.sbatch", c.Stage, taskName(c.Offset))
}

func (c arrayChunk) variable() string {
	if !c.Array {
		return c.Stage
	}
	return fmt.Sprintf("%s_%d", c.Stage, c.Offset)
}

// script renders the sbatch script of a chunk.
func (s *Slurm) script(r *Run, cmd []string, c arrayChunk) (string, error) {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	n := r.Plan.TaskCount(c.Stage)
	if c.Array {
		fmt.Fprintf(&b, "# orcaprep %s: tasks %s of %d (array index + %d), work directory %s\n", c.Stage,
			FormatIndices(addOffset(c.Indices, c.Offset)), n, c.Offset, r.Work.Dir)
	} else {
		fmt.Fprintf(&b, "# orcaprep %s (single task), work directory %s\n", c.Stage, r.Work.Dir)
	}
	fmt.Fprintf(&b, "#SBATCH --job-name=%s\n", JobName(r.Work, c.Stage))
	if c.Array {
		spec := FormatIndices(c.Indices)
		if s.MaxRunning > 0 {
			spec += "%" + strconv.Itoa(s.MaxRunning)
		}
		fmt.Fprintf(&b, "#SBATCH --array=%s\n", spec)
		fmt.Fprintf(&b, "#SBATCH --output=%s\n", filepath.Join(r.Work.LogDir(), c.Stage+"-%A_%a.log"))
	} else {
		fmt.Fprintf(&b, "#SBATCH --output=%s\n", filepath.Join(r.Work.LogDir(), c.Stage+"-%j.log"))
	}
	for _, a := range s.SbatchArgs {
		if st, rest, ok := strings.Cut(a, ":"); ok && validStage(st) {
			if st != c.Stage {
				continue
			}
			a = rest
		}
		if strings.ContainsAny(a, "\n\r") {
			return "", exitcode.Errorf(exitcode.Usage, "--sbatch-arg %q: contains a newline", a)
		}
		fmt.Fprintf(&b, "#SBATCH %s\n", a)
	}
	argv := append(append([]string(nil), cmd...), c.Stage, "--work", r.Work.Dir)
	if c.Array {
		argv = append(argv, "--task-offset", strconv.Itoa(c.Offset))
	}
	argv = append(argv, s.Args...)
	fmt.Fprintf(&b, "exec %s\n", shellJoin(argv))
	return b.String(), nil
}

func addOffset(idx []int, off int) []int {
	out := make([]int, len(idx))
	for i, v := range idx {
		out[i] = v + off
	}
	return out
}

// plan lists the submissions for pending, each with the variables of the jobs it depends on.
type submission struct {
	chunk  arrayChunk
	script string
	deps   []int // indices into the submission list
}

func (s *Slurm) submissions(r *Run, pending []Pending, maxArray int) ([]submission, error) {
	cmd, err := s.command()
	if err != nil {
		return nil, err
	}
	// #SBATCH lines are split at white space, so the log paths in them cannot hold any.
	if strings.ContainsAny(r.Work.Dir, " \t\n\r") {
		return nil, exitcode.Errorf(exitcode.Usage, "--executor slurm: work directory %q contains white space, which #SBATCH --output cannot hold", r.Work.Dir)
	}
	var out []submission
	var prev []int
	for _, ps := range pending {
		var cur []int
		for _, c := range chunks(r.Plan, ps, maxArray) {
			sc, err := s.script(r, cmd, c)
			if err != nil {
				return nil, err
			}
			cur = append(cur, len(out))
			out = append(out, submission{chunk: c, script: sc, deps: prev})
		}
		prev = cur
	}
	return out, nil
}

// DryRun implements Executor: a shell script that writes the sbatch scripts and submits them chained, exactly
// as Execute would.
func (s *Slurm) DryRun(ctx context.Context, r *Run, pending []Pending, w io.Writer) error {
	maxArray, err := s.maxArraySize(ctx)
	note := ""
	if err != nil {
		maxArray, note = DefaultMaxArraySize, " (scontrol unavailable: Slurm's default)"
	}
	subs, err := s.submissions(r, pending, maxArray)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "#!/bin/sh\n# orcaprep staged run in %s: %d task(s) per array stage, MaxArraySize %d%s\nset -e\n", r.Work.Dir, r.Plan.Tasks, maxArray, note)
	fmt.Fprintf(w, "mkdir -p %s %s\n", shellQuote(r.Work.ScriptDir()), shellQuote(r.Work.LogDir()))
	for _, sub := range subs {
		path := filepath.Join(r.Work.ScriptDir(), sub.chunk.scriptName())
		fmt.Fprintf(w, "\ncat > %s <<'ORCAPREP_SBATCH'\n%sORCAPREP_SBATCH\n", shellQuote(path), sub.script)
		args := []string{"sbatch", "--parsable"}
		if len(sub.deps) > 0 {
			var vars []string
			for _, d := range sub.deps {
				vars = append(vars, "$"+subs[d].chunk.variable())
			}
			args = append(args, "--dependency=afterok:"+strings.Join(vars, ":"), "--kill-on-invalid-dep=yes")
		}
		fmt.Fprintf(w, "%s=$(%s %s)\n", sub.chunk.variable(), strings.Join(args, " "), shellQuote(path))
	}
	return nil
}

// Execute implements Executor.
func (s *Slurm) Execute(ctx context.Context, r *Run, pending []Pending) error {
	if _, err := exec.LookPath(s.tool("sbatch", s.Sbatch)); err != nil {
		return exitcode.Errorf(exitcode.Usage, "--executor slurm: sbatch not found: %w", err)
	}
	for _, d := range []string{r.Work.ScriptDir(), r.Work.LogDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return exitcode.Errorf(exitcode.Output, "create %s: %w", d, err)
		}
	}
	// Jobs of an earlier submission (its driver was interrupted, or is still running elsewhere): wait for them
	// and report their outcome as that driver would have, submitting nothing. A re-run after that resubmits
	// what they did not do; never two submissions of the same work directory at once.
	if ids, err := s.queued(ctx, r.Work); err != nil {
		return exitcode.Errorf(exitcode.Failure, "--executor slurm: %w", err)
	} else if len(ids) > 0 {
		r.Printf("%d job(s) of an earlier submission for %s are still queued (%s); waiting for them instead of submitting", len(ids), r.Work.Dir, strings.Join(ids, ","))
		return s.wait(ctx, r)
	}
	maxArray, err := s.maxArraySize(ctx)
	if err != nil {
		return err
	}
	subs, err := s.submissions(r, pending, maxArray)
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(r.Work.ScriptDir(), "submissions.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return exitcode.Errorf(exitcode.Output, "open submissions.log: %w", err)
	}
	defer logf.Close()
	ids := make([]string, len(subs))
	for i, sub := range subs {
		path := filepath.Join(r.Work.ScriptDir(), sub.chunk.scriptName())
		if err := writeFileSync(path, []byte(sub.script)); err != nil {
			return exitcode.With(exitcode.Output, err)
		}
		args := []string{"--parsable"}
		var deps []string
		for _, d := range sub.deps {
			deps = append(deps, ids[d])
		}
		if len(deps) > 0 {
			args = append(args, "--dependency=afterok:"+strings.Join(deps, ":"), "--kill-on-invalid-dep=yes")
		}
		out, err := s.run(ctx, "sbatch", s.Sbatch, append(args, path)...)
		if err != nil {
			s.cancel(r, ids[:i])
			return exitcode.Errorf(exitcode.Failure, "--executor slurm: %w", err)
		}
		id, _, _ := strings.Cut(strings.TrimSpace(out), ";") // --parsable prints "id" or "id;cluster"
		ids[i] = id
		spec := "-"
		if sub.chunk.Array {
			spec = FormatIndices(sub.chunk.Indices)
		}
		fmt.Fprintf(logf, "%s job=%s stage=%s offset=%d array=%s deps=%s script=%s\n", time.Now().UTC().Format(time.RFC3339),
			id, sub.chunk.Stage, sub.chunk.Offset, spec, strings.Join(deps, ":"), path)
		r.Printf("submitted %s job %s (%s)", sub.chunk.Stage, id, describe(sub.chunk))
	}
	return s.wait(ctx, r)
}

func describe(c arrayChunk) string {
	if !c.Array {
		return "1 task"
	}
	return fmt.Sprintf("array %s, task = index + %d", FormatIndices(c.Indices), c.Offset)
}

// cancel removes jobs submitted before a failed submission, so no half chain runs unattended.
func (s *Slurm) cancel(r *Run, ids []string) {
	if len(ids) == 0 {
		return
	}
	if _, err := s.run(context.Background(), "scancel", s.Scancel, ids...); err != nil {
		r.Printf("could not cancel jobs %s: %v", strings.Join(ids, ","), err)
	}
}

// wait polls the done markers (progress) and squeue until no job of this work directory is queued.
func (s *Slurm) wait(ctx context.Context, r *Run) error {
	t := time.NewTicker(r.Poll)
	defer t.Stop()
	failures := 0
	for {
		r.Progress()
		ids, err := s.queued(ctx, r.Work)
		switch {
		case err != nil && ctx.Err() != nil:
			return s.detach(r, ctx.Err())
		case err != nil:
			// slurmctld restarts and timeouts happen on busy clusters: give up only when it persists.
			if failures++; failures >= 10 {
				r.Printf("squeue keeps failing: %v", err)
				return s.detach(r, exitcode.Errorf(exitcode.Failure, "--executor slurm: %w", err))
			}
		case len(ids) == 0:
			return nil
		default:
			failures = 0
		}
		select {
		case <-ctx.Done():
			return s.detach(r, ctx.Err())
		case <-t.C:
		}
	}
}

func (s *Slurm) detach(r *Run, err error) error {
	r.Printf("stopped waiting; the jobs keep running in Slurm. Re-run the same command to wait for them (it submits nothing new while they are queued), or cancel them: scancel --me --name=%s", s.jobNames(r.Work))
	return err
}
