package stage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/orca"
)

// PlanFormat is the plan.json format tag; a task refuses a plan with another tag.
const PlanFormat = "orcaprep-plan/1"

// Plan is WORK/plan.json: everything the tasks need, fixed once before the first task runs. Every task reads it,
// and every done marker records the sha256 of its bytes, so an output of an older plan is never mistaken for one
// of this plan.
type Plan struct {
	Format string `json:"format"`
	// Version is the orcaprep version that planned; tasks of another version refuse to run (their output could
	// differ), so one binary must serve the whole run.
	Version string `json:"version"`
	// Tasks is the size of the map and write arrays (reduce and finalize are single tasks).
	Tasks int `json:"tasks"`
	// Out is the absolute output directory finalize commits; Overwrite allows replacing a non-empty one.
	Out       string `json:"out"`
	Overwrite bool   `json:"overwrite"`
	// Recipe is the effective configuration (canonical JSON) and RecipeSHA256 its hash; a re-run with another
	// recipe is refused instead of mixing outputs.
	Recipe       json.RawMessage `json:"recipe"`
	RecipeSHA256 string          `json:"recipe_sha256"`
	// Inputs are the resolved input files in input order (globs are expanded once, here).
	Inputs []InputFile `json:"inputs"`
	// Map holds one entry per map task: the contiguous input rows it reads.
	Map []MapTask `json:"map"`
	// StageTasks sets the task count of the optional stages (DF, Templates; the body sets it in Body.Plan):
	// 0 or Tasks for DF, whose task i reads Map[i]'s rows; any count for Templates. Absent means 0: the
	// stage does not run.
	StageTasks map[string]int `json:"stage_tasks,omitempty"`
	// Body is what the stage bodies add at plan time (Body.Plan), opaque to this package.
	Body json.RawMessage `json:"body,omitempty"`

	sha string // sha256 of the plan.json bytes, set by LoadPlan and SavePlan
}

// InputFile is one input as planned, with the fingerprint tasks check before reading it.
type InputFile struct {
	// Source is what the user wrote (a path or an hf:// reference); Path is the absolute local file.
	Source string `json:"source"`
	Path   string `json:"path"`
	// Name is the base name (select.files globs match it).
	Name string `json:"name"`
	// Bytes, ModTimeNS and FooterSHA256 (sha256 of the Parquet footer: metadata, length and magic) fingerprint
	// the file without reading it whole; a task refuses an input whose fingerprint changed.
	Bytes        int64  `json:"bytes"`
	ModTimeNS    int64  `json:"mtime_ns"`
	FooterSHA256 string `json:"footer_sha256"`
	Rows         int64  `json:"rows"`
	// RowGroups are the row counts of the file's row groups, in order.
	RowGroups []int64 `json:"row_groups"`
}

// MapTask is the slice of the input one map task reads.
type MapTask struct {
	Task int   `json:"task"`
	Rows int64 `json:"rows"`
	// Ranges are in input order; consecutive tasks' ranges concatenate to the whole input. Empty when the task
	// has no rows (more tasks than row groups).
	Ranges []Range `json:"ranges"`
}

// Range is rows [RowStart, RowEnd) of input File (an index into Plan.Inputs). Today both ends fall on row-group
// boundaries (RowGroups tells which groups); the format allows ranges inside a row group for a reader that can
// seek to a row.
type Range struct {
	File     int   `json:"file"`
	RowStart int64 `json:"row_start"`
	RowEnd   int64 `json:"row_end"`
}

// Source is an input to plan: the user's spelling and the resolved local path.
type Source struct {
	Source string
	Path   string
	Name   string
}

// Spec is what a plan is made from; the caller (pipeline) derives it from the recipe.
type Spec struct {
	Version      string
	Tasks        int
	Out          string
	Overwrite    bool
	Recipe       json.RawMessage
	RecipeSHA256 string
	Inputs       []Source
}

