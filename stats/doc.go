// Package stats counts what a run read, kept and dropped — the row ledger that must add up, and mergeable,
// memory-bounded distributions (per submix and system prompt, log-binned lengths, duplicate clusters, drop
// reasons with examples) — and defines stats.json (Document).
package stats
