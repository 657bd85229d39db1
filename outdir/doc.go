// Package outdir owns an output directory's life: one run at a time (a lock beside it), a staging directory
// beside it that replaces OUT in one atomic swap, debris of killed runs reclaimed, and an --overwrite that
// never deletes a file orcaprep did not write.
package outdir
