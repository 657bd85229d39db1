package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/orcaprep/orcaprep/chatml"
	"github.com/orcaprep/orcaprep/dedupe"
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/filter"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/ordered"
	"github.com/orcaprep/orcaprep/progress"
	"github.com/orcaprep/orcaprep/report"
	"github.com/orcaprep/orcaprep/samples"
	"github.com/orcaprep/orcaprep/shard"
	"github.com/orcaprep/orcaprep/stats"
	"github.com/orcaprep/orcaprep/tokenizer"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
)

// Stage names, in pipeline order; the ledger reports each one's in/out/dropped counts.
const (
	StageSelect   = "select"
	StageValidate = "validate"
	StageFilter   = "filter"
	StageDedupe   = "dedupe"
	StageTokens   = "tokens"
)

var stageOrder = []string{StageSelect, StageValidate, StageFilter, StageDedupe, StageTokens}

// Indexes into stageOrder.
const (
	stSelect = iota
	stValidate
	stFilter
	stDedupe
	stTokens
	stKept
)

// Options are everything Run needs besides the recipe.
type Options struct {
	Config    Config
	Overwrite bool
	Progress  progress.Mode
	// Stderr receives progress; Stdout the closing summary. Either may be nil.
	Stderr  io.Writer
	Stdout  io.Writer
	Version string
	// Resolve resolves hf:// inputs; nil rejects them.
	Resolve Resolver
}

// Result is what a finished run produced.
type Result struct {
	Out      string
	Manifest *Manifest
	Stats    *Stats
}

// Run executes a recipe end to end. On any error, or when ctx is cancelled in any phase (streaming, packing,
// finishing, the report, up to the commit), nothing is left in (or changed under) Config.Out, and a
// cancellation is returned as ctx's error (exit 130).
func Run(ctx context.Context, o Options) (res *Result, err error) {
	start := time.Now()
	cfg := o.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Workers == 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if err := cfg.checkFilesSelected(inputNames(cfg.Inputs)); err != nil { // before any download
		return nil, err
	}
	defer func() {
		// Whatever step noticed the interrupt, and however it wrapped it, the run was interrupted.
		if err != nil && ctx.Err() != nil {
			res, err = nil, ctx.Err()
		}
	}()
	// Lock OUT first: a second run on the same OUT fails in a moment, before any download or reading.
	st, err := openOutput(cfg.Out, o.Overwrite, o.Stderr, append(slices.Clone(cfg.Inputs), cfg.Tokenizer.Path))
	if err != nil {
		return nil, err
	}
	defer st.close()
	inputs, err := expandInputs(ctx, cfg.Inputs, o.Resolve)
	if err != nil {
		return nil, err
	}
	if err := cfg.checkFilesSelected(inputBaseNames(inputs)); err != nil {
		return nil, err
	}
	// Open every file before any work, so a bad schema in the last file fails in a second, not after an hour.
	files := make([]*orca.File, len(inputs))
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	var totalRows int64
	read := []string{cfg.Tokenizer.Path}
	for i := range inputs {
		read = append(read, inputs[i].Path) // hf:// inputs, now files in the cache
	}
	if err := st.od.CheckInputs(read); err != nil {
		return nil, err
	}
	for i := range inputs {
		f, err := orca.Open(inputs[i].Path, i)
		if err != nil {
			return nil, exitcode.With(exitcode.Input, err)
		}
		files[i] = f
		f.ReleaseFooter() // the scanner works from a compact copy; big footers would stay in memory otherwise
		if f.NumRows() == 0 {
			return nil, exitcode.Errorf(exitcode.Input, "input %s has no rows", inputs[i].Path)
		}
		inputs[i].Bytes = f.Size
		inputs[i].Rows = f.NumRows()
		inputs[i].Selected = cfg.fileSelected(inputs[i].Name)
		totalRows += f.NumRows()
	}

	var tok *tokenizer.Tokenizer
	var tokInfo *TokenizerInfo
	if cfg.Tokenizer.Path != "" {
		if tok, tokInfo, err = samples.LoadTokenizer(ctx, cfg.Tokenizer.Path, cfg.Tokenizer.AddedTokens, samples.Resolver(o.Resolve)); err != nil {
			return nil, err
		}
	}
	tokFiles, tokScheme, err := tokenizerFiles(&cfg, tok) // OUT/tokenizer, built now so a failure costs nothing
	if err != nil {
		return nil, err
	}
	pauseAt(ctx, PhaseOpen)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	r, err := newRunner(&cfg, st, files, inputs, tok, tokInfo)
	if err != nil {
		return nil, err
	}
	defer r.abort() // a no-op once finish closed the writers
	r.tokFiles, r.tokScheme = tokFiles, tokScheme
	if near := cfg.Dedupe.Near; near.Enabled && near.MaxShingleDF > 0 {
		var selRows int64
		for _, in := range inputs {
			if in.Selected {
				selRows += in.Rows
			}
		}
		tmpl, st, err := countShingleDF(ctx, readSelected(files, inputs), &cfg, selRows, func(rec *orca.Record) bool { return r.submix[rec.Submix()] })
		if err != nil {
			return nil, err
		}
		r.template = tmpl
		r.timings = append(r.timings, st)
	}
	bar := progress.New(o.Stderr, o.Progress, "orcaprep run", totalRows, progress.Rows)
	defer bar.Stop() // ends the bar's line on every path, so no message is glued to it
	r.bar = bar
	if err := r.stream(ctx); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	bar.Finish()
	if r.packer != nil {
		if err := r.writePacked(ctx); err != nil {
			return nil, err
		}
	}
	if err := r.ledger.Check(); err != nil {
		return nil, exitcode.With(exitcode.Integrity, err)
	}
	if err := checkKeptRows(r.ledger); err != nil {
		return nil, err
	}
	if res, err = r.finish(ctx, o, start); err != nil {
		return nil, err
	}
	// The text report is rendered before the commit, so that the run is over once OUT is replaced.
	var text bytes.Buffer
	if o.Stdout != nil {
		pauseAt(ctx, PhaseReport)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := report.WriteText(&text, res.Stats); err != nil {
			return nil, err
		}
		fmt.Fprintf(&text, "\nwrote %s (report.html, stats.json, manifest.json, axolotl.yaml)\n", res.Out)
	}
	pauseAt(ctx, PhaseCommit)
	if err := st.commit(ctx); err != nil {
		return nil, err
	}
	// Past this point OUT holds the new output: an interrupt can no longer undo the run.
	if o.Stdout != nil {
		if _, err := o.Stdout.Write(text.Bytes()); err != nil {
			return res, nil // OUT is committed; a closed stdout (| head) is not a failed run
		}
	}
	return res, nil
}

