package main

import (
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/pipeline"
	"github.com/spf13/cobra"
)

func init() {
	var (
		configPath string
		o          pipeline.CLIOverrides
	)
	c := &cobra.Command{
		Use:   "run",
		Short: "Build the curated dataset: read Parquet, select, filter, dedupe, render ChatML, write JSONL shards",
		Long: `run executes a recipe (a YAML file from configs/) end to end and writes OUT/:
  data/train-NNNNN.jsonl[.zst]   the training shards
  rejected/rejected-NNNNN.jsonl  one line per dropped row: id, reason, duplicate_of, detail
  manifest.json                  version, effective config and its sha256, inputs, shards with sha256
  stats.json                     the ledger: rows_read = rows_kept + sum(dropped), per submix and stage

Flags override the config. OUT must be empty or absent unless --overwrite; it is replaced only
when the run succeeds, so a failed run never leaves half-written output.

` + exitcode.Help,
		Example: `  orcaprep run --config configs/sample.yaml
  orcaprep run --input data/1M-GPT4-Augmented.parquet --out out/ --format messages
  orcaprep run --config configs/llongorca-7b-16k.yaml --workers 8 --overwrite`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Changed = func(name string) bool { return cmd.Flags().Changed(name) }
			return pipeline.RunCLI(cmd.Context(), configPath, o, pipeline.CLIEnv{
				Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(), Version: version, Resolve: resolverFor(o.Quiet),
			})
		},
	}
	f := c.Flags()
	f.StringVarP(&configPath, "config", "c", "", "YAML recipe (see configs/)")
	f.StringArrayVarP(&o.Inputs, "input", "i", nil, "input Parquet file, glob, directory or hf:// reference (repeatable; replaces the config's inputs)")
	f.StringVarP(&o.Out, "out", "o", "", "output directory")
	f.StringVar(&o.Format, "format", "", "output format: messages|text|tokenized|packed (default from config, else text)")
	f.IntVar(&o.Workers, "workers", 0, "parallel workers, and the most cores the run uses (0 = every CPU); output is identical for any value")
	f.StringVar(&o.Tokenizer, "tokenizer", "", "tokenizer.model, tokenizer.json or hf:// reference (needed by tokenized and packed)")
	f.IntVar(&o.SequenceLen, "sequence-len", 0, "longest sample / packed row in tokens (default 16384)")
	f.BoolVar(&o.Overwrite, "overwrite", false, "replace a non-empty output directory")
	f.StringVar(&o.Compression, "compression", "", "shard compression: none|zstd")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "no progress and no summary")
	addCommand(c)
}
