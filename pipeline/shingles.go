package pipeline

import (
	"context"
	"errors"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/orcaprep/orcaprep/dedupe"
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/stats"
	"golang.org/x/sync/errgroup"
)

// StageShingleDF names the first read in stats.json's timing: counting shingle document frequencies for
// template-aware near-dedupe.
const StageShingleDF = "shingle_df"

// dfSource is what the first read needs from the input: the row groups of the selected files, in order, with
// at least the id and the given fields filled in. It is the only coupling between the DF pass and the Parquet
// reader, so the pass can be pointed at another reader (or at one shard of a distributed run) by swapping
// this function.
type dfSource func(ctx context.Context, batchSize int, fields []string, fn func([]orca.Record) error) error

// dfSketchBytes is the sketch size for rows selected input rows: the config's df_sketch_mb, or 64 bytes per
// row, which keeps the expected over-count small for OpenOrca-sized questions (dedupe/README.md).
func dfSketchBytes(cfg dedupe.NearConfig, rows int64) int {
	if cfg.DFSketchMB > 0 {
		return cfg.DFSketchMB << 20
	}
	return int(min(max(rows*64, 1<<20), 1<<32))
}

// countShingleDF is the first read of a template-aware near-dedupe: it counts, for every shingle of the
// near config's df_fields, how many selected rows contain it, and returns the shingles found in more than
// max_shingle_df rows. Workers shingle batches in parallel and add them to one of a few private sketches
// (count-min sketches add commutatively), which are summed at the end, so the result does not depend on the
// worker count or on scheduling. Memory: (sketches × sketch size) during the pass; the returned set is an
// eighth of one sketch.
func countShingleDF(ctx context.Context, src dfSource, cfg *Config, rows int64, selected func(*orca.Record) bool) (*dedupe.TemplateSet, stats.StageTiming, error) {
	start := time.Now()
	sketch, counted, err := sketchShingleDF(ctx, src, cfg, dfSketchBytes(cfg.Dedupe.Near, rows), selected)
	if err != nil {
		return nil, stats.StageTiming{}, err
	}
	tmpl := sketch.Templates(cfg.Dedupe.Near.MaxShingleDF)
	sketch = nil
	debug.FreeOSMemory() // the sketches are the biggest allocation of the run; give them back before pass two
	el := time.Since(start).Seconds()
	st := stats.StageTiming{Name: StageShingleDF, Seconds: round3(el), Rows: counted}
	if el > 0 {
		st.RowsPerSec = round3(float64(counted) / el)
	}
	return tmpl, st, nil
}

// sketchShingleDF counts the document frequencies of src's selected rows into a sketch of size bytes and
// returns it with the number of rows counted (a staged run's df task counts its range with it).
func sketchShingleDF(ctx context.Context, src dfSource, cfg *Config, size int, selected func(*orca.Record) bool) (*dedupe.DFSketch, int64, error) {
	near := cfg.Dedupe.Near
	nSketch := min(cfg.Workers, 2)
	pool := make(chan *dedupe.DFSketch, nSketch)
	sketches := make([]*dedupe.DFSketch, nSketch)
	for i := range sketches {
		sketches[i] = dedupe.NewDFSketch(size, near.Seed)
		pool <- sketches[i]
	}
	g, gctx := errgroup.WithContext(ctx)
	work := make(chan []orca.Record, cfg.Workers)
	var counted atomic.Int64
	g.Go(func() error {
		defer close(work)
		return src(gctx, cfg.BatchSize, near.DFFields, func(recs []orca.Record) error {
			select {
			case work <- append([]orca.Record(nil), recs...): // the reader reuses recs
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
	})
	for w := 0; w < cfg.Workers; w++ {
		g.Go(func() error {
			dc := dedupe.NewDFCounter(near)
			var flat []uint64
			for b := range work {
				flat = flat[:0]
				n := int64(0)
				for i := range b {
					if selected(&b[i]) {
						flat = append(flat, dc.Row(&b[i])...) // each row's hashes are distinct within it
						n++
					}
				}
				s := <-pool // any sketch will do: their sum is the same
				s.Add(flat)
				pool <- s
				counted.Add(n)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, 0, ctx.Err()
		}
		return nil, 0, exitcode.With(exitcode.Input, err)
	}
	for _, s := range sketches[1:] {
		if err := sketches[0].Merge(s); err != nil {
			return nil, 0, err
		}
	}
	return sketches[0], counted.Load(), nil
}