// maxPooledBuffer is the largest rendering buffer a pooled batch keeps.
const maxPooledBuffer = 8 << 20

// maxInflightText bounds the input text of the batches between the reader and the merge.
const maxInflightText = 64 << 20

// batch is the unit of work passed between stages: rows read from one row group, in input order.
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

// item is a worker's verdict on one record.
type item struct {
	stage  int // index in stageOrder where the row was dropped; len(stageOrder) when it passed all
	reason string
	detail string
	start  int // rendered line: arena[start:end]
	end    int
	// token formats: toks[tokStart:tokEnd] are the sample's ids (packed), ntok its length, train its trained span
	tokStart, tokEnd int
	ntok             int
	trainStart       int
	trainEnd         int
	tooLong          bool
	qChars, rChars   int        // lengths in runes, for the statistics
	sChars           int        // rendered sample length in runes; 0 when not rendered
	key              dedupe.Key // exact-duplicate key
	sigStart, sigEnd int        // sigs[sigStart:sigEnd] is the MinHash signature
}

// workerState is what one worker goroutine owns: its sample builder (tokenizer encoder with its cache) and scratch.
type workerState struct {
	build  *samples.Builder
	signer *dedupe.Signer
	sig    []byte
}

type runner struct {
	cfg     *Config
	st      *staging
	files   []*orca.File
	inputs  []Input
	ledger  *stats.Ledger
	data    *shard.Writer
	reject  *shard.Writer
	render  chatml.Options
	submix  map[string]bool
	bar     *progress.Bar
	pool    chan *batch
	rejLine []byte
	// token formats
	tok       *tokenizer.Tokenizer
	tokInfo   *TokenizerInfo
	tokFiles  []tokenizer.HFFile // OUT/tokenizer (tokenizer_dir.go)
	tokScheme Tokenization
	index     *shard.Writer
	idxLine   []byte
	packer    *packer
	// curation
	filters  *filter.Chain
	dedupe   *dedupe.Index
	template *dedupe.TemplateSet // shingles above max_shingle_df, from the first read (nil: off)
	timings  []stats.StageTiming
	collect  *stats.Collector
	obs      stats.Observation
	// streamPaused: the test hook for the stream phase has run (see pauseAt)
	streamPaused bool
}

