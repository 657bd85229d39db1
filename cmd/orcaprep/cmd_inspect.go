package main

import (
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/spf13/cobra"
)

func init() {
	var o orca.InspectOptions
	c := &cobra.Command{
		Use:   "inspect FILE.parquet...",
		Short: "Show a Parquet file's schema, row groups, compression, row count and rows per submix",
		Long: `inspect checks that each file has the OpenOrca schema (string columns id, system_prompt,
question, response) and prints its layout. It reads only the id column.

` + exitcode.Help,
		Example: `  orcaprep inspect testdata/sample/openorca-sample.parquet
  orcaprep inspect --json ~/.cache/huggingface/hub/datasets--Open-Orca--OpenOrca/snapshots/*/1M-GPT4-Augmented.parquet`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = args
			return exitcode.With(exitcode.Input, orca.RunInspect(cmd.Context(), o, cmd.OutOrStdout()))
		},
	}
	c.Flags().BoolVar(&o.JSON, "json", false, "print JSON instead of text")
	addCommand(c)
}
