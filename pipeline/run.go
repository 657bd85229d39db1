package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/progress"
	"github.com/orcaprep/orcaprep/report"
	"github.com/orcaprep/orcaprep/samples"
	"github.com/orcaprep/orcaprep/stats"
	"github.com/orcaprep/orcaprep/tokenizer"
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

	m, err := newMapper(&cfg, tok)
	if err != nil {
		return nil, err
	}
	var timings []stats.StageTiming
	if near := cfg.Dedupe.Near; near.Enabled && near.MaxShingleDF > 0 {
		tmpl, st, err := countShingleDF(ctx, scanFields(files, inputs, wholeFiles(len(files)), cfg.Workers), &cfg, selectedRows(inputs), m.selects)
		if err != nil {
			return nil, err
		}
		m.template = tmpl
		timings = append(timings, st)
	}
	rejDir, err := st.path("rejected/.keep")
	if err != nil {
		return nil, err
	}
	red, err := newReducer(&cfg, inputs, dirOf(rejDir))
	if err != nil {
		return nil, err
	}
	defer red.reject.Abort() // a no-op once closed
	out, err := newDirectWriter(&cfg, st)
	if err != nil {
		return nil, err
	}
	defer out.abort()
	red.out = out
	var pk *packer
	if cfg.Format == FormatPacked {
		if pk, err = newPacker(st); err != nil {
			return nil, err
		}
		defer pk.close()
		red.out = pk
	}
	bar := progress.New(o.Stderr, o.Progress, "orcaprep run", totalRows, progress.Rows)
	defer bar.Stop() // ends the bar's line on every path, so no message is glued to it
	rd := newStreamer(&cfg, files, inputs, m)
	rd.bar = bar
	if err := rd.stream(ctx, wholeFiles(len(files)), red.merge); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	bar.Finish()
	red.endStream()
	var packing *stats.PackingStat
	if pk != nil {
		if err := pk.writePacked(ctx, &cfg, out); err != nil {
			return nil, err
		}
		packing = pk.stats
	}
	if err := red.check(); err != nil {
		return nil, err
	}
	pauseAt(ctx, PhaseFinish)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Closing flushes the last bytes; a failure here is an output problem (disk full, permissions).
	var written outputFiles
	if written.data, written.index, err = out.close(); err != nil {
		return nil, err
	}
	if written.rejected, err = red.closeRejected(); err != nil {
		return nil, err
	}
	written.relative(st)
	doc := red.document(packing)
	doc.Timing = timing(time.Since(start).Seconds(), red.ledger.RowsRead, cfg.Workers, timings)
	if res, err = finishOutput(ctx, st, &cfg, o.Version, inputs, written, doc, tokenOut{info: tokInfo, files: tokFiles, scheme: tokScheme}); err != nil {
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
