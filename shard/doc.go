// Package shard writes JSONL training shards — rotated by rows or bytes, optionally zstd-compressed,
// each under a temporary name until complete — and packs samples into fixed-length sequences.
package shard
