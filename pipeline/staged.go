package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/orcaprep/orcaprep/dedupe"
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/samples"
	"github.com/orcaprep/orcaprep/stage"
	"github.com/orcaprep/orcaprep/stats"
	"github.com/orcaprep/orcaprep/tokenizer"
)

// This file is the INTERIM stage body (phase 1 of issue 14): it proves the staged run end to end by reusing the
// single-process run's own per-row code without restructuring run.go. Map runs runner.process (select,
// validate, filter, exact key, near signature, render, tokenize) on its row-group range and spills every row's
// verdict; reduce replays runner.merge over the spills in task order (dedupe, token budget, ledger, stats,
// writers, packing) and builds the whole output tree; write does nothing; finalize commits reduce's tree to OUT.
// So the output is the run's by construction, and the parallel part is the per-row work only. Phase 2 replaces
// it (stage/README.md): band hashes instead of full signatures, shards written by the write array, run.go split
// by stage so `run` composes the same stage code.

// stagedBody implements stage.Body for the pipeline.
type stagedBody struct {
	resolve Resolver
	version string
	workers int
}

// planBody is what the pipeline records in plan.json's "body".
type planBody struct {
	// BatchSize is the recipe's batch_size (not in the canonical recipe: it cannot change the output).
	BatchSize int `json:"batch_size"`
}

// stagedSpec turns a validated config and its expanded inputs into the plan spec.
func stagedSpec(cfg *Config, inputs []Input, tasks int, overwrite bool, version string) stage.Spec {
	recipe, sum := cfg.Canonical()
	spec := stage.Spec{Version: version, Tasks: tasks, Out: cfg.Out, Overwrite: overwrite, Recipe: recipe, RecipeSHA256: sum}
	for _, in := range inputs {
		spec.Inputs = append(spec.Inputs, stage.Source{Source: in.Source, Path: in.Path, Name: in.Name})
	}
	return spec
}

// recipe decodes the plan's recipe back into a Config and checks that it is exactly the planned one.
func recipe(p *stage.Plan) (*Config, planBody, error) {
	var cfg Config
	var pb planBody
	if err := json.Unmarshal(p.Recipe, &cfg); err != nil {
		return nil, pb, exitcode.Errorf(exitcode.Integrity, "plan recipe: %w", err)
	}
	if len(p.Body) > 0 {
		if err := json.Unmarshal(p.Body, &pb); err != nil {
			return nil, pb, exitcode.Errorf(exitcode.Integrity, "plan body: %w", err)
		}
	}
	if pb.BatchSize <= 0 {
		pb.BatchSize = DefaultConfig().BatchSize
	}
	cfg.Out, cfg.BatchSize = p.Out, pb.BatchSize
	if _, sum := cfg.Canonical(); sum != p.RecipeSHA256 {
		return nil, pb, exitcode.Errorf(exitcode.Integrity, "plan recipe does not round-trip (sha256 %.12s…, planned %.12s…)", sum, p.RecipeSHA256)
	}
	return &cfg, pb, nil
}

// planInputs are the pipeline's Inputs as planned.
func planInputs(cfg *Config, p *stage.Plan) []Input {
	out := make([]Input, len(p.Inputs))
	for i, in := range p.Inputs {
		out[i] = Input{Source: in.Source, Path: in.Path, Name: in.Name, Bytes: in.Bytes, Rows: in.Rows, Selected: cfg.fileSelected(in.Name)}
	}
	return out
}

func (b *stagedBody) tokenizer(ctx context.Context, cfg *Config) (*tokenizer.Tokenizer, *TokenizerInfo, error) {
	if cfg.Tokenizer.Path == "" {
		return nil, nil, nil
	}
	return samples.LoadTokenizer(ctx, cfg.Tokenizer.Path, cfg.Tokenizer.AddedTokens, samples.Resolver(b.resolve))
}

