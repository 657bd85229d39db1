// Package validate checks an orcaprep output directory against its manifest: checksums, every line of every
// shard, token-level invariants of the tokenized and packed formats, the index sidecar, the row ledger, the
// tokenizer directory (OUT/tokenizer gives the shards' ids back) and the paths axolotl.yaml hands to Axolotl.
package validate
