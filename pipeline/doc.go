// Package pipeline wires orcaprep's stages into one streaming run: read Parquet row groups, select,
// filter, render and hash rows on parallel workers, then dedupe, ledger and write in input order.
package pipeline
