package report

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"
	"unicode/utf8"

	"github.com/orcaprep/orcaprep/chatml"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/progress"
	"github.com/orcaprep/orcaprep/samples"
	"github.com/orcaprep/orcaprep/stats"
	"github.com/orcaprep/orcaprep/tokenizer"
	"golang.org/x/sync/errgroup"
)

// ProfileOptions control Profile.
type ProfileOptions struct {
	// Files are local Parquet paths; Sources, if set, are what the user wrote for each (shown in reports).
	Files   []string
	Sources []string
	// Render is the ChatML rendering whose length is measured as sample_chars.
	Render chatml.Options
	// Workers read row groups in parallel (0 = number of CPUs); the result does not depend on it.
	Workers   int
	BatchSize int
	// Tokenizer, when set, counts each rendered row's tokens exactly as a run would (samples.Builder).
	Tokenizer *tokenizer.Tokenizer
	// Progress goes to Stderr when it is not nil.
	Stderr   io.Writer
	Progress progress.Mode
}

// Profile reads every row of the files and returns the statistics document of the raw input: every row
// counts as kept, nothing is written. Row groups are profiled in parallel and merged in input order, so
// the document is identical for any number of workers (Timing aside).
func Profile(ctx context.Context, o ProfileOptions) (*stats.Document, error) {
	start := time.Now()
	if len(o.Files) == 0 {
		return nil, fmt.Errorf("profile: no input files")
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	files := make([]*orca.File, 0, len(o.Files))
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	doc := &stats.Document{Ledger: stats.NewLedger(), Inputs: []stats.InputStat{}}
	var total int64
	for i, p := range o.Files {
		f, err := orca.Open(p, i)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		src := p
		if i < len(o.Sources) && o.Sources[i] != "" {
			src = o.Sources[i]
		}
		doc.Inputs = append(doc.Inputs, stats.InputStat{Source: src, Name: f.Name(), Bytes: f.Size, Rows: f.NumRows(), Selected: true})
		total += f.NumRows()
	}
	bar := progress.New(o.Stderr, o.Progress, "orcaprep stats", total, progress.Rows)

	// One job per row group. Each job fills its own collector and ledger; the merge loop folds them in
	// job order, holding at most 2×workers finished jobs.
	type job struct {
		f    *orca.File
		rg   int
		col  *stats.Collector
		led  *stats.Ledger
		done chan struct{}
	}
	var jobs []*job
	for _, f := range files {
		for rg := 0; rg < f.NumRowGroups(); rg++ {
			jobs = append(jobs, &job{f: f, rg: rg, done: make(chan struct{})})
		}
	}
	g, ctx := errgroup.WithContext(ctx)
	queue := make(chan *job)
	window := make(chan struct{}, 2*workers)
	g.Go(func() error {
		defer close(queue)
		for _, j := range jobs {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case queue <- j:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	for w := 0; w < workers; w++ {
		g.Go(func() error {
			var scratch []byte
			var build *samples.Builder
			if o.Tokenizer != nil {
				build = samples.NewBuilder(o.Tokenizer, o.Render)
			}
			for j := range queue {
				j.col, j.led = stats.NewCollector(), stats.NewLedger()
				err := j.f.ReadRowGroup(j.rg, o.BatchSize, false, func(recs []orca.Record) error {
					if err := ctx.Err(); err != nil {
						return err
					}
					for i := range recs {
						tokens := -1
						if build != nil {
							tokens = len(build.Build(&recs[i]).IDs)
						}
						scratch = observeRaw(j.col, j.led, &recs[i], o.Render, tokens, scratch)
					}
					bar.Add(int64(len(recs)))
					return nil
				})
				if err != nil {
					return err
				}
				close(j.done)
			}
			return nil
		})
	}
	col := stats.NewCollector()
	g.Go(func() error {
		for _, j := range jobs {
			select {
			case <-j.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			col.Merge(j.col)
			mergeLedger(doc.Ledger, j.led)
			j.col, j.led = nil, nil
			<-window
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	bar.Finish()
	if err := doc.Ledger.Check(); err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	dist := col.Result()
	doc.Distributions = &dist
	el := time.Since(start).Seconds()
	doc.Timing = stats.Timing{Seconds: round3(el), RowsPerSec: round3(float64(doc.RowsRead) / max(el, 1e-9)), Workers: workers}
	return doc, nil
}

// observeRaw counts one raw row as kept, with its token count (-1 without a tokenizer); scratch is the
// rendering buffer, returned for reuse.
func observeRaw(c *stats.Collector, l *stats.Ledger, r *orca.Record, render chatml.Options, tokens int, scratch []byte) []byte {
	sub := r.Submix()
	l.Read(sub)
	for i, col := range orca.Columns {
		if r.Nulls&(1<<i) != 0 {
			l.Null(col)
		}
	}
	l.Keep(sub)
	scratch = chatml.AppendText(scratch[:0], r, render)
	c.Observe(&stats.Observation{
		ID: r.ID, Submix: sub, SystemPrompt: r.SystemPrompt,
		QuestionChars: utf8.RuneCountInString(r.Question), ResponseChars: utf8.RuneCountInString(r.Response),
		SampleChars: utf8.RuneCount(scratch), Tokens: tokens, Kept: true,
	})
	return scratch
}

// mergeLedger adds the counts of o (a profile ledger: reads, keeps and NULLs only) to l.
func mergeLedger(l, o *stats.Ledger) {
	l.RowsRead += o.RowsRead
	l.RowsKept += o.RowsKept
	for name, c := range o.BySubmix {
		s := l.BySubmix[name]
		if s == nil {
			s = &stats.SubmixCounts{Dropped: map[string]int64{}}
			l.BySubmix[name] = s
		}
		s.Read += c.Read
		s.Kept += c.Kept
	}
	for k, v := range o.Nulls {
		l.Nulls[k] += v
	}
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
