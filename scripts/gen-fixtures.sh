#!/usr/bin/env bash
# Regenerates the committed Parquet fixtures:
#   testdata/sample/openorca-sample.parquet (+ .labels.jsonl, expected.json) — 2,000 synth rows rewritten by DuckDB
#   testdata/parquet/*.parquet, expected.json, README.md — tiny files from DuckDB, arrow-rs (parquet-wasm),
#                                                          parquet-go, and deliberately broken files
# Everything is deterministic: rerunning it on an unchanged tree leaves `git status` clean.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/install-test-deps.sh

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# ORCAPREP may name a prebuilt binary (for example while the tree does not build).
bin="${ORCAPREP:-$tmp/orcaprep}"
[ -n "${ORCAPREP:-}" ] || go build -o "$bin" ./cmd/orcaprep
"$bin" synth --rows 20000 --seed 1 --out "$tmp/src.parquet" --labels "$tmp/src.labels.jsonl"
"$bin" synth --rows 2000 --seed 2026 --out "$tmp/sample.parquet" --labels "$tmp/sample.labels.jsonl"
"$bin" synth --rows 120 --seed 3 --invalid-utf8-rate 0.05 --out "$tmp/invalid.parquet" --labels "$tmp/invalid.labels.jsonl"

cd scripts/node
node gen-fixtures.mjs \
  --src "$tmp/src.parquet" --src-labels "$tmp/src.labels.jsonl" \
  --sample-src "$tmp/sample.parquet" --sample-labels "$tmp/sample.labels.jsonl" \
  --invalid-src "$tmp/invalid.parquet" --invalid-labels "$tmp/invalid.labels.jsonl" \
  --parquet-dir ../../testdata/parquet --sample-dir ../../testdata/sample
