// Package dedupe removes exact and near-duplicate rows, first occurrence in input order wins, and names the
// kept row each dropped duplicate repeats.
//
// ExactKey and Signer.Sign are pure and run in the pipeline's parallel workers; Index.Check is stateful
// and is called from one goroutine in input order, so results do not depend on the worker count. Exact keys
// are XXH3-128 over NFKC + case-folded + whitespace-collapsed fields; near duplicates are found by MinHash
// (one-permutation hashing over word n-grams) with LSH banding and confirmed by a b-bit MinHash Jaccard
// estimate. README.md documents the parameters, the S-curve and the memory per kept row.
package dedupe
