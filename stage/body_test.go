package stage

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/orca"
)

// The test binary doubles as a stage command: executors run it with ORCAPREP_STAGE_TEST_HELPER=1 and the same
// arguments orcaprep's stage commands take (stage --work W [--task I] [--task-offset K]).
func TestMain(m *testing.M) {
	if os.Getenv("ORCAPREP_STAGE_TEST_HELPER") == "1" {
		os.Exit(helperMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

const testVersion = "test-1"

func helperMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "helper: no stage")
		return 2
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	work := fs.String("work", "", "")
	task := fs.Int("task", -1, "")
	off := fs.Int("task-offset", 0, "")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	err := RunTask(ctx, TaskOptions{Work: *work, Stage: args[0], Task: *task, TaskOffset: *off, Version: testVersion,
		Body: idsBody{}, Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		fmt.Fprintf(os.Stderr, "helper %s: %v\n", args[0], err)
		if ctx.Err() != nil {
			return exitcode.Canceled
		}
		return exitcode.Code(err)
	}
	return 0
}

// idsBody is the test double of the pipeline's stages, with the same data flow: map reads its row-group range
// of the real Parquet inputs and writes the ids; reduce concatenates every map task's ids in task order; write
// task i takes every Count-th line of that; finalize interleaves the write parts back and commits OUT/ids.txt
// atomically. OUT/ids.txt must therefore equal the inputs' ids in input order whatever the task count.
//
// Faults are injected through files in the work directory: fail-<stage>-<task> (its content is the exit code)
// makes a task fail; block-<stage>-<task> makes it write started-<stage>-<task> and wait until the block file is
// removed or the task is cancelled. Every call appends "<stage> <task>" to calls.log.
type idsBody struct{}

// Plan gives the optional stages tasks when the recipe asks ({"templates": K}): df then counts each map range's
// rows into K slices (part-<j>.txt, the row count), templates task j adds slice j of every df task (read with
// InputFile) and map checks that every templates task's total is the plan's row count.
func (idsBody) Plan(_ context.Context, p *Plan) error {
	p.Body = []byte(`{"double":"ids"}`)
	var r struct{ Templates int }
	if err := json.Unmarshal(p.Recipe, &r); err == nil && r.Templates > 0 {
		p.StageTasks = map[string]int{DF: p.Tasks, Templates: r.Templates}
	}
	return nil
}

func (b idsBody) DF(ctx context.Context, t *Task) error {
	if err := b.fault(ctx, t); err != nil {
		return err
	}
	for j := 0; j < t.Plan.TaskCount(Templates); j++ {
		if err := os.WriteFile(filepath.Join(t.Dir, fmt.Sprintf("part-%d.txt", j)), []byte(strconv.FormatInt(t.MapTask().Rows, 10)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (b idsBody) Templates(ctx context.Context, t *Task) error {
	if err := b.fault(ctx, t); err != nil {
		return err
	}
	var total int64
	for i := 0; i < t.Plan.TaskCount(DF); i++ {
		path, err := t.InputFile(DF, i, fmt.Sprintf("part-%d.txt", t.Index))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n, _ := strconv.ParseInt(string(b), 10, 64)
		total += n
	}
	return os.WriteFile(filepath.Join(t.Dir, "total.txt"), []byte(strconv.FormatInt(total, 10)), 0o644)
}

// rowsPlanned is the plan's input row count.
func rowsPlanned(p *Plan) int64 {
	var n int64
	for _, in := range p.Inputs {
		n += in.Rows
	}
	return n
}

func (idsBody) fault(ctx context.Context, t *Task) error {
	name := fmt.Sprintf("%s-%d", t.Stage, t.Index)
	appendLine(filepath.Join(t.Work.Dir, "calls.log"), t.Stage+" "+strconv.Itoa(t.Index))
	if b, err := os.ReadFile(filepath.Join(t.Work.Dir, "fail-"+name)); err == nil {
		code, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return exitcode.Errorf(code, "injected failure of %s", name)
	}
	block := filepath.Join(t.Work.Dir, "block-"+name)
	if _, err := os.Stat(block); err == nil {
		appendLine(filepath.Join(t.Work.Dir, "started-"+name), strconv.Itoa(os.Getpid()))
		for {
			if _, err := os.Stat(block); err != nil {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

func appendLine(path, line string) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	fmt.Fprintln(f, line)
	f.Close()
}

func (b idsBody) Map(ctx context.Context, t *Task) error {
	if err := b.fault(ctx, t); err != nil {
		return err
	}
	for j := 0; j < t.Plan.TaskCount(Templates); j++ {
		dir, _, err := t.Input(Templates, j)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(dir, "total.txt"))
		if err != nil {
			return err
		}
		if string(b) != strconv.FormatInt(rowsPlanned(t.Plan), 10) {
			return fmt.Errorf("templates task %d counted %s rows, the plan has %d", j, b, rowsPlanned(t.Plan))
		}
	}
	out, err := os.Create(filepath.Join(t.Dir, "ids.txt"))
	if err != nil {
		return err
	}
	defer out.Close()
	w := bufio.NewWriter(out)
	var rows int64
	for _, r := range t.MapTask().Ranges {
		first, last, err := t.Plan.RowGroups(r)
		if err != nil {
			return err
		}
		f, err := orca.Open(t.Plan.Inputs[r.File].Path, r.File)
		if err != nil {
			return exitcode.With(exitcode.Input, err)
		}
		for g := first; g < last; g++ {
			err = f.ReadRowGroup(g, 256, true, func(recs []orca.Record) error {
				for _, rec := range recs {
					fmt.Fprintf(w, "%s\n", rec.ID)
				}
				rows += int64(len(recs))
				return nil
			})
			if err != nil {
				f.Close()
				return exitcode.With(exitcode.Input, err)
			}
		}
		f.Close()
	}
	if rows != t.MapTask().Rows {
		return fmt.Errorf("read %d rows, planned %d", rows, t.MapTask().Rows)
	}
	if err := t.SetSummary(map[string]int64{"rows": rows}); err != nil {
		return err
	}
	return w.Flush()
}

func (b idsBody) Reduce(ctx context.Context, t *Task) error {
	if err := b.fault(ctx, t); err != nil {
		return err
	}
	var all []byte
	for i := 0; i < t.Plan.Tasks; i++ {
		dir, _, err := t.Input(Map, i)
		if err != nil {
			return err
		}
		part, err := os.ReadFile(filepath.Join(dir, "ids.txt"))
		if err != nil {
			return err
		}
		all = append(all, part...)
	}
	return os.WriteFile(filepath.Join(t.Dir, "all.txt"), all, 0o644)
}

func (b idsBody) Write(ctx context.Context, t *Task) error {
	if err := b.fault(ctx, t); err != nil {
		return err
	}
	dir, _, err := t.Input(Reduce, 0)
	if err != nil {
		return err
	}
	lines, err := readLines(filepath.Join(dir, "all.txt"))
	if err != nil {
		return err
	}
	var part []string
	for i := t.Index; i < len(lines); i += t.Count {
		part = append(part, lines[i]+"\n")
	}
	return os.WriteFile(filepath.Join(t.Dir, "part.txt"), []byte(strings.Join(part, "")), 0o644)
}

func (b idsBody) Finalize(ctx context.Context, t *Task) error {
	if err := b.fault(ctx, t); err != nil {
		return err
	}
	parts := make([][]string, t.Plan.Tasks)
	n := 0
	for i := range parts {
		dir, _, err := t.Input(Write, i)
		if err != nil {
			return err
		}
		if parts[i], err = readLines(filepath.Join(dir, "part.txt")); err != nil {
			return err
		}
		n += len(parts[i])
	}
	var all strings.Builder
	for k := 0; k < n; k++ {
		all.WriteString(parts[k%len(parts)][k/len(parts)] + "\n")
	}
	tmp := t.Plan.Out + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "ids.txt"), []byte(all.String()), 0o644); err != nil {
		return err
	}
	if _, err := os.Stat(t.Plan.Out); err == nil && !t.Plan.Overwrite {
		return exitcode.Errorf(exitcode.Output, "%s exists", t.Plan.Out)
	}
	os.RemoveAll(t.Plan.Out)
	return os.Rename(tmp, t.Plan.Out)
}

func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil, nil
	}
	return strings.Split(s, "\n"), nil
}