// MakePlan reads the Parquet footers of spec's inputs and splits their row groups into spec.Tasks contiguous
// ranges balanced by rows. It reads no data pages.
func MakePlan(ctx context.Context, spec Spec) (*Plan, error) {
	if spec.Tasks < 1 {
		return nil, exitcode.Errorf(exitcode.Usage, "tasks %d: must be ≥ 1", spec.Tasks)
	}
	if len(spec.Inputs) == 0 {
		return nil, exitcode.Errorf(exitcode.Usage, "plan: no inputs")
	}
	out, err := filepath.Abs(spec.Out)
	if err != nil {
		return nil, exitcode.Errorf(exitcode.Usage, "out %s: %w", spec.Out, err)
	}
	p := &Plan{Format: PlanFormat, Version: spec.Version, Tasks: spec.Tasks, Out: out, Overwrite: spec.Overwrite,
		Recipe: spec.Recipe, RecipeSHA256: spec.RecipeSHA256}
	for i, s := range spec.Inputs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		in, err := inspectInput(s, i)
		if err != nil {
			return nil, exitcode.With(exitcode.Input, err)
		}
		p.Inputs = append(p.Inputs, in)
	}
	p.Map = Split(p.Inputs, spec.Tasks)
	return p, nil
}

func inspectInput(s Source, index int) (InputFile, error) {
	path, err := filepath.Abs(s.Path)
	if err != nil {
		return InputFile{}, fmt.Errorf("input %s: %w", s.Path, err)
	}
	f, err := orca.Open(path, index)
	if err != nil {
		return InputFile{}, err
	}
	defer f.Close()
	in := InputFile{Source: s.Source, Path: path, Name: s.Name, Rows: f.NumRows()}
	if in.Name == "" {
		in.Name = filepath.Base(path)
	}
	for _, g := range f.Parquet().RowGroups() {
		in.RowGroups = append(in.RowGroups, g.NumRows())
	}
	fp, err := fingerprint(path)
	if err != nil {
		return InputFile{}, err
	}
	in.Bytes, in.ModTimeNS, in.FooterSHA256 = fp.Bytes, fp.ModTimeNS, fp.FooterSHA256
	return in, nil
}

type fileprint struct {
	Bytes        int64
	ModTimeNS    int64
	FooterSHA256 string
}

// fingerprint stats path and hashes its Parquet footer (the last 8+len bytes): a rewritten file almost always
// changes its footer (row-group offsets, sizes, statistics), and this costs one small read however big the file.
func fingerprint(path string) (fileprint, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileprint{}, fmt.Errorf("input %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fileprint{}, fmt.Errorf("input %s: %w", path, err)
	}
	fp := fileprint{Bytes: st.Size(), ModTimeNS: st.ModTime().UnixNano()}
	if st.Size() < 12 {
		return fileprint{}, fmt.Errorf("input %s: %d bytes, too short for Parquet", path, st.Size())
	}
	var tail [8]byte
	if _, err := f.ReadAt(tail[:], st.Size()-8); err != nil {
		return fileprint{}, fmt.Errorf("input %s: read footer: %w", path, err)
	}
	if !bytes.Equal(tail[4:], []byte("PAR1")) {
		return fileprint{}, fmt.Errorf("input %s: no Parquet magic at the end", path)
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4])) + 8
	if n > st.Size()-4 {
		return fileprint{}, fmt.Errorf("input %s: footer length %d exceeds the file", path, n-8)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, st.Size()-n, n)); err != nil {
		return fileprint{}, fmt.Errorf("input %s: read footer: %w", path, err)
	}
	fp.FooterSHA256 = hex.EncodeToString(h.Sum(nil))
	return fp, nil
}

// CheckInput returns an error (exit code 3) when input i no longer has the planned fingerprint.
func (p *Plan) CheckInput(i int) error {
	in := p.Inputs[i]
	fp, err := fingerprint(in.Path)
	if err != nil {
		return exitcode.With(exitcode.Input, err)
	}
	var what string
	switch {
	case fp.Bytes != in.Bytes:
		what = fmt.Sprintf("size %d → %d bytes", in.Bytes, fp.Bytes)
	case fp.FooterSHA256 != in.FooterSHA256:
		what = "Parquet footer differs"
	case fp.ModTimeNS != in.ModTimeNS:
		what = "modification time differs"
	default:
		return nil
	}
	return exitcode.Errorf(exitcode.Input, "input %s changed since the plan (%s); plan again in a new work directory", in.Path, what)
}

