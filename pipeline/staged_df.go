package pipeline

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/orcaprep/orcaprep/dedupe"
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/stage"
)

// The staged DF pass. `run` counts every selected row's shingles into one count-min sketch of
// dfSketchBytes(total selected rows) and thresholds it (shingles.go). Sketches of the same size add up
// counter by counter, so the staged run gets the same template set without any task reading the whole
// input or holding N sketches:
//
//	df task i         counts map range i into a sketch of that same size and writes it in N parts
//	                  (part-<j>.zst, zstd: a range's sketch is mostly zeros)
//	templates task j  adds part j of every df task's sketch (reading only that file of each: Task.InputFile)
//	                  and writes the part's template bits (templates.zst, an eighth of the part)
//	map task          concatenates the N parts' bits into the template set
//
// Volumes: df writes N sketches (compressed); each templates task reads 1/N of each; each map task reads the
// template set (an eighth of a sketch, compressed).

func dfPartName(j int) string { return fmt.Sprintf("part-%05d.zst", j) }

const templatesName = "templates.zst"

// dfSummary is a df task's done-marker summary.
type dfSummary struct {
	Rows        int64 `json:"rows"`
	SketchBytes int   `json:"sketch_bytes"`
	Written     int64 `json:"written_bytes"`
	MaxRSSBytes int64 `json:"max_rss_bytes"`
}

// DF counts the shingle document frequencies of the task's rows and writes the sketch in parts.
func (b *stagedBody) DF(ctx context.Context, t *stage.Task) error {
	start := time.Now()
	cfg, err := b.recipe(t.Plan)
	if err != nil {
		return err
	}
	inputs := planInputs(cfg, t.Plan)
	m, err := newMapper(cfg, nil)
	if err != nil {
		return err
	}
	files, spans, closeAll, err := openRanges(t.Plan, t.MapTask().Ranges)
	if err != nil {
		return err
	}
	defer closeAll()
	size := dfSketchBytes(cfg.Dedupe.Near, selectedRows(inputs)) // the size run uses: parts must line up
	sketch, rows, err := sketchShingleDF(ctx, scanFields(files, inputs, spans, cfg.Workers), cfg, size, m.selects)
	if err != nil {
		return err
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return err
	}
	defer enc.Close()
	n := t.Plan.TaskCount(stage.Templates)
	var written int64
	var buf []byte
	for j := 0; j < n; j++ {
		buf = enc.EncodeAll(sketch.Part(j, n), buf[:0])
		if err := os.WriteFile(filepath.Join(t.Dir, dfPartName(j)), buf, 0o644); err != nil {
			return exitcode.Errorf(exitcode.Output, "write df sketch: %w", err)
		}
		written += int64(len(buf))
	}
	fmt.Fprintf(t.Stderr, "orcaprep df: task %d: %d rows counted in %.1fs; sketch %d MB in %d parts, %.1f MB written\n",
		t.Index, rows, time.Since(start).Seconds(), sketch.Bytes()>>20, n, float64(written)/1e6)
	return t.SetSummary(dfSummary{Rows: rows, SketchBytes: sketch.Bytes(), Written: written, MaxRSSBytes: maxRSS()})
}

// Templates adds part j (= the task index) of every df task's sketch and writes its template bits.
func (b *stagedBody) Templates(ctx context.Context, t *stage.Task) error {
	cfg, err := b.recipe(t.Plan)
	if err != nil {
		return err
	}
	near := cfg.Dedupe.Near
	size := dfSketchBytes(near, selectedRows(planInputs(cfg, t.Plan)))
	sum := make([]byte, dedupe.PartBytes(size, t.Index, t.Count))
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(len(sum))+1<<20))
	if err != nil {
		return err
	}
	defer dec.Close()
	var part []byte
	for i := 0; i < t.Plan.TaskCount(stage.DF); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		path, err := t.InputFile(stage.DF, i, dfPartName(t.Index))
		if err != nil {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return exitcode.With(exitcode.Integrity, err)
		}
		if part, err = dec.DecodeAll(raw, part[:0]); err != nil || len(part) != len(sum) {
			return t.Reject(stage.DF, i, fmt.Errorf("df task %d: %s: not a sketch part of %d counters (%d, %v)", i, dfPartName(t.Index), len(sum), len(part), err))
		}
		dedupe.AddCounters(sum, part)
	}
	words := dedupe.TemplateWords(sum, near.MaxShingleDF)
	raw := make([]byte, 0, 8*len(words))
	for _, w := range words {
		raw = binary.LittleEndian.AppendUint64(raw, w)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return err
	}
	defer enc.Close()
	if err := os.WriteFile(filepath.Join(t.Dir, templatesName), enc.EncodeAll(raw, nil), 0o644); err != nil {
		return exitcode.Errorf(exitcode.Output, "write template bits: %w", err)
	}
	return t.SetSummary(taskSummary{MaxRSSBytes: maxRSS()})
}

// loadTemplates is a map task's template set: every templates task's bits, in order.
func loadTemplates(t *stage.Task, cfg *Config) (*dedupe.TemplateSet, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	want := dedupe.NewDFSketchSize(dfSketchBytes(cfg.Dedupe.Near, selectedRows(planInputs(cfg, t.Plan)))) / 64
	words := make([]uint64, 0, want)
	var raw []byte
	for j := 0; j < t.Plan.TaskCount(stage.Templates); j++ {
		dir, _, err := t.Input(stage.Templates, j)
		if err != nil {
			return nil, err
		}
		z, err := os.ReadFile(filepath.Join(dir, templatesName))
		if err != nil {
			return nil, exitcode.With(exitcode.Integrity, err)
		}
		if raw, err = dec.DecodeAll(z, raw[:0]); err != nil || len(raw)%8 != 0 {
			return nil, t.Reject(stage.Templates, j, fmt.Errorf("templates task %d: %s is not template bits (%v)", j, templatesName, err))
		}
		for k := 0; k < len(raw); k += 8 {
			words = append(words, binary.LittleEndian.Uint64(raw[k:]))
		}
	}
	if len(words) != want {
		return nil, exitcode.Errorf(exitcode.Integrity, "the templates tasks hold %d words of template bits, want %d", len(words), want)
	}
	return dedupe.NewTemplateSet(words, cfg.Dedupe.Near.MaxShingleDF), nil
}
