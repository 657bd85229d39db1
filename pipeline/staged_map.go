package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/stage"
)

// mapSummary is a map task's done-marker summary.
type mapSummary struct {
	Rows         int64 `json:"rows"`
	RecordsBytes int64 `json:"records_bytes"`
	PayloadBytes int64 `json:"payload_bytes"`
	MaxRSSBytes  int64 `json:"max_rss_bytes"`
}

// Map reads the task's row groups with run's reader and runs run's map stages on them (read.go, map.go), on
// every core; the processed batches go, in input order, to records.bin and payload.bin (record.go).
func (b *stagedBody) Map(ctx context.Context, t *stage.Task) error {
	start := time.Now()
	cfg, err := b.recipe(t.Plan)
	if err != nil {
		return err
	}
	inputs := planInputs(cfg, t.Plan)
	tok, _, err := b.tokenizer(ctx, cfg)
	if err != nil {
		return err
	}
	m, err := newMapper(cfg, tok)
	if err != nil {
		return err
	}
	m.digits = true // reduce plans packed rows from them
	if needsDF(cfg) {
		if m.template, err = loadTemplates(t, cfg); err != nil {
			return err
		}
	}
	files, spans, closeAll, err := openRanges(t.Plan, t.MapTask().Ranges)
	if err != nil {
		return err
	}
	defer closeAll()
	recF, err := os.Create(filepath.Join(t.Dir, "records.bin"))
	if err != nil {
		return exitcode.Errorf(exitcode.Output, "create records.bin: %w", err)
	}
	defer recF.Close()
	payF, err := os.Create(filepath.Join(t.Dir, "payload.bin"))
	if err != nil {
		return exitcode.Errorf(exitcode.Output, "create payload.bin: %w", err)
	}
	defer payF.Close()
	w := newRecordWriter(recF, payF, cfg.Format == FormatPacked)
	hook := fmt.Sprintf("map-%d", t.Index)
	first := true
	err = newStreamer(cfg, files, inputs, m).stream(ctx, spans, func(ctx context.Context, b *batch) error {
		if err := w.batch(b); err != nil {
			return err
		}
		if first {
			first = false
			pauseAt(ctx, hook) // test hook: a map task stopped mid-range (scancel tests)
			return ctx.Err()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := w.end(); err != nil {
		return err
	}
	for _, f := range []*os.File{recF, payF} {
		if err := f.Close(); err != nil {
			return exitcode.Errorf(exitcode.Output, "write %s: %w", f.Name(), err)
		}
	}
	if w.rows != t.MapTask().Rows {
		return exitcode.Errorf(exitcode.Integrity, "map task %d read %d rows, the plan says %d", t.Index, w.rows, t.MapTask().Rows)
	}
	recInfo, _ := os.Stat(recF.Name())
	el := time.Since(start).Seconds()
	fmt.Fprintf(t.Stderr, "orcaprep map: task %d: %d rows in %.1fs (%.0f rows/s); records %.1f MB, payload %.1f MB\n",
		t.Index, w.rows, el, float64(w.rows)/max(el, 1e-9), float64(recInfo.Size())/1e6, float64(w.paylen)/1e6)
	return t.SetSummary(mapSummary{Rows: w.rows, RecordsBytes: recInfo.Size(), PayloadBytes: w.paylen, MaxRSSBytes: maxRSS()})
}
