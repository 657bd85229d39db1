package main

import (
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/progress"
	"github.com/orcaprep/orcaprep/synth"
	"github.com/spf13/cobra"
)

func init() {
	var (
		o     synth.SynthOptions
		quiet bool
	)
	c := &cobra.Command{
		Use:   "synth --rows N --seed S --out FILE.parquet [--labels FILE.jsonl]",
		Short: "Write deterministic OpenOrca-shaped Parquet with labelled defects (for tests, demos, benchmarks)",
		Long: `synth writes a Parquet file with OpenOrca's schema (four nullable string columns id, system_prompt,
question, response), submix mix (flan ≈47%, t0 ≈35%, cot ≈9%, niv ≈9%), the 16 Orca system prompts and
long-tailed lengths (median ≈600 characters, a few rows of ~100k). About 7% of rows carry a known defect:
exact and near duplicates, duplicate ids, empty/whitespace/NULL fields, refusals, hard negatives about AI,
non-ASCII text, huge rows and literal <|im_start|> text. --labels writes one JSON line per row saying
what it is ({"id","row","kinds","dup_of"}).

The same --rows and --seed always give byte-identical files.

` + exitcode.Help,
		Example: `  orcaprep synth --rows 20000 --seed 1 --out synth.parquet --labels synth.labels.jsonl
  orcaprep synth --rows 1000000 --seed 7 --out big.parquet --row-group-size 50000 --compression snappy --length-scale 1.4`,
		Args: noPositional("--out"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Log = cmd.ErrOrStderr()
			if quiet {
				o.Progress = progress.Never
			}
			return synth.RunSynth(cmd.Context(), o)
		},
	}
	f := c.Flags()
	f.IntVar(&o.Rows, "rows", 10000, "number of rows to write")
	f.Uint64Var(&o.Seed, "seed", 1, "random seed; the same seed gives the same file")
	f.StringVar(&o.Out, "out", "", "Parquet file to write (required)")
	f.StringVar(&o.Labels, "labels", "", "also write per-row labels as JSON Lines to this file")
	f.Int64Var(&o.RowGroupSize, "row-group-size", synth.DefaultRowGroupSize, "rows per Parquet row group")
	f.StringVar(&o.Compression, "compression", "zstd", "Parquet compression: zstd, snappy, gzip or none")
	f.Float64Var(&o.InvalidUTF8Rate, "invalid-utf8-rate", 0, "fraction of rows with invalid UTF-8 bytes in question or response")
	f.Float64Var(&o.LengthScale, "length-scale", 1, "multiply the median question/response lengths (1.4 ≈ the real GPT-4 file's bytes per row)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress")
	addCommand(c)
}
