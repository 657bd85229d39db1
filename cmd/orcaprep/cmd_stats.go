package main

import (
	"github.com/orcaprep/orcaprep/chatml"
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/progress"
	"github.com/orcaprep/orcaprep/report"
	"github.com/spf13/cobra"
)

func init() {
	var (
		o      report.Options
		format string
		style  string
		inputs []string
		quiet  bool
	)
	c := &cobra.Command{
		Use:   "stats OUT | stats --input FILE.parquet...",
		Short: "Report what a run kept and dropped (text, JSON, Markdown or a self-contained HTML page with charts)",
		Long: `stats renders OUT/stats.json, written by "orcaprep run", as a report:
  text      terminal summary: ledger, drop reasons, submixes, length percentiles with sparklines
  json      the stats.json document itself (checked: the ledger must add up)
  markdown  GitHub-flavoured Markdown tables
  html      one self-contained page (inline CSS and SVG charts, no scripts, no network): ledger
            waterfall, length histograms, submixes, drop reasons with examples, packing

With --input it profiles raw Parquet files instead, without writing any shards: every row counts as
kept, and the report shows what the input holds. Positional arguments after --input are inputs too,
so shell globs work. The output file is written under a temporary name and renamed.

` + exitcode.Help,
		Example: `  orcaprep stats out/
  orcaprep stats out/ --format html --output out/report.html
  orcaprep stats out/ --format markdown > REPORT.md
  orcaprep stats --input data/*.parquet --format html --output input-profile.html
  orcaprep stats --input data/1M-GPT4-Augmented.parquet --tokenizer tokenizer.model --style openorca-2023`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(inputs) > 0 {
				o.Inputs = append(append([]string{}, inputs...), args...)
			} else {
				if len(args) != 1 {
					return exitcode.Errorf(exitcode.Usage, "stats needs one OUT directory (or --input FILE.parquet...), got %d arguments", len(args))
				}
				o.Dir = args[0]
			}
			f, err := report.ParseFormat(format)
			if err != nil {
				return exitcode.With(exitcode.Usage, err)
			}
			o.Format, o.Style, o.Resolve = f, chatml.Style(style), resolveRef
			o.Stderr = cmd.ErrOrStderr()
			if quiet {
				o.Progress = progress.Never
			}
			return report.Run(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	fl := c.Flags()
	fl.StringVarP(&format, "format", "f", "text", "report format: text|json|markdown|html")
	fl.StringVarP(&o.Output, "output", "o", "", "write the report to FILE instead of stdout")
	fl.StringArrayVarP(&inputs, "input", "i", nil, "profile this Parquet file or hf:// reference instead of reading OUT/stats.json (repeatable)")
	fl.StringVar(&style, "style", string(chatml.StyleChatML), "ChatML rendering measured as sample length when profiling: chatml|openorca-2023")
	fl.StringVar(&o.Tokenizer, "tokenizer", "", "when profiling, also count each row's tokens with this tokenizer.model / tokenizer.json / hf:// reference")
	fl.StringArrayVar(&o.AddedTokens, "added-token", []string{"<pad>", chatml.ImStart, chatml.ImEnd}, "token appended to the tokenizer's vocabulary (repeatable; the default is LlongOrca's)")
	fl.IntVar(&o.Workers, "workers", 0, "parallel readers when profiling (0 = number of CPUs); the report is the same for any value")
	fl.BoolVarP(&quiet, "quiet", "q", false, "no progress while profiling")
	addCommand(c)
}
