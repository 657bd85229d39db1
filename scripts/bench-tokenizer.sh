#!/usr/bin/env bash
# Time orcaprep's tokenizer against C++ SentencePiece on the same corpus, one core each, and check they agree.
#
#   scripts/bench-tokenizer.sh [LINES]      (default 20000 lines of OpenOrca-like JSONL, ~17 MB, ~3.9M tokens)
#
# orcaprep: `GOMAXPROCS=1 orcaprep tokenize --workers 1` over the JSONL file, timed end to end (JSON parsing and
# output writing included). SentencePiece: Debian python3-sentencepiece 0.1.97, sp.encode(text) called once per
# piece in a single Python thread (special/added tokens split out first, as orcaprep does), timing only the
# encode loop (JSON parsing excluded). Both are pinned to one CPU
# with taskset when available. Prints tokens/s for each and the ratio.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
lines="${1:-20000}"
model="$root/testdata/llama2/tokenizer.model"
"$root/scripts/fetch-llama2-tokenizer.sh"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
corpus="$work/corpus.jsonl"
/usr/bin/python3 "$root/scripts/gen-tokenizer-golden.py" --bench-corpus "$corpus" "$lines"
(cd "$root" && go build -o "$work/orcaprep" ./cmd/orcaprep)

pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi

# Warm the page cache, then time orcaprep.
cat "$corpus" >/dev/null
start=$(date +%s.%N)
GOMAXPROCS=1 "${pin[@]}" "$work/orcaprep" tokenize --workers 1 --tokenizer "$model" --input "$corpus" \
  --added-token '<pad>' --added-token '<|im_start|>' --added-token '<|im_end|>' >"$work/go.jsonl"
end=$(date +%s.%N)
go_secs=$(echo "$end - $start" | bc -l)

"${pin[@]}" /usr/bin/python3 - "$model" "$corpus" "$work/go.jsonl" "$go_secs" <<'PY'
import json, re, sys, time
import sentencepiece as spm
model, corpus, go_out, go_secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
sp = spm.SentencePieceProcessor(model_file=model)
texts = [json.loads(l)["text"] for l in open(corpus, encoding="utf-8")]
mb = sum(len(t.encode()) for t in texts) / 1e6
# Same semantics as orcaprep: special/added tokens split out, each other piece encoded with the dummy prefix.
specials = {"<unk>": 0, "<s>": 1, "</s>": 2, "<pad>": 32000, "<|im_start|>": 32001, "<|im_end|>": 32002}
pat = re.compile("|".join(re.escape(s) for s in sorted(specials, key=len, reverse=True)))
# Split before timing, so that only sp.encode is timed: a list of (special id | text piece) per line.
split = []
for t in texts:
    parts, last = [], 0
    for m in pat.finditer(t):
        if m.start() > last:
            parts.append(t[last:m.start()])
        parts.append(specials[m.group()])
        last = m.end()
    if last < len(t):
        parts.append(t[last:])
    split.append(parts)
enc = sp.encode
t0 = time.perf_counter()
ref = []
for parts in split:
    ids = []
    for p in parts:
        if type(p) is int:
            ids.append(p)
        else:
            ids += enc(p)
    ref.append(ids)
sp_secs = time.perf_counter() - t0
got = [json.loads(l)["ids"] for l in open(go_out)]
bad = sum(1 for a, b in zip(ref, got) if a != b) + abs(len(ref) - len(got))
toks = sum(len(r) for r in ref)
print(f"corpus: {len(texts)} lines, {mb:.1f} MB, {toks} tokens; id mismatches: {bad}")
print(f"sentencepiece (C++ via python, 1 thread, encode only): {sp_secs:.2f} s, {toks/sp_secs/1e6:.2f} M tokens/s")
print(f"orcaprep tokenize (GOMAXPROCS=1, end to end):          {go_secs:.2f} s, {toks/go_secs/1e6:.2f} M tokens/s")
print(f"ratio orcaprep/sentencepiece: {sp_secs/go_secs:.1f}x")
sys.exit(1 if bad else 0)
PY
