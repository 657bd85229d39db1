package stage

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Stage names, in the order they run. The plan (WORK/plan.json) comes before them.
const (
	// DF and Templates are optional: they run only when the plan gives them tasks (Plan.StageTasks). The
	// pipeline uses them for the document-frequency pass of template-aware near dedupe.
	DF        = "df"
	Templates = "templates"
	Map       = "map"
	Reduce    = "reduce"
	Write     = "write"
	Finalize  = "finalize"
)

// Stages lists the task stages in order.
var Stages = []string{DF, Templates, Map, Reduce, Write, Finalize}

// Work is a work directory shared by every task of a staged run (a shared file system on a cluster).
//
//	WORK/plan.json                    the plan (written once, atomically)
//	WORK/<stage>/<task>/              a committed task: its outputs and done.json (task as %05d)
//	WORK/<stage>/<task>/done.json     the done marker: plan hash, every output file with size and sha256
//	WORK/<stage>/<task>.failed.json   why the last attempt failed (exit code, message); removed on success
//	WORK/<stage>/.<task>.attempt-*/   an attempt in progress (renamed to <task>/ when complete)
//	WORK/logs/<stage>-<task>.log      local executor logs; Slurm writes <stage>-<job>_<task>.log
//	WORK/slurm/*.sbatch               the scripts the Slurm executor submitted; submissions.log lists them
type Work struct{ Dir string }

// PlanPath is WORK/plan.json.
func (w Work) PlanPath() string { return filepath.Join(w.Dir, "plan.json") }

// StageDir is WORK/<stage>.
func (w Work) StageDir(stage string) string { return filepath.Join(w.Dir, stage) }

// TaskDir is the committed directory of a task, WORK/<stage>/<task>.
func (w Work) TaskDir(stage string, task int) string {
	return filepath.Join(w.Dir, stage, taskName(task))
}

// MarkerPath is WORK/<stage>/<task>/done.json.
func (w Work) MarkerPath(stage string, task int) string {
	return filepath.Join(w.TaskDir(stage, task), MarkerName)
}

// FailurePath is WORK/<stage>/<task>.failed.json.
func (w Work) FailurePath(stage string, task int) string {
	return filepath.Join(w.Dir, stage, taskName(task)+".failed.json")
}

// LogDir is WORK/logs.
func (w Work) LogDir() string { return filepath.Join(w.Dir, "logs") }

// ScriptDir is WORK/slurm.
func (w Work) ScriptDir() string { return filepath.Join(w.Dir, "slurm") }

func taskName(task int) string { return fmt.Sprintf("%05d", task) }

// MarkerName is the done marker's file name inside a task directory.
const MarkerName = "done.json"

// MarkerFormat is the done marker format tag.
const MarkerFormat = "orcaprep-done/1"

// Marker is a done marker. It is the last file written into a task's attempt directory, which is then renamed
// into place, so a task directory either is complete and has a marker or does not exist.
type Marker struct {
	Format     string `json:"format"`
	Stage      string `json:"stage"`
	Task       int    `json:"task"`
	Tasks      int    `json:"tasks"`
	PlanSHA256 string `json:"plan_sha256"`
	// Files are every regular file of the task directory but the marker, sorted by path.
	Files []FileSum `json:"files"`
	// Summary is what the stage body reported (Task.SetSummary), e.g. row counts a later stage cross-checks.
	Summary json.RawMessage `json:"summary,omitempty"`
	Host    string          `json:"host"`
	Seconds float64         `json:"seconds"`
}

// FileSum is one output file of a task: its path relative to the task directory, size and sha256.
type FileSum struct {
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Check says how thoroughly CheckTask verifies a task.
type Check int

const (
	// Quick checks the marker (format, stage, task, plan hash) and each listed file's existence and size.
	Quick Check = iota
	// Full also recomputes every file's sha256: what a stage does before consuming a task's outputs.
	Full
)

// CheckTask verifies the committed task against plan and returns its marker, or an error saying what is wrong.
// A missing task gives an error wrapping fs.ErrNotExist.
func (w Work) CheckTask(p *Plan, stage string, task int, how Check) (*Marker, error) {
	b, err := os.ReadFile(w.MarkerPath(stage, task))
	if err != nil {
		return nil, fmt.Errorf("%s task %d: %w", stage, task, err)
	}
	var m Marker
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s task %d: done marker: %w", stage, task, err)
	}
	switch {
	case m.Format != MarkerFormat:
		return nil, fmt.Errorf("%s task %d: done marker format %q, want %q", stage, task, m.Format, MarkerFormat)
	case m.Stage != stage || m.Task != task:
		return nil, fmt.Errorf("%s task %d: done marker is for %s task %d", stage, task, m.Stage, m.Task)
	case m.PlanSHA256 != p.SHA256():
		return nil, fmt.Errorf("%s task %d: done marker belongs to another plan (%.12s…, current %.12s…)", stage, task, m.PlanSHA256, p.SHA256())
	}
	dir := w.TaskDir(stage, task)
	for _, f := range m.Files {
		path := filepath.Join(dir, filepath.FromSlash(f.Path))
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("%s task %d: output %s: %w", stage, task, f.Path, err)
		}
		if st.Size() != f.Bytes {
			return nil, fmt.Errorf("%s task %d: output %s has %d bytes, the done marker says %d", stage, task, f.Path, st.Size(), f.Bytes)
		}
		if how == Full {
			sum, _, err := hashFile(path, false)
			if err != nil {
				return nil, fmt.Errorf("%s task %d: %w", stage, task, err)
			}
			if sum != f.SHA256 {
				return nil, fmt.Errorf("%s task %d: output %s has sha256 %.12s…, the done marker says %.12s…", stage, task, f.Path, sum, f.SHA256)
			}
		}
	}
	return &m, nil
}