// Plan checks what `run` checks before reading (inputs have rows, the tokenizer loads: an hf:// tokenizer is
// downloaded into the Hub cache here, once) and records the batch size.
func (b *stagedBody) Plan(ctx context.Context, p *stage.Plan) error {
	for _, in := range p.Inputs {
		if in.Rows == 0 {
			return exitcode.Errorf(exitcode.Input, "input %s has no rows", in.Path)
		}
	}
	// As run does before any work: a non-empty OUT without --overwrite fails now, not after every task ran.
	if ents, err := os.ReadDir(p.Out); err == nil && len(ents) > 0 && !p.Overwrite {
		return exitcode.Errorf(exitcode.Output, "output directory %s is not empty; pass --overwrite to replace it", p.Out)
	}
	cfg, _, err := recipe(p)
	if err != nil {
		return err
	}
	_, _, err = b.tokenizer(ctx, cfg)
	return err
}

// mapFormat heads a map task's rows.bin.
const mapFormat = "orcaprep-map-interim/1\n"

// Map runs the row-local stages on the task's row groups and spills each row's verdict to rows.bin.
func (b *stagedBody) Map(ctx context.Context, t *stage.Task) error {
	cfg, _, err := recipe(t.Plan)
	if err != nil {
		return err
	}
	inputs := planInputs(cfg, t.Plan)
	tok, _, err := b.tokenizer(ctx, cfg)
	if err != nil {
		return err
	}
	r, err := newMapper(cfg, tok)
	if err != nil {
		return err
	}
	if near := cfg.Dedupe.Near; near.Enabled {
		// Template-aware near signatures need the shingle document frequencies of the whole input, as run's
		// first read computes them: this interim body has each map task read every selected input's questions
		// once (phase 2 turns this into per-task sketches that a reduce adds; dedupe.DFSketch.Merge).
		if near.MaxShingleDF > 0 {
			if r.template, err = stagedTemplates(ctx, cfg, inputs, r.submix, b.workers); err != nil {
				return err
			}
		}
	}
	ws := r.worker()
	f, err := os.Create(filepath.Join(t.Dir, "rows.bin"))
	if err != nil {
		return exitcode.Errorf(exitcode.Output, "create rows.bin: %w", err)
	}
	defer f.Close()
	enc := &spillWriter{w: bufio.NewWriterSize(f, 1<<20)}
	enc.w.WriteString(mapFormat)
	start := time.Now()
	bt := &batch{}
	for _, rg := range t.MapTask().Ranges {
		first, last, err := t.Plan.RowGroups(rg)
		if err != nil {
			return exitcode.With(exitcode.Integrity, err)
		}
		in := t.Plan.Inputs[rg.File]
		pf, err := orca.Open(in.Path, rg.File)
		if err != nil {
			return exitcode.With(exitcode.Input, err)
		}
		sel := inputs[rg.File].Selected
		for g := first; g < last; g++ {
			err = pf.ReadRowGroup(g, cfg.BatchSize, !sel, func(recs []orca.Record) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				bt.recs = append(bt.recs[:0], recs...)
				bt.selected = sel
				r.process(bt, ws)
				return enc.batch(bt)
			})
			if err != nil {
				pf.Close()
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return exitcode.With(exitcode.Input, err)
			}
		}
		pf.Close()
	}
	if err := enc.end(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return exitcode.Errorf(exitcode.Output, "write rows.bin: %w", err)
	}
	if enc.rows != t.MapTask().Rows {
		return exitcode.Errorf(exitcode.Integrity, "map task %d read %d rows, the plan says %d", t.Index, enc.rows, t.MapTask().Rows)
	}
	fmt.Fprintf(t.Stderr, "orcaprep map: task %d: %d rows in %.1fs\n", t.Index, enc.rows, time.Since(start).Seconds())
	return t.SetSummary(map[string]int64{"rows": enc.rows})
}

