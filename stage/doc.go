// Package stage runs orcaprep as staged, resumable tasks (plan → map array → reduce → write array → finalize)
// in a shared work directory, with checksummed done markers, on local processes or Slurm job arrays.
//
// The package knows nothing about what a stage computes: that is a Body (pipeline implements it). It owns the
// work-directory layout, the plan (row-group ranges balanced by rows, recipe and input fingerprints), the task
// index from flags or the scheduler's environment, atomic task commits, and the executors. README.md is the
// design note.
package stage
