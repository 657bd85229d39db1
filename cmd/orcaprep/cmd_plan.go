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
		Use:   "plan --work DIR --tasks N [run flags]",
		Short: "Stage command: write the staged run's plan (row-group ranges per task, recipe, input fingerprints) to DIR/plan.json",
		Long: `plan reads the inputs' Parquet footers, splits their row groups into N contiguous ranges balanced
by rows, and writes DIR/plan.json with the effective recipe and a fingerprint of every input. The stage
commands (df, templates, map, reduce, write, finalize) then run from DIR alone. ` + "`run --executor`" + ` plans by itself;
use plan to drive the stages with another scheduler (a Kubernetes Indexed Job: configs/kubernetes/).

An existing plan is kept when it matches (same recipe, inputs, N and output) and refused otherwise.

` + exitcode.Help,
		Example: `  orcaprep plan --config configs/llongorca-7b-16k.yaml --work /shared/work --tasks 64`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Changed = func(name string) bool { return cmd.Flags().Changed(name) }
			return pipeline.PlanCLI(cmd.Context(), configPath, o, pipeline.CLIEnv{
				Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(), Version: version, Resolve: resolverFor(o.Quiet),
			})
		},
	}
	addRecipeFlags(c, &configPath, &o)
	f := c.Flags()
	f.IntVar(&o.Staged.Tasks, "tasks", 0, "tasks of the map and write arrays")
	f.StringVar(&o.Staged.Work, "work", "", "work directory shared by every task")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "print nothing")
	addCommand(c)
}
