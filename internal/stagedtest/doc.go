// Package stagedtest holds the staged run's acceptance tests: the built orcaprep binary (not under the race
// detector) on a real one-node Slurm, byte-identical to `orcaprep run`, and a cancelled task resumed.
package stagedtest