// Reduce replays the ordered stages over every map task's spill, in task order (= input order), and writes the
// complete output tree (shards, rejected, index, manifest, stats, report, axolotl.yaml) to out/.
func (b *stagedBody) Reduce(ctx context.Context, t *stage.Task) error {
	start := time.Now()
	cfg, _, err := recipe(t.Plan)
	if err != nil {
		return err
	}
	cfg.Workers = max(b.workers, 1)
	inputs := planInputs(cfg, t.Plan)
	tok, tokInfo, err := b.tokenizer(ctx, cfg)
	if err != nil {
		return err
	}
	// The staging directory is the task's out/; its "out" is the real OUT, which axolotl.yaml names.
	st := &staging{out: t.Plan.Out, dir: filepath.Join(t.Dir, "out")}
	if err := os.MkdirAll(st.dir, 0o755); err != nil {
		return exitcode.Errorf(exitcode.Output, "create %s: %w", st.dir, err)
	}
	tokFiles, tokScheme, err := tokenizerFiles(cfg, tok) // OUT/tokenizer, exactly as run writes it
	if err != nil {
		return err
	}
	rejDir := filepath.Join(st.dir, "rejected")
	if err := os.MkdirAll(rejDir, 0o755); err != nil {
		return exitcode.Errorf(exitcode.Output, "create %s: %w", rejDir, err)
	}
	red, err := newReducer(cfg, inputs, rejDir)
	if err != nil {
		return err
	}
	out, err := newDirectWriter(cfg, st)
	if err != nil {
		return err
	}
	red.out = out
	var pk *packer
	if cfg.Format == FormatPacked {
		if pk, err = newPacker(st); err != nil {
			return err
		}
		red.out = pk
	}
	ok := false
	defer func() {
		if !ok {
			red.reject.Abort()
			out.abort()
			if pk != nil {
				pk.close()
			}
		}
	}()
	bt := &batch{}
	for i := 0; i < t.Plan.Tasks; i++ {
		dir, _, err := t.Input(stage.Map, i)
		if err != nil {
			return err
		}
		if err := replay(ctx, filepath.Join(dir, "rows.bin"), bt, func(b *batch) error { return red.merge(ctx, b) }); err != nil {
			return fmt.Errorf("map task %d: %w", i, err)
		}
	}
	var packing *stats.PackingStat
	if pk != nil {
		if err := pk.writePacked(ctx, cfg, out); err != nil {
			return err
		}
		packing = pk.stats
	}
	if err := red.check(); err != nil {
		return err
	}
	var written outputFiles
	if written.data, written.index, err = out.close(); err != nil {
		return err
	}
	if written.rejected, err = red.closeRejected(); err != nil {
		return err
	}
	written.relative(st)
	doc := red.document(packing)
	doc.Timing = timing(time.Since(start).Seconds(), red.ledger.RowsRead, cfg.Workers, nil)
	if _, err := finishOutput(ctx, st, cfg, b.version, inputs, written, doc, tokenOut{info: tokInfo, files: tokFiles, scheme: tokScheme}); err != nil {
		return err
	}
	ok = true
	return t.SetSummary(map[string]int64{"rows_read": red.ledger.RowsRead, "rows_kept": red.ledger.RowsKept})
}

// Write does nothing in the interim body: reduce wrote the shards. Phase 2 writes whole shards here.
func (b *stagedBody) Write(ctx context.Context, t *stage.Task) error { return nil }

// Finalize copies reduce's output tree beside OUT (hard links where possible) and swaps it in atomically.
func (b *stagedBody) Finalize(ctx context.Context, t *stage.Task) error {
	dir, _, err := t.Input(stage.Reduce, 0)
	if err != nil {
		return err
	}
	src := filepath.Join(dir, "out")
	manifest, err := os.ReadFile(filepath.Join(src, "manifest.json"))
	if err != nil {
		return exitcode.Errorf(exitcode.Integrity, "reduce output: %w", err)
	}
	sum := sha256.Sum256(manifest)
	record := func() error {
		return t.SetSummary(map[string]string{"out": t.Plan.Out, "manifest_sha256": hex.EncodeToString(sum[:])})
	}
	// A finalize that committed OUT but died before its done marker: OUT already is this run's output.
	if cur, err := os.ReadFile(filepath.Join(t.Plan.Out, "manifest.json")); err == nil && bytes.Equal(cur, manifest) {
		return record()
	}
	reads := make([]string, len(t.Plan.Inputs))
	for i, in := range t.Plan.Inputs {
		reads[i] = in.Path
	}
	st, err := openOutput(t.Plan.Out, t.Plan.Overwrite, t.Stderr, reads)
	if err != nil {
		return err
	}
	defer st.close()
	if err := linkTree(src, st.dir); err != nil {
		return exitcode.Errorf(exitcode.Output, "copy output into %s: %w", st.dir, err)
	}
	if err := st.commit(ctx); err != nil {
		return err
	}
	return record()
}