func newRunner(cfg *Config, st *staging, files []*orca.File, inputs []Input, tok *tokenizer.Tokenizer, tokInfo *TokenizerInfo) (*runner, error) {
	comp, _ := shard.ParseCompression(cfg.Output.Compression)
	dataDir, err := st.path("data/.keep")
	if err != nil {
		return nil, err
	}
	rejDir, err := st.path("rejected/.keep")
	if err != nil {
		return nil, err
	}
	zc := 1
	data, err := shard.NewWriter(shard.Options{Dir: dirOf(dataDir), Prefix: cfg.Output.Prefix, Compression: comp,
		MaxRows: cfg.Output.MaxRows, MaxBytes: cfg.Output.MaxBytes, ZstdConcurrency: zc})
	if err != nil {
		return nil, err
	}
	reject, err := shard.NewWriter(shard.Options{Dir: dirOf(rejDir), Prefix: "rejected", Compression: comp, ZstdConcurrency: 1})
	if err != nil {
		return nil, err
	}
	sub := map[string]bool{}
	for _, s := range cfg.Select.Submixes {
		sub[s] = true
	}
	r := &runner{
		cfg: cfg, st: st, files: files, inputs: inputs,
		ledger: stats.NewLedger(stageOrder...),
		data:   data, reject: reject,
		render:  chatml.Options{Style: chatml.Style(cfg.ChatML.Style), EmptySystem: cfg.ChatML.EmptySystem},
		submix:  sub,
		collect: stats.NewCollector(),
		pool:    make(chan *batch, 4*cfg.Workers+4),
		tok:     tok, tokInfo: tokInfo,
	}
	if r.filters, err = filter.New(cfg.Filters); err != nil {
		return nil, exitcode.Errorf(exitcode.Usage, "filters: %w", err)
	}
	if r.dedupe, err = dedupe.NewIndex(cfg.Dedupe); err != nil {
		return nil, exitcode.Errorf(exitcode.Usage, "dedupe: %w", err)
	}
	var total int64
	for _, in := range inputs {
		if in.Selected {
			total += in.Rows
		}
	}
	r.dedupe.Reserve(int(total))
	if cfg.Format == FormatTokenized || cfg.Format == FormatPacked {
		idxDir, err := st.path("index/.keep")
		if err != nil {
			return nil, err
		}
		// The index mirrors data/ file for file: it never rotates by itself, only when data does.
		if r.index, err = shard.NewWriter(shard.Options{Dir: dirOf(idxDir), Prefix: cfg.Output.Prefix, Compression: comp, ZstdConcurrency: 1}); err != nil {
			return nil, err
		}
	}
	if cfg.Format == FormatPacked {
		if r.packer, err = newPacker(st); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *runner) abort() {
	r.data.Abort()
	r.reject.Abort()
	if r.index != nil {
		r.index.Abort()
	}
	if r.packer != nil {
		r.packer.close()
	}
}

// stream runs reader → workers → ordered merge. The first error cancels everything (errgroup); the
// in-flight window (pool tokens) bounds memory whatever the speed of each stage.
func (r *runner) stream(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	window := cap(r.pool)
	tokens := make(chan struct{}, window)
	// The window also holds at most maxInflightText bytes of input text (a batch with more takes it all),
	// so that batches of 100 MB values are not processed 4·workers at a time.
	inflight := semaphore.NewWeighted(maxInflightText)
	work := make(chan *batch, r.cfg.Workers)
	done := make(chan *batch, window)

	g.Go(func() error { // reader: each file's Scanner decodes pages on its own workers; this goroutine only hands batches on
		defer close(work)
		seq := 0
		for fi, f := range r.files {
			sel := r.inputs[fi].Selected
			o := orca.ScanOptions{IDsOnly: !sel, BatchRows: r.cfg.BatchSize, Workers: r.cfg.Workers}
			err := f.Each(ctx, o, func(recs []orca.Record) error {
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
				b := r.getBatch()
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
	for w := 0; w < r.cfg.Workers; w++ {
		ws := &workerState{}
		if r.cfg.Dedupe.Near.Enabled {
			ws.signer = dedupe.NewSigner(r.cfg.Dedupe.Near, r.template)
		}
		if r.tok != nil {
			ws.build = samples.NewBuilder(r.tok, r.render)
		}
		workers.Go(func() error {
			for b := range work {
				r.process(b, ws)
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

	g.Go(func() error { // ordered merge: the only goroutine that touches ledger, dedupe index and writers
		var order ordered.Buffer[*batch]
		for b := range done {
			err := order.Put(b.seq, b, func(nb *batch) error {
				if err := r.merge(ctx, nb); err != nil {
					return err
				}
				r.bar.AddBytes(textBytes(nb.recs))
				r.bar.Add(int64(len(nb.recs)))
				inflight.Release(nb.held) // before putBatch: the reader may take nb back at once
				r.putBatch(nb)
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

func (r *runner) getBatch() *batch {
	select {
	case b := <-r.pool:
		return b
	default:
		return &batch{}
	}
}

func (r *runner) putBatch(b *batch) {
	clear(b.recs) // let the strings go
	b.recs = b.recs[:0]
	// A batch that carried a huge value (100 MB) grew its buffers to match: pooled, every batch that ever
	// met one would keep that much memory for the rest of the run.
	if cap(b.arena) > maxPooledBuffer {
		b.arena = nil
	}
	select {
	case r.pool <- b:
	default:
	}
}

// process runs the per-row stages that need no shared state; it is called concurrently on different batches.
func (r *runner) process(b *batch, ws *workerState) {
	b.items = b.items[:0]
	b.arena = b.arena[:0]
	b.toks = b.toks[:0]
	b.sigs = b.sigs[:0]
	for i := range b.recs {
		rec := &b.recs[i]
		it := item{stage: stKept, ntok: -1}
		if b.selected {
			it.qChars, it.rChars = runeCount(rec.Question), runeCount(rec.Response)
		}
		switch {
		case !b.selected || !r.submix[rec.Submix()]:
			it.stage, it.reason = stSelect, stats.ReasonNotSelected
		case !validUTF8(rec):
			it.stage, it.reason, it.detail = stValidate, stats.ReasonInvalidUTF8, invalidField(rec)
		default:
			if reason, detail := r.filters.Apply(rec); reason != "" {
				it.stage, it.reason, it.detail = stFilter, reason, detail
				break
			}
			// Keys and signatures are pure functions of the row, so they are computed here in parallel;
			// only the lookups against earlier rows run in the ordered merge.
			if r.cfg.Dedupe.Exact.Enabled {
				it.key = dedupe.ExactKey(r.cfg.Dedupe.Exact, rec)
			}
			if r.cfg.Dedupe.Near.Enabled {
				ws.sig = ws.signer.Sign(rec, ws.sig) // overwrites its buffer
				it.sigStart = len(b.sigs)
				b.sigs = append(b.sigs, ws.sig...)
				it.sigEnd = len(b.sigs)
			}
			it.sChars = it.qChars + it.rChars + chatml.MarkupLen(rec, r.render)
			if chatml.HasSystem(rec, r.render) {
				it.sChars += runeCount(rec.SystemPrompt)
			}
			r.render1(b, &it, rec, ws)
		}
		b.items = append(b.items, it)
	}
}

// render1 tokenizes (when configured) and renders the output line of a row that passed the row-local stages.
func (r *runner) render1(b *batch, it *item, rec *orca.Record, ws *workerState) {
	if r.tok == nil {
		it.start = len(b.arena)
		b.arena = r.appendLine(b.arena, rec)
		it.end = len(b.arena)
		return
	}
	s := ws.build.Build(rec)
	it.ntok = len(s.IDs)
	if it.ntok > r.cfg.Packing.SequenceLen {
		if r.cfg.Packing.Excess == "drop" {
			it.tooLong = true
			it.detail = fmt.Sprintf("%d tokens > sequence_len %d", it.ntok, r.cfg.Packing.SequenceLen)
			return
		}
		s.IDs = s.IDs[:r.cfg.Packing.SequenceLen]
		s.TrainEnd = min(s.TrainEnd, len(s.IDs))
		s.TrainStart = min(s.TrainStart, len(s.IDs))
		it.ntok = len(s.IDs)
	}
	it.trainStart, it.trainEnd = s.TrainStart, s.TrainEnd
	switch r.cfg.Format {
	case FormatPacked:
		it.tokStart = len(b.toks)
		b.toks = append(b.toks, s.IDs...)
		it.tokEnd = len(b.toks)
	case FormatTokenized:
		it.start = len(b.arena)
		b.arena = appendTokenizedLine(b.arena, s)
		it.end = len(b.arena)
	default:
		it.start = len(b.arena)
		b.arena = r.appendLine(b.arena, rec)
		it.end = len(b.arena)
	}
}

// appendLine renders one output row in the configured format.
func (r *runner) appendLine(dst []byte, rec *orca.Record) []byte {
	dst = append(dst, `{"id":`...)
	dst = shard.AppendString(dst, rec.ID)
	switch r.cfg.Format {
	case FormatMessages:
		dst = append(dst, `,"messages":[`...)
		for i, m := range chatml.Messages(rec, r.render) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"role":`...)
			dst = shard.AppendString(dst, m.Role)
			dst = append(dst, `,"content":`...)
			dst = shard.AppendString(dst, m.Content)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	default: // text
		// Escaped piece by piece straight into dst: a huge response is never held raw and escaped at once.
		dst = append(dst, `,"text":"`...)
		dst = chatml.AppendTextWith(dst, rec, r.render, shard.AppendEscaped)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

// merge applies the ordered, stateful stages to a batch and writes its rows.
func (r *runner) merge(ctx context.Context, b *batch) error {
	if !r.streamPaused {
		r.streamPaused = true
		pauseAt(ctx, PhaseStream)
	}
	for i := range b.items {
		it := &b.items[i]
		rec := &b.recs[i]
		sub := rec.Submix()
		r.ledger.Read(sub)
		r.countNulls(rec)
		// Worker-side stages the row passed; dedupe and tokens are decided below, in order.
		for s := 0; s < min(it.stage, stDedupe); s++ {
			r.ledger.Pass(stageOrder[s])
		}
		if it.reason != "" {
			if err := r.drop(rec, sub, it, it.stage, it.reason, "", it.detail, b.selected); err != nil {
				return err
			}
			continue
		}
		// Ordered stages: dedupe (needs every earlier row), then the token budget.
		if reason, dupOf, detail := r.dedupe.Check(rec.ID, it.key, b.sigs[it.sigStart:it.sigEnd]); reason != "" {
			if err := r.drop(rec, sub, it, stDedupe, reason, dupOf, detail, true); err != nil {
				return err
			}
			continue
		}
		r.ledger.Pass(StageDedupe)
		if it.tooLong {
			if err := r.drop(rec, sub, it, stTokens, stats.ReasonTooLong, "", it.detail, true); err != nil {
				return err
			}
			continue
		}
		r.ledger.Pass(StageTokens)
		if err := r.keep(b, it, rec); err != nil {
			return err
		}
		r.ledger.Keep(sub)
		r.observe(rec, sub, it, true, "", "", "")
	}
	return nil
}

// observe feeds the statistics collector with one row's fate (called in input order, so deterministic).
func (r *runner) observe(rec *orca.Record, sub string, it *item, kept bool, reason, dupOf, detail string) {
	o := &r.obs
	*o = stats.Observation{ID: rec.ID, Submix: sub, SystemPrompt: rec.SystemPrompt,
		QuestionChars: it.qChars, ResponseChars: it.rChars, SampleChars: it.sChars, Tokens: it.ntok,
		Kept: kept, Reason: reason, Detail: detail, DuplicateOf: dupOf}
	r.collect.Observe(o)
}

func (r *runner) drop(rec *orca.Record, sub string, it *item, stage int, reason, dupOf, detail string, list bool) error {
	r.observe(rec, sub, it, false, reason, dupOf, detail)
	r.ledger.Drop(sub, stageOrder[stage], reason)
	if !list { // rows of unselected files are only counted: listing millions of them helps nobody
		return nil
	}
	return r.writeRejected(rec, reason, dupOf, detail)
}

// keep writes a kept row: its line (and index line), or, for packed output, its tokens to the spill.
func (r *runner) keep(b *batch, it *item, rec *orca.Record) error {
	if r.packer != nil {
		return r.packer.add(rec.ID, b.toks[it.tokStart:it.tokEnd], it.trainStart, it.trainEnd)
	}
	if err := r.data.WriteLine(b.arena[it.start:it.end]); err != nil {
		return exitcode.With(exitcode.Output, err)
	}
	if r.index != nil {
		return r.writeIndex(rec.ID)
	}
	return nil
}

// writeIndex records which sample ids the last data line holds, keeping index/ file-for-file with data/.
func (r *runner) writeIndex(ids ...string) error {
	name, row := r.data.Position()
	if r.index.Count() > 0 && r.index.Count() < r.data.Count() {
		if err := r.index.Rotate(); err != nil {
			return exitcode.With(exitcode.Output, err)
		}
	}
	l := append(r.idxLine[:0], `{"shard":`...)
	l = shard.AppendString(l, name)
	l = append(l, `,"row":`...)
	l = strconv.AppendInt(l, row, 10)
	l = append(l, `,"ids":[`...)
	for i, id := range ids {
		if i > 0 {
			l = append(l, ',')
		}
		l = shard.AppendString(l, id)
	}
	l = append(l, "]}"...)
	r.idxLine = l
	if err := r.index.WriteLine(l); err != nil {
		return exitcode.With(exitcode.Output, err)
	}
	return nil
}

func (r *runner) countNulls(rec *orca.Record) {
	if rec.Nulls == 0 {
		return
	}
	for i, col := range orca.Columns {
		if rec.Nulls&(1<<i) != 0 {
			r.ledger.Null(col)
		}
	}
}

func (r *runner) writeRejected(rec *orca.Record, reason, dupOf, detail string) error {
	l := r.rejLine[:0]
	l = append(l, `{"id":`...)
	l = shard.AppendString(l, rec.ID)
	l = append(l, `,"reason":`...)
	l = shard.AppendString(l, reason)
	if dupOf != "" {
		l = append(l, `,"duplicate_of":`...)
		l = shard.AppendString(l, dupOf)
	}
	if detail != "" {
		l = append(l, `,"detail":`...)
		l = shard.AppendString(l, detail)
	}
	l = append(l, `,"file":`...)
	l = shard.AppendString(l, r.inputs[rec.File].Name)
	l = append(l, `,"row":`...)
	l = fmt.Appendf(l, "%d}", rec.Row)
	r.rejLine = l
	if err := r.reject.WriteLine(l); err != nil {
		return exitcode.With(exitcode.Output, err)
	}
	return nil
}

func validUTF8(r *orca.Record) bool {
	return utf8.ValidString(r.ID) && utf8.ValidString(r.SystemPrompt) && utf8.ValidString(r.Question) && utf8.ValidString(r.Response)
}

func invalidField(r *orca.Record) string {
	for i, s := range []string{r.ID, r.SystemPrompt, r.Question, r.Response} {
		if !utf8.ValidString(s) {
			for j := 0; j < len(s); {
				c, n := utf8.DecodeRuneInString(s[j:])
				if c == utf8.RuneError && n == 1 {
					return fmt.Sprintf("%s: invalid UTF-8 at byte %d", orca.Columns[i], j)
				}
				j += n
			}
		}
	}
	return ""
}

// textBytes is the text volume of a batch, for progress (MB and MB/s).
func textBytes(recs []orca.Record) int64 {
	var n int
	for i := range recs {
		n += len(recs[i].ID) + len(recs[i].SystemPrompt) + len(recs[i].Question) + len(recs[i].Response)
	}
	return int64(n)
}