// Split cuts the inputs' row groups, in input order, into n contiguous ranges balanced by rows: the k-th cut is
// the row-group boundary nearest to k·total/n (the earlier one on a tie), so each task is within half a row
// group of its share. Tasks beyond the number of row groups get empty ranges. The result depends only on the
// row-group sizes and n.
func Split(inputs []InputFile, n int) []MapTask {
	type group struct {
		file       int
		start, end int64
	}
	var groups []group
	cum := []int64{0} // cum[i] = rows before group i
	for f, in := range inputs {
		var row int64
		for _, rows := range in.RowGroups {
			groups = append(groups, group{f, row, row + rows})
			row += rows
			cum = append(cum, cum[len(cum)-1]+rows)
		}
	}
	total := cum[len(cum)-1]
	cuts := make([]int, n+1)
	cuts[n] = len(groups)
	for k := 1; k < n; k++ {
		target := total / int64(n) * int64(k)
		target += total % int64(n) * int64(k) / int64(n) // k·total/n without overflowing for huge totals
		i, _ := slices.BinarySearch(cum, target)         // first boundary with cum ≥ target
		if i > 0 && (i == len(cum) || target-cum[i-1] <= cum[i]-target) {
			i--
		}
		cuts[k] = min(max(i, cuts[k-1]), len(groups))
	}
	tasks := make([]MapTask, n)
	for k := range tasks {
		t := MapTask{Task: k, Ranges: []Range{}}
		for _, g := range groups[cuts[k]:cuts[k+1]] {
			if last := len(t.Ranges) - 1; last >= 0 && t.Ranges[last].File == g.file && t.Ranges[last].RowEnd == g.start {
				t.Ranges[last].RowEnd = g.end
			} else {
				t.Ranges = append(t.Ranges, Range{File: g.file, RowStart: g.start, RowEnd: g.end})
			}
			t.Rows += g.end - g.start
		}
		tasks[k] = t
	}
	return tasks
}

// RowGroups returns the row groups [first, last) of r's file that r covers, or an error when r does not fall
// on row-group boundaries (a reader that can only read whole row groups must refuse such a range).
func (p *Plan) RowGroups(r Range) (first, last int, err error) {
	if r.File < 0 || r.File >= len(p.Inputs) {
		return 0, 0, fmt.Errorf("range names input %d; the plan has %d", r.File, len(p.Inputs))
	}
	first, last = -1, -1
	var row int64
	for g, rows := range p.Inputs[r.File].RowGroups {
		if row == r.RowStart && first < 0 {
			first = g
		}
		row += rows
		if row == r.RowEnd && first >= 0 {
			last = g + 1
			break
		}
	}
	if r.RowStart == r.RowEnd {
		return 0, 0, nil
	}
	if first < 0 || last < 0 {
		return 0, 0, fmt.Errorf("rows %d..%d of %s are not on row-group boundaries", r.RowStart, r.RowEnd, p.Inputs[r.File].Name)
	}
	return first, last, nil
}

// TaskCount is how many tasks stage has under this plan (0: the stage does not run).
func (p *Plan) TaskCount(stage string) int {
	switch stage {
	case Map, Write:
		return p.Tasks
	case Reduce, Finalize:
		return 1
	}
	return p.StageTasks[stage]
}

// checkStageTasks refuses optional-stage counts the stages cannot honour.
func (p *Plan) checkStageTasks() error {
	for st, n := range p.StageTasks {
		switch {
		case st != DF && st != Templates:
			return fmt.Errorf("stage_tasks: %q is not an optional stage", st)
		case n < 0 || st == DF && n != 0 && n != p.Tasks:
			return fmt.Errorf("stage_tasks: %s has %d tasks (want 0 or %d)", st, n, p.Tasks)
		}
	}
	return nil
}

