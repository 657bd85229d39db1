#!/usr/bin/env bash
# Installs what orcaprep's tests need beyond Go: the npm packages in scripts/node (DuckDB and arrow-rs via
# parquet-wasm, used to write Parquet with other writers). Idempotent: does nothing when node_modules already
# matches package-lock.json. Needs node ≥ 18 and npm on PATH (Debian: apt-get install nodejs npm).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/node"
if ! command -v npm >/dev/null 2>&1; then
  echo "install-test-deps: npm not found; install Node.js (Debian: apt-get install -y nodejs npm)" >&2
  exit 1
fi
# npm writes node_modules/.package-lock.json after a successful install; skip when it matches the lock file.
if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ] \
   && node -e "require.resolve('@duckdb/node-api'); require.resolve('parquet-wasm'); require.resolve('apache-arrow')" 2>/dev/null; then
  echo "install-test-deps: scripts/node/node_modules is up to date" >&2
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
node -e "import('@duckdb/node-api').then(async (m) => { const c = await (await m.DuckDBInstance.create(':memory:')).connect(); const r = await c.runAndReadAll('SELECT version() AS v'); console.error('install-test-deps: DuckDB ' + r.getRowObjectsJson()[0].v + ' ready'); })"
