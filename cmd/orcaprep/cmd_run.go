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

Flags override the config. OUT must be absent or empty, or hold an earlier orcaprep output and
--overwrite be given (a directory holding anything orcaprep did not write is never replaced). OUT is
locked for the run (a second run on it fails at once) and replaced in one atomic step only when the
run succeeds: a failed, interrupted (Ctrl-C, SIGTERM: exit 130) or killed run leaves OUT as it was,
and the next run removes what a killed one left beside it.

Progress on a terminal reads, for example:
  orcaprep run (112 MB text)  47% |█████████     | (467200/994896, 36120 rows/s) [12s:14s]
that is: 112 MB of question/response/system text read so far, 47% of the input rows, rows done/total,
speed, and [elapsed:estimated time left]. Packed output then spends a few more seconds packing and
writing rows. Without a terminal a line is printed every 10 s instead; --quiet prints nothing.

With --executor local|slurm --tasks N --work DIR the run is split into stage tasks (plan, map array,
reduce, write array, finalize; see stage/README.md) run as local processes or Slurm job arrays that
share DIR. Each task commits atomically with a checksummed done marker; running the same command
again after a failure runs only the tasks that are not done.

` + exitcode.Help,
		Example: `  orcaprep run --config configs/sample.yaml
  orcaprep run --input data/1M-GPT4-Augmented.parquet --out out/ --format messages
  orcaprep run --config configs/llongorca-7b-16k.yaml --workers 8 --overwrite
  orcaprep run --config configs/llongorca-7b-16k.yaml --executor slurm --tasks 64 --work /shared/orcaprep-work \
      --sbatch-arg=--partition=cpu --sbatch-arg=--time=2:00:00`,
		Args: noPositional("--input"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Changed = func(name string) bool { return cmd.Flags().Changed(name) }
			return pipeline.RunCLI(cmd.Context(), configPath, o, pipeline.CLIEnv{
				Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(), Version: version, Resolve: resolverFor(o.Quiet),
			})
		},
	}
	addRecipeFlags(c, &configPath, &o)
	f := c.Flags()
	f.IntVar(&o.Workers, "workers", 0, "parallel workers, and the most cores the run uses (0 = every CPU); output is identical for any value")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "no progress and no summary")
	f.StringVar(&o.Staged.Executor, "executor", "", "run as stage tasks: local (subprocesses) or slurm (sbatch job arrays); needs --tasks and --work")
	f.IntVar(&o.Staged.Tasks, "tasks", 0, "with --executor: tasks of the map and write arrays")
	f.StringVar(&o.Staged.Work, "work", "", "with --executor: work directory shared by every task (plan, intermediates, logs); re-running resumes it")
	f.StringArrayVar(&o.Staged.SbatchArgs, "sbatch-arg", nil, "with --executor slurm: an #SBATCH option for every job, or STAGE:OPTION for one stage (repeatable), e.g. --sbatch-arg=--partition=cpu --sbatch-arg=reduce:--mem=64G")
	f.BoolVar(&o.Staged.DryRun, "dry-run", false, "with --executor: write the plan, print the commands (local) or a submission script (slurm), run nothing")
	f.IntVar(&o.Staged.Parallel, "parallel", 0, "with --executor local: tasks running at once (0 = number of CPUs)")
	f.IntVar(&o.Staged.MaxRunning, "max-running", 0, "with --executor slurm: running tasks per array (--array=…%N; 0 = no cap)")
	f.DurationVar(&o.Staged.Poll, "poll", 0, "with --executor: how often to check progress and the Slurm queue (default 2s)")
	f.MarkHidden("poll")
	addCommand(c)
}

// addRecipeFlags declares the flags that build the recipe; run and plan share them.
func addRecipeFlags(c *cobra.Command, configPath *string, o *pipeline.CLIOverrides) {
	f := c.Flags()
	f.StringVarP(configPath, "config", "c", "", "YAML recipe (see configs/)")
	f.StringArrayVarP(&o.Inputs, "input", "i", nil, "input Parquet file, glob, directory or hf:// reference (repeatable; replaces the config's inputs)")
	f.StringVarP(&o.Out, "out", "o", "", "output directory")
	f.StringVar(&o.Format, "format", "", "output format: messages|text|tokenized|packed (default from config, else text)")
	f.StringVar(&o.Tokenizer, "tokenizer", "", "tokenizer.model, tokenizer.json or hf:// reference (needed by tokenized and packed)")
	f.IntVar(&o.SequenceLen, "sequence-len", 0, "longest sample / packed row in tokens (default 16384)")
	f.BoolVar(&o.Overwrite, "overwrite", false, "replace an earlier orcaprep output in OUT (never a directory holding files orcaprep did not write)")
	f.StringVar(&o.Compression, "compression", "", "shard compression: none|zstd")
}