// SHA256 is the hash of the plan.json bytes (empty for a plan not yet saved or loaded).
func (p *Plan) SHA256() string { return p.sha }

func (p *Plan) encode() ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode plan: %w", err)
	}
	return append(b, '\n'), nil
}

// SavePlan writes p as WORK/plan.json atomically (temporary file, fsync, rename).
func SavePlan(w Work, p *Plan) error {
	b, err := p.encode()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(w.Dir, 0o755); err != nil {
		return exitcode.Errorf(exitcode.Output, "create work directory: %w", err)
	}
	if err := writeFileSync(w.PlanPath(), b); err != nil {
		return exitcode.With(exitcode.Output, err)
	}
	sum := sha256.Sum256(b)
	p.sha = hex.EncodeToString(sum[:])
	return nil
}

// ErrNoPlan is returned (wrapped) by LoadPlan when the work directory has no plan.json.
var ErrNoPlan = errors.New("no plan.json")

// LoadPlan reads WORK/plan.json.
func LoadPlan(w Work) (*Plan, error) {
	b, err := os.ReadFile(w.PlanPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, exitcode.Errorf(exitcode.Usage, "work directory %s: %w (plan first: orcaprep plan, or orcaprep run --executor …)", w.Dir, ErrNoPlan)
	}
	if err != nil {
		return nil, exitcode.Errorf(exitcode.Usage, "read plan: %w", err)
	}
	var p Plan
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, exitcode.Errorf(exitcode.Integrity, "%s: %w", w.PlanPath(), err)
	}
	if p.Format != PlanFormat {
		return nil, exitcode.Errorf(exitcode.Usage, "%s: format %q, this orcaprep reads %q", w.PlanPath(), p.Format, PlanFormat)
	}
	if p.Tasks < 1 || len(p.Map) != p.Tasks {
		return nil, exitcode.Errorf(exitcode.Integrity, "%s: %d tasks but %d map ranges", w.PlanPath(), p.Tasks, len(p.Map))
	}
	if err := p.checkStageTasks(); err != nil {
		return nil, exitcode.Errorf(exitcode.Integrity, "%s: %w", w.PlanPath(), err)
	}
	sum := sha256.Sum256(b)
	p.sha = hex.EncodeToString(sum[:])
	return &p, nil
}

// Same reports why q (a plan just made from the user's command) cannot reuse the saved plan p, or "" when it
// can: same version, task count, output, recipe and input fingerprints.
func (p *Plan) Same(q *Plan) string {
	switch {
	case p.Version != q.Version:
		return fmt.Sprintf("it was planned by orcaprep %s, this is %s", p.Version, q.Version)
	case p.Tasks != q.Tasks:
		return fmt.Sprintf("it was planned for %d tasks, not %d", p.Tasks, q.Tasks)
	case p.Out != q.Out:
		return fmt.Sprintf("it was planned for output %s, not %s", p.Out, q.Out)
	case p.Overwrite != q.Overwrite:
		return fmt.Sprintf("it was planned with overwrite=%v", p.Overwrite)
	case p.RecipeSHA256 != q.RecipeSHA256:
		return fmt.Sprintf("it was planned for another recipe (sha256 %.12s…, this one %.12s…)", p.RecipeSHA256, q.RecipeSHA256)
	case len(p.Inputs) != len(q.Inputs):
		return fmt.Sprintf("it was planned for %d input files, not %d", len(p.Inputs), len(q.Inputs))
	}
	for i := range p.Inputs {
		a, b := p.Inputs[i], q.Inputs[i]
		if a.Path != b.Path || a.Bytes != b.Bytes || a.ModTimeNS != b.ModTimeNS || a.FooterSHA256 != b.FooterSHA256 {
			return fmt.Sprintf("input %s differs from the planned %s (size, time or footer)", b.Path, a.Path)
		}
	}
	return ""
}