// linkTree recreates src's files under dst, hard-linking each file (copying when links are impossible).
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if err := os.Link(path, target); err == nil {
			return nil
		}
		return copyFile(path, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// spillWriter encodes processed batches: per row the record fields merge reads (id, system prompt, nulls,
// file, row) and the worker's item, with its rendered line, token ids and signature inline.
type spillWriter struct {
	w    *bufio.Writer
	buf  []byte
	rows int64
}

func (s *spillWriter) batch(b *batch) error {
	p := binary.AppendUvarint(s.buf[:0], uint64(len(b.recs)))
	p = appendBool(p, b.selected)
	for i := range b.items {
		it := &b.items[i]
		p = appendStr(p, it.id)
		p = appendStr(p, it.system)
		p = append(p, it.nulls)
		p = binary.AppendUvarint(p, uint64(it.file))
		p = binary.AppendUvarint(p, uint64(it.row))
		p = binary.AppendUvarint(p, uint64(it.stage))
		p = appendStr(p, it.reason)
		p = appendStr(p, it.detail)
		p = binary.AppendVarint(p, int64(it.ntok))
		p = binary.AppendUvarint(p, uint64(it.trainStart))
		p = binary.AppendUvarint(p, uint64(it.trainEnd))
		p = appendBool(p, it.tooLong)
		p = binary.AppendUvarint(p, uint64(it.qChars))
		p = binary.AppendUvarint(p, uint64(it.rChars))
		p = binary.AppendUvarint(p, uint64(it.sChars))
		p = append(p, it.key[:]...)
		p = binary.AppendUvarint(p, uint64(it.sigEnd-it.sigStart))
		p = append(p, b.sigs[it.sigStart:it.sigEnd]...)
		p = binary.AppendUvarint(p, uint64(it.end-it.start))
		p = append(p, b.arena[it.start:it.end]...)
		p = binary.AppendUvarint(p, uint64(it.tokEnd-it.tokStart))
		for _, v := range b.toks[it.tokStart:it.tokEnd] {
			p = binary.LittleEndian.AppendUint32(p, uint32(v))
		}
	}
	s.buf = p
	s.rows += int64(len(b.recs))
	if _, err := s.w.Write(p); err != nil {
		return exitcode.Errorf(exitcode.Output, "write rows.bin: %w", err)
	}
	return nil
}

// end writes the terminating empty batch and the row count, so a truncated spill is detected on its own.
func (s *spillWriter) end() error {
	p := binary.AppendUvarint(s.buf[:0], 0)
	p = binary.AppendUvarint(p, uint64(s.rows))
	if _, err := s.w.Write(p); err != nil {
		return exitcode.Errorf(exitcode.Output, "write rows.bin: %w", err)
	}
	if err := s.w.Flush(); err != nil {
		return exitcode.Errorf(exitcode.Output, "write rows.bin: %w", err)
	}
	return nil
}

func appendStr(p []byte, s string) []byte {
	p = binary.AppendUvarint(p, uint64(len(s)))
	return append(p, s...)
}

func appendBool(p []byte, v bool) []byte {
	if v {
		return append(p, 1)
	}
	return append(p, 0)
}

var errSpill = errors.New("corrupt map spill")

// spillReader decodes a spill written by spillWriter.
type spillReader struct {
	r   *bufio.Reader
	err error
}

func (s *spillReader) uvarint() uint64 {
	if s.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(s.r)
	if err != nil {
		s.err = fmt.Errorf("%w: %v", errSpill, err)
	}
	return v
}

func (s *spillReader) varint() int64 {
	if s.err != nil {
		return 0
	}
	v, err := binary.ReadVarint(s.r)
	if err != nil {
		s.err = fmt.Errorf("%w: %v", errSpill, err)
	}
	return v
}

func (s *spillReader) bytes(dst []byte, n int) []byte {
	if s.err != nil {
		return dst
	}
	if n < 0 || n > 1<<30 {
		s.err = fmt.Errorf("%w: field of %d bytes", errSpill, n)
		return dst
	}
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	if _, err := io.ReadFull(s.r, dst[start:]); err != nil {
		s.err = fmt.Errorf("%w: %v", errSpill, err)
	}
	return dst
}

func (s *spillReader) str() string {
	n := s.uvarint()
	if s.err != nil || n == 0 {
		return ""
	}
	return string(s.bytes(nil, int(n)))
}

func (s *spillReader) byte1() byte {
	if s.err != nil {
		return 0
	}
	c, err := s.r.ReadByte()
	if err != nil {
		s.err = fmt.Errorf("%w: %v", errSpill, err)
	}
	return c
}

// replay decodes each batch of a spill into b and hands it to merge, in order.
func replay(ctx context.Context, path string, b *batch, merge func(*batch) error) error {
	f, err := os.Open(path)
	if err != nil {
		return exitcode.With(exitcode.Integrity, err)
	}
	defer f.Close()
	s := &spillReader{r: bufio.NewReaderSize(f, 1<<20)}
	head := s.bytes(nil, len(mapFormat))
	if s.err != nil || string(head) != mapFormat {
		return exitcode.Errorf(exitcode.Integrity, "%s: not an interim map spill", path)
	}
	var rows int64
	var tmp []byte
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := int(s.uvarint())
		if s.err != nil {
			break
		}
		if n == 0 {
			if got := int64(s.uvarint()); s.err == nil && got != rows {
				s.err = fmt.Errorf("%w: %d rows, trailer says %d", errSpill, rows, got)
			}
			break
		}
		b.selected = s.byte1() == 1
		b.recs, b.items = b.recs[:0], b.items[:0]
		b.arena, b.toks, b.sigs = b.arena[:0], b.toks[:0], b.sigs[:0]
		for i := 0; i < n && s.err == nil; i++ {
			var rec orca.Record
			var it item
			it.id = s.str()
			it.system = s.str()
			it.nulls = s.byte1()
			it.file = int(s.uvarint())
			it.row = int64(s.uvarint())
			rec.ID = it.id
			it.stage = int(s.uvarint())
			it.reason = s.str()
			it.detail = s.str()
			it.ntok = int(s.varint())
			it.trainStart = int(s.uvarint())
			it.trainEnd = int(s.uvarint())
			it.tooLong = s.byte1() == 1
			it.qChars = int(s.uvarint())
			it.rChars = int(s.uvarint())
			it.sChars = int(s.uvarint())
			tmp = s.bytes(tmp[:0], len(it.key))
			copy(it.key[:], tmp)
			ns := int(s.uvarint())
			it.sigStart = len(b.sigs)
			b.sigs = s.bytes(b.sigs, ns)
			it.sigEnd = len(b.sigs)
			nl := int(s.uvarint())
			it.start = len(b.arena)
			b.arena = s.bytes(b.arena, nl)
			it.end = len(b.arena)
			nt := int(s.uvarint())
			it.tokStart = len(b.toks)
			tmp = s.bytes(tmp[:0], 4*nt)
			for k := 0; k < nt && s.err == nil; k++ {
				b.toks = append(b.toks, int32(binary.LittleEndian.Uint32(tmp[4*k:])))
			}
			it.tokEnd = len(b.toks)
			b.recs = append(b.recs, rec)
			b.items = append(b.items, it)
		}
		if s.err != nil {
			break
		}
		rows += int64(n)
		if err := merge(b); err != nil {
			return err
		}
	}
	if s.err != nil {
		return exitcode.Errorf(exitcode.Integrity, "%s: %w", path, s.err)
	}
	return nil
}

// stagedTemplates runs run's first read (countShingleDF) over every selected input of the plan and returns the
// template set, so that a map task signs rows exactly as run does.
func stagedTemplates(ctx context.Context, cfg *Config, inputs []Input, submix map[string]bool, workers int) (*dedupe.TemplateSet, error) {
	files := make([]*orca.File, len(inputs))
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	var rows int64
	for i, in := range inputs {
		if !in.Selected {
			continue
		}
		f, err := orca.Open(in.Path, i)
		if err != nil {
			return nil, exitcode.With(exitcode.Input, err)
		}
		files[i] = f
		rows += in.Rows
	}
	dcfg := *cfg
	dcfg.Workers = max(workers, 1)
	tmpl, _, err := countShingleDF(ctx, readSelected(files, inputs), &dcfg, rows, func(rec *orca.Record) bool { return submix[rec.Submix()] })
	return tmpl, err
}
