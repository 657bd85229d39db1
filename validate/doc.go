// Package validate checks an orcaprep output directory against its manifest: checksums, every line of every
// shard, token-level invariants of the tokenized and packed formats, the index sidecar and the row ledger.
package validate