// Done reports, for each task of stage, whether it is committed and passes a Quick check.
func (w Work) Done(p *Plan, stage string) []bool {
	done := make([]bool, p.TaskCount(stage))
	for i := range done {
		_, err := w.CheckTask(p, stage, i, Quick)
		done[i] = err == nil
	}
	return done
}

// Missing lists the tasks of stage that are not done.
func (w Work) Missing(p *Plan, stage string) []int {
	var out []int
	for i, ok := range w.Done(p, stage) {
		if !ok {
			out = append(out, i)
		}
	}
	return out
}

// quarantine moves a bad committed task directory aside (WORK/<stage>/.<task>.bad-*) so that the task runs again.
func (w Work) quarantine(stage string, task int) (string, error) {
	dst := filepath.Join(w.StageDir(stage), "."+taskName(task)+".bad-"+randomSuffix())
	if err := os.Rename(w.TaskDir(stage, task), dst); err != nil {
		return "", err
	}
	return dst, nil
}

// Failure is WORK/<stage>/<task>.failed.json: why a task's last attempt failed. Executors read it to report the
// run's error and exit code; a scheduler that kills a task leaves none (the driver then says so).
type Failure struct {
	Stage    string    `json:"stage"`
	Task     int       `json:"task"`
	ExitCode int       `json:"exit_code"`
	Error    string    `json:"error"`
	Host     string    `json:"host"`
	Time     time.Time `json:"time"`
}

// ReadFailure returns the failure record of a task, or nil.
func (w Work) ReadFailure(stage string, task int) *Failure {
	b, err := os.ReadFile(w.FailurePath(stage, task))
	if err != nil {
		return nil
	}
	var f Failure
	if json.Unmarshal(b, &f) != nil {
		return nil
	}
	return &f
}

func (w Work) writeFailure(f Failure) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(w.StageDir(f.Stage), 0o755); err != nil {
		return err
	}
	return writeFileSync(w.FailurePath(f.Stage, f.Task), append(b, '\n'))
}

// commit hashes every file of the attempt directory (fsyncing it), writes the done marker last, and renames the
// attempt into WORK/<stage>/<task>. When another attempt of the same task committed first (a scheduler ran the
// task twice), its valid result is kept and this attempt is discarded; an invalid one is replaced.
func (w Work) commit(p *Plan, m *Marker, attempt string) error {
	files, err := sumDir(attempt)
	if err != nil {
		return err
	}
	m.Files = files
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(attempt, MarkerName), append(b, '\n')); err != nil {
		return err
	}
	if err := syncDir(attempt); err != nil {
		return err
	}
	dst := w.TaskDir(m.Stage, m.Task)
	if _, err := os.Lstat(dst); err == nil {
		if _, cerr := w.CheckTask(p, m.Stage, m.Task, Quick); cerr == nil {
			return os.RemoveAll(attempt) // another attempt won; both are results of the same plan
		}
		bad, err := w.quarantine(m.Stage, m.Task)
		if err != nil {
			return fmt.Errorf("move stale %s aside: %w", dst, err)
		}
		defer os.RemoveAll(bad)
	}
	if err := os.Rename(attempt, dst); err != nil {
		return fmt.Errorf("commit %s: %w", dst, err)
	}
	return syncDir(filepath.Dir(dst))
}

// sumDir lists the regular files under dir (but a done marker) with sizes and sha256, fsyncing each.
func sumDir(dir string) ([]FileSum, error) {
	var out []FileSum
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if rel == MarkerName {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("output %s is not a regular file", rel)
		}
		sum, n, err := hashFile(path, true)
		if err != nil {
			return err
		}
		out = append(out, FileSum{Path: rel, Bytes: n, SHA256: sum})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("checksum outputs: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func hashFile(path string, sync bool) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			return "", 0, fmt.Errorf("fsync %s: %w", path, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// writeFileSync writes b to path through a temporary file in the same directory, fsyncs it and renames it.
func writeFileSync(path string, b []byte) error {
	tmp := path + ".tmp-" + randomSuffix()
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

func randomSuffix() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func hostname() string {
	h, _ := os.Hostname()
	if i := strings.IndexByte(h, '.'); i > 0 {
		h = h[:i]
	}
	return h
}
