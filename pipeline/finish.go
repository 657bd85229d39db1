package pipeline

import (
	"context"
	"path/filepath"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/report"
	"github.com/orcaprep/orcaprep/shard"
	"github.com/orcaprep/orcaprep/stats"
)

// The finish stage: with every shard written, the files that describe them — OUT/tokenizer, stats.json,
// axolotl.yaml, report.html and, last, manifest.json — go into the staging directory, which is then
// committed to OUT atomically. `run` and a staged finalize task call the same finishOutput.

// outputFiles are the shard files written, with paths relative to OUT.
type outputFiles struct {
	data, rejected, index []shard.Info
}

// relative rewrites the files' paths relative to the staging directory (= OUT).
func (f *outputFiles) relative(st *staging) {
	for _, list := range [][]shard.Info{f.data, f.rejected, f.index} {
		for i := range list {
			list[i].Path = st.rel(list[i].Path)
		}
	}
}

// buildManifest is manifest.json for a finished output: a pure function of the recipe, the inputs, the files
// written and the tokenizer, so that `run` and a staged run write the same bytes.
func buildManifest(cfg *Config, version string, inputs []Input, files outputFiles, doc *Stats, tok tokenOut) *Manifest {
	cfgJSON, cfgSum := cfg.Canonical()
	m := &Manifest{
		Tool: "orcaprep", Version: version, Format: cfg.Format,
		Config: cfgJSON, ConfigSHA256: cfgSum,
		Inputs: inputs, Shards: nonNil(files.data), Rejected: nonNil(files.rejected),
		RowsRead: doc.RowsRead, RowsKept: doc.RowsKept,
		Tokenizer: tok.info, TokenizerDir: tokenizerDir(tok),
	}
	if hasIndex(cfg) {
		m.Index = nonNil(files.index)
		m.SequenceLen = cfg.Packing.SequenceLen
	}
	return m
}

// finishOutput writes the description files of a finished output into the staging directory. doc is
// stats.json complete with its timing. ctx is checked between files; manifest.json, the file that makes the
// directory an orcaprep output, comes last.
func finishOutput(ctx context.Context, st *staging, cfg *Config, version string, inputs []Input, files outputFiles, doc *Stats, tok tokenOut) (*Result, error) {
	m := buildManifest(cfg, version, inputs, files, doc, tok)
	if err := writeTokenizerDir(st, tok); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := st.writeJSON("stats.json", doc); err != nil {
		return nil, err
	}
	outAbs, err := filepath.Abs(st.out)
	if err != nil {
		return nil, err
	}
	axo, err := st.path("axolotl.yaml")
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(axo, []byte(axolotlYAML(cfg, outAbs, m))); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	html, err := st.path("report.html")
	if err != nil {
		return nil, err
	}
	if err := report.WriteFile(html, doc, report.HTML); err != nil {
		return nil, exitcode.With(exitcode.Output, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := st.writeJSON("manifest.json", m); err != nil {
		return nil, err
	}
	return &Result{Out: st.out, Manifest: m, Stats: doc}, nil
}

// timing is stats.json's timing of a run of el seconds over rows input rows.
func timing(el float64, rows int64, workers int, stages []stats.StageTiming) stats.Timing {
	t := stats.Timing{Seconds: round3(el), Workers: workers, Stages: stages}
	if el > 0 {
		t.RowsPerSec = round3(float64(rows) / el)
	}
	return t
}
