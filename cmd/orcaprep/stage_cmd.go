package main

import (
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/pipeline"
	"github.com/spf13/cobra"
)

// stageCommand builds one of the stage commands (map, reduce, write, finalize): they take only the work
// directory and the task index, because everything else is in DIR/plan.json.
func stageCommand(name, short, long string, array bool) *cobra.Command {
	o := pipeline.StageCLI{Stage: name}
	use := name + " --work DIR"
	if array {
		use += " [--task I | --task-offset K]"
		long += `

The task index is --task, else SLURM_ARRAY_TASK_ID (+ --task-offset, for the second and later arrays of a
stage split under Slurm's MaxArraySize), else JOB_COMPLETION_INDEX (Kubernetes Indexed Job). The task count
is the plan's.`
	}
	c := &cobra.Command{
		Use:   use,
		Short: "Stage command: " + short,
		Long: long + `

A task that is already done (valid done marker) exits 0 at once; a task commits its outputs atomically
with a done marker listing each file's sha256, and records why it failed otherwise.

` + exitcode.Help,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return pipeline.RunStageCLI(cmd.Context(), o, pipeline.CLIEnv{
				Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(), Version: version, Resolve: resolverFor(true),
			})
		},
	}
	f := c.Flags()
	f.StringVar(&o.Work, "work", "", "work directory (holds plan.json)")
	// Single-task stages take --task too (only 0 is valid), so every stage has the same command line.
	f.IntVar(&o.Task, "task", -1, "task index (default: from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX; 0 for a single-task stage)")
	f.IntVar(&o.TaskOffset, "task-offset", 0, "added to an index read from the environment")
	f.IntVar(&o.Workers, "workers", 0, "parallel workers inside the task (0 = number of CPUs)")
	return c
}
