package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/ordered"
	"github.com/orcaprep/orcaprep/progress"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
)

// The read stage: input row groups → batches → map workers → one ordered consumer. `run` reads every input
// and consumes with the reduce stages; a staged map task reads its ranges and consumes with the record
// encoder. Same code, so a map task sees exactly the batches `run` sees for its rows.

// maxPooledBuffer is the largest rendering buffer a pooled batch keeps.
const maxPooledBuffer = 8 << 20

// maxInflightText bounds the input text of the batches between the reader and the consumer.
const maxInflightText = 64 << 20

// batch is the unit of work passed between stages: rows read from one file, in input order.
type batch struct {
	seq      int
	held     int64 // bytes of text it holds of the in-flight budget
	selected bool  // the file matched select.files
	recs     []orca.Record
	items    []item
	arena    []byte  // rendered output lines, items point into it
	toks     []int32 // token ids of the batch's samples (packed format), items point into it
	sigs     []byte  // near-duplicate signatures, items point into it
}

// span is row groups [from, to) of input file (to ≤ 0: through the last), read in order.
type span struct {
	file     int
	from, to int
}

// wholeFiles are spans covering every input.
func wholeFiles(n int) []span {
	s := make([]span, n)
	for i := range s {
		s[i] = span{file: i}
	}
	return s
}

// streamer runs reader → map workers → ordered consumer. The first error cancels everything (errgroup); the
// in-flight window (pool tokens and a text budget) bounds memory whatever the speed of each step.
type streamer struct {
	cfg    *Config
	files  []*orca.File // by input index; only the spans' files need be open
	inputs []Input
	m      *mapper
	pool   chan *batch
	bar    *progress.Bar // may be nil
}

func newStreamer(cfg *Config, files []*orca.File, inputs []Input, m *mapper) *streamer {
	return &streamer{cfg: cfg, files: files, inputs: inputs, m: m, pool: make(chan *batch, 4*cfg.Workers+4)}
}

// stream reads spans in order and calls consume with every processed batch, in input order, from one
// goroutine. A batch is reused once consume returns.
func (s *streamer) stream(ctx context.Context, spans []span, consume func(context.Context, *batch) error) error {
	g, ctx := errgroup.WithContext(ctx)
	window := cap(s.pool)
	tokens := make(chan struct{}, window)
	// The window also holds at most maxInflightText bytes of input text (a batch with more takes it all),
	// so that batches of 100 MB values are not processed 4·workers at a time.
	inflight := semaphore.NewWeighted(maxInflightText)
	work := make(chan *batch, s.cfg.Workers)
	done := make(chan *batch, window)

	g.Go(func() error { // reader: each file's Scanner decodes pages on its own workers; this goroutine only hands batches on
		defer close(work)
		seq := 0
		for _, sp := range spans {
			if sp.to > 0 && sp.from >= sp.to {
				continue
			}
			sel := s.inputs[sp.file].Selected
			o := orca.ScanOptions{From: sp.from, To: sp.to, IDsOnly: !sel, BatchRows: s.cfg.BatchSize, Workers: s.cfg.Workers}
			err := s.files[sp.file].Each(ctx, o, func(recs []orca.Record) error {
				select {
				case tokens <- struct{}{}:
				case <-ctx.Done():
					return ctx.Err()
				}
				held := min(textBytes(recs), maxInflightText)
				if err := inflight.Acquire(ctx, held); err != nil {
					<-tokens
					return err
				}
				b := s.getBatch()
				b.seq, b.selected, b.held = seq, sel, held
				b.recs = append(b.recs[:0], recs...)
				seq++
				select {
				case work <- b:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			if err != nil {
				if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
					return ctx.Err()
				}
				return exitcode.With(exitcode.Input, err)
			}
		}
		return nil
	})

	workers := errgroup.Group{}
	for w := 0; w < s.cfg.Workers; w++ {
		ws := s.m.worker()
		workers.Go(func() error {
			for b := range work {
				s.m.process(b, ws)
				select {
				case done <- b:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		err := workers.Wait()
		close(done)
		return err
	})

	g.Go(func() error { // the ordered consumer: the only goroutine that sees batches in input order
		var order ordered.Buffer[*batch]
		for b := range done {
			err := order.Put(b.seq, b, func(nb *batch) error {
				if err := consume(ctx, nb); err != nil {
					return err
				}
				s.bar.AddBytes(textBytes(nb.recs))
				s.bar.Add(int64(len(nb.recs)))
				inflight.Release(nb.held) // before putBatch: the reader may take nb back at once
				s.putBatch(nb)
				<-tokens
				return nil
			})
			if err != nil {
				return err
			}
		}
		if ctx.Err() == nil && order.Waiting() > 0 {
			return fmt.Errorf("internal error: %d batches never merged", order.Waiting())
		}
		return nil
	})
	return g.Wait()
}

func (s *streamer) getBatch() *batch {
	select {
	case b := <-s.pool:
		return b
	default:
		return &batch{}
	}
}

func (s *streamer) putBatch(b *batch) {
	clear(b.recs) // let the strings go (they point into decoded pages)
	b.recs = b.recs[:0]
	clear(b.items) // items hold the id and system prompt strings too
	b.items = b.items[:0]
	// A batch that carried a huge value (100 MB) grew its buffers to match: pooled, every batch that ever
	// met one would keep that much memory for the rest of the run.
	if cap(b.arena) > maxPooledBuffer {
		b.arena = nil
	}
	select {
	case s.pool <- b:
	default:
	}
}

// textBytes is the text volume of a batch, for progress (MB and MB/s).
func textBytes(recs []orca.Record) int64 {
	var n int
	for i := range recs {
		n += len(recs[i].ID) + len(recs[i].SystemPrompt) + len(recs[i].Question) + len(recs[i].Response)
	}
	return int64(n)
}
