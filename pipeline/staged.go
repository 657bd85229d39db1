package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"runtime"
	"syscall"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/samples"
	"github.com/orcaprep/orcaprep/stage"
	"github.com/orcaprep/orcaprep/tokenizer"
)

// The staged run's body (stage.Body): the stages of `run` spread over tasks that share a work directory.
//
//	df ×N         staged_df.go      shingle counts of map range i (only for template-aware near dedupe)
//	templates ×N  staged_df.go      slice j of every df sketch added, thresholded into template bits
//	map ×N        staged_map.go     read.go + map.go over range i → records.bin + payload.bin (record.go)
//	reduce ×1     staged_reduce.go  reduce.go over every records.bin in order → rejected/, the shard plan
//	write ×N      staged_write.go   whole shards s ≡ i (mod N): the planned rows' payloads → data/, index/
//	finalize ×1   staged_finish.go  finish.go: manifest, stats, report, axolotl.yaml, OUT/tokenizer, commit
//
// Each stage calls the same code `run` calls (the files named), so the two paths cannot drift apart; what the
// staged run adds is only how the batches, the kept rows and the files travel between processes.

// stagedBody implements stage.Body for the pipeline.
type stagedBody struct {
	resolve Resolver
	version string
	// workers is --workers of a stage command (0: the number of CPUs).
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

// recipe decodes the plan's recipe back into a Config and checks that it is exactly the planned one. Workers
// is the stage command's --workers (or the number of CPUs).
func (b *stagedBody) recipe(p *stage.Plan) (*Config, error) {
	var cfg Config
	var pb planBody
	if err := json.Unmarshal(p.Recipe, &cfg); err != nil {
		return nil, exitcode.Errorf(exitcode.Integrity, "plan recipe: %w", err)
	}
	if len(p.Body) > 0 {
		if err := json.Unmarshal(p.Body, &pb); err != nil {
			return nil, exitcode.Errorf(exitcode.Integrity, "plan body: %w", err)
		}
	}
	if pb.BatchSize <= 0 {
		pb.BatchSize = DefaultConfig().BatchSize
	}
	cfg.Out, cfg.BatchSize = p.Out, pb.BatchSize
	if _, sum := cfg.Canonical(); sum != p.RecipeSHA256 {
		return nil, exitcode.Errorf(exitcode.Integrity, "plan recipe does not round-trip (sha256 %.12s…, planned %.12s…)", sum, p.RecipeSHA256)
	}
	cfg.Workers = b.workers
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	return &cfg, nil
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

// needsDF reports whether the recipe's near dedupe is template-aware, which needs the DF pass.
func needsDF(cfg *Config) bool { return cfg.Dedupe.Near.Enabled && cfg.Dedupe.Near.MaxShingleDF > 0 }

// Plan checks what `run` checks before reading (inputs have rows, the tokenizer loads and can be written as
// OUT/tokenizer: an hf:// tokenizer is downloaded into the Hub cache here, once) and gives the DF stages their
// tasks when the recipe needs them.
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
	cfg, err := b.recipe(p)
	if err != nil {
		return err
	}
	tok, _, err := b.tokenizer(ctx, cfg)
	if err != nil {
		return err
	}
	if _, _, err := tokenizerFiles(cfg, tok); err != nil {
		return err
	}
	if needsDF(cfg) {
		p.StageTasks = map[string]int{stage.DF: p.Tasks, stage.Templates: p.Tasks}
	}
	return nil
}

// openRanges opens the inputs of a task's ranges and returns them by input index (nil for the others), the
// ranges as spans of row groups, and a func closing the files.
func openRanges(p *stage.Plan, ranges []stage.Range) ([]*orca.File, []span, func(), error) {
	files := make([]*orca.File, len(p.Inputs))
	closeAll := func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}
	var spans []span
	for _, r := range ranges {
		first, last, err := p.RowGroups(r)
		if err != nil {
			closeAll()
			return nil, nil, nil, exitcode.With(exitcode.Integrity, err)
		}
		if first == last {
			continue
		}
		if files[r.File] == nil {
			f, err := orca.Open(p.Inputs[r.File].Path, r.File)
			if err != nil {
				closeAll()
				return nil, nil, nil, exitcode.With(exitcode.Input, err)
			}
			files[r.File] = f
		}
		spans = append(spans, span{file: r.File, from: first, to: last})
	}
	return files, spans, closeAll, nil
}

// maxRSS is this process's peak resident memory in bytes (0 where unknown).
func maxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024 // kilobytes on Linux
}

// taskSummary is what every task's done-marker summary holds (finalize reports it per stage in stats.json).
type taskSummary struct {
	Rows        int64 `json:"rows"`
	MaxRSSBytes int64 `json:"max_rss_bytes"`
}
