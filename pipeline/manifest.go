package pipeline

import (
	"context"
	"encoding/json"
	"path/filepath"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/report"
	"github.com/orcaprep/orcaprep/shard"
	"github.com/orcaprep/orcaprep/stats"
)

// Manifest is OUT/manifest.json: what was read, with which recipe, and every file written with its checksum.
// It holds nothing that changes between identical runs (no timestamps), so it is reproducible to the byte.
type Manifest struct {
	Tool         string          `json:"tool"`
	Version      string          `json:"version"`
	Format       string          `json:"format"`
	Config       json.RawMessage `json:"config"`
	ConfigSHA256 string          `json:"config_sha256"`
	Inputs       []Input         `json:"inputs"`
	Shards       []shard.Info    `json:"shards"`
	Rejected     []shard.Info    `json:"rejected"`
	// Index mirrors Shards file for file (token formats): which sample ids each row holds.
	Index     []shard.Info   `json:"index,omitempty"`
	Tokenizer *TokenizerInfo `json:"tokenizer,omitempty"`
	// TokenizerDir is OUT/tokenizer, written whenever a tokenizer is configured (any format).
	TokenizerDir *TokenizerDir `json:"tokenizer_dir,omitempty"`
	SequenceLen  int           `json:"sequence_len,omitempty"`
	RowsRead     int64         `json:"rows_read"`
	RowsKept     int64         `json:"rows_kept"`
}

// Stats is OUT/stats.json (see the stats package). Timing is the only part that varies between runs.
type Stats = stats.Document

func dirOf(p string) string { return filepath.Dir(p) }

// finish closes the writers and writes manifest.json and stats.json into the staging directory. ctx is
// checked between files; manifest.json, the file that makes the directory an orcaprep output, comes last.
func (r *runner) finish(ctx context.Context, o Options, start time.Time) (*Result, error) {
	pauseAt(ctx, PhaseFinish)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Closing flushes the last bytes; a failure here is an output problem (disk full, permissions).
	shards, err := r.data.Close()
	if err != nil {
		return nil, exitcode.With(exitcode.Output, err)
	}
	rejected, err := r.reject.Close()
	if err != nil {
		return nil, exitcode.With(exitcode.Output, err)
	}
	var index []shard.Info
	if r.index != nil {
		if index, err = r.index.Close(); err != nil {
			return nil, exitcode.With(exitcode.Output, err)
		}
	}
	for _, list := range [][]shard.Info{shards, rejected, index} {
		for i := range list {
			list[i].Path = r.st.rel(list[i].Path)
		}
	}
	cfgJSON, cfgSum := r.cfg.Canonical()
	m := &Manifest{
		Tool: "orcaprep", Version: o.Version, Format: r.cfg.Format,
		Config: cfgJSON, ConfigSHA256: cfgSum,
		Inputs: r.inputs, Shards: nonNil(shards), Rejected: nonNil(rejected),
		RowsRead: r.ledger.RowsRead, RowsKept: r.ledger.RowsKept,
	}
	m.Tokenizer = r.tokInfo
	if r.index != nil {
		m.Index = nonNil(index)
		m.SequenceLen = r.cfg.Packing.SequenceLen
	}
	if m.TokenizerDir, err = r.writeTokenizerDir(); err != nil {
		return nil, err
	}
	el := time.Since(start).Seconds()
	dist := r.collect.Result()
	s := &Stats{Ledger: r.ledger, Distributions: &dist, Packing: r.packStats(),
		Timing: stats.Timing{Seconds: round3(el), RowsPerSec: round3(float64(r.ledger.RowsRead) / el), Workers: r.cfg.Workers, Stages: r.timings}}
	for _, in := range r.inputs {
		s.Inputs = append(s.Inputs, stats.InputStat{Source: in.Source, Name: in.Name, Bytes: in.Bytes, Rows: in.Rows, Selected: in.Selected})
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := r.st.writeJSON("stats.json", s); err != nil {
		return nil, err
	}
	outAbs, err := filepath.Abs(r.st.out)
	if err != nil {
		return nil, err
	}
	axo, err := r.st.path("axolotl.yaml")
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(axo, []byte(axolotlYAML(r.cfg, outAbs, m))); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	html, err := r.st.path("report.html")
	if err != nil {
		return nil, err
	}
	if err := report.WriteFile(html, s, report.HTML); err != nil {
		return nil, exitcode.With(exitcode.Output, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := r.st.writeJSON("manifest.json", m); err != nil {
		return nil, err
	}
	return &Result{Out: r.st.out, Manifest: m, Stats: s}, nil
}

func nonNil(s []shard.Info) []shard.Info {
	if s == nil {
		return []shard.Info{}
	}
	return s
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

func (r *runner) packStats() *stats.PackingStat {
	if r.packer == nil {
		return nil
	}
	return r.packer.stats
}
